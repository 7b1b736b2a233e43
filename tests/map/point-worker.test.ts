/**
 * The point feed's worker protocol (issue 15), without a browser: the page
 * hands the worker the feed's body (a stream, or a buffer); the worker builds
 * the cluster index and posts it with every buffer as a transferable; the
 * page rebuilds an index that answers exactly as one built in the page
 * (views, expansion zooms, status deltas). A body cut off or not a feed comes
 * back as an error, a cancelled request answers nothing.
 */
import { describe, expect, it } from 'vitest';
import { STATUS_CODES, decodePointFeed, encodePointFeed } from '../../server/src/api/point-feed.ts';
import { CLUSTER_MAX_ZOOM, PointIndex, type ClusterProps } from '../../client/src/map/pointIndex.ts';
import {
  PointFeedWorker,
  indexFromReply,
  type Outgoing,
  type PointWorkerReply,
} from '../../client/src/map/pointWorkerProtocol.ts';

const WORLD: [number, number, number, number] = [-180, -85, 180, 85];
const STATUSES = ['online', 'degraded', 'offline', 'unknown'] as const;

function county(n: number): (string | number)[][] {
  let s = 11;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, (_, i) => [
    5000 + i,
    118.5 + rnd() * 0.6,
    30.7 + rnd() * 0.5,
    ['xueliang', 'tianwang', 'huiyan'][i % 3]!,
    STATUSES[i % 4]!,
  ]);
}

const feedBytes = (rows: (string | number)[][]): ArrayBuffer => {
  const bytes = encodePointFeed(rows);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
};

/** The body as a response streams it: in chunks of `size` bytes. */
function streamOf(buffer: ArrayBuffer, size = 4096): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= buffer.byteLength) return controller.close();
      controller.enqueue(new Uint8Array(buffer.slice(at, at + size)));
      at += size;
    },
  });
}

/** A worker; `posted` holds what it sent, as the page receives it (structured clone with the buffers moved). */
function harness() {
  const posted: PointWorkerReply[] = [];
  const sent: Outgoing[] = [];
  const worker = new PointFeedWorker((out) => {
    sent.push(out);
    posted.push(structuredClone(out.reply, { transfer: out.transfer }));
  });
  return { worker, posted, sent };
}

describe('point worker', () => {
  it('indexes a streamed body and posts an index the page rebuilds as it is, every buffer transferred', async () => {
    const rows = county(3000);
    const { worker, posted, sent } = harness();
    await worker.handle({ type: 'index', id: 1, body: streamOf(feedBytes(rows)) });
    expect(posted).toHaveLength(1);
    const reply = posted[0]!;
    if (reply.type !== 'index') throw new Error(`expected an index, got ${JSON.stringify(reply)}`);
    expect(reply.id).toBe(1);
    // The feed's columns and every level's arrays went with the message, moved: the worker's are detached.
    const out = sent[0]!.reply as Extract<PointWorkerReply, { type: 'index' }>;
    expect(sent[0]!.transfer).toContain(out.columns.ids.buffer);
    expect(sent[0]!.transfer.length).toBeGreaterThan((CLUSTER_MAX_ZOOM + 1) * 6);
    expect(out.columns.ids.length).toBe(0);
    expect(out.parts.levels[3]!.codes.length).toBe(0);

    const page = indexFromReply(reply);
    const direct = new PointIndex(decodePointFeed(feedBytes(rows)));
    expect(page.count).toBe(3000);
    for (let z = 0; z <= CLUSTER_MAX_ZOOM + 1; z++) expect(page.view(WORLD, z)).toEqual(direct.view(WORLD, z));
    const cluster = page.view(WORLD, 9).find((f) => 'cluster' in f.properties)!;
    const id = (cluster.properties as ClusterProps).cluster_id;
    expect(page.expansionZoom(id)).toBe(direct.expansionZoom(id));
    // Deltas work on the received index: the same status change moves the same counts.
    const offline = rows.find((r) => r[4] === 'offline')!;
    expect(page.setStatus(Number(offline[0]), STATUS_CODES.online)).toBe(true);
    direct.setStatus(Number(offline[0]), STATUS_CODES.online);
    expect(page.view(WORLD, 5)).toEqual(direct.view(WORLD, 5));
  });

  it('indexes a body the page had to read itself (a buffer)', async () => {
    const { worker, posted } = harness();
    await worker.handle({ type: 'index', id: 2, body: feedBytes(county(40)) });
    expect(posted[0]).toMatchObject({ type: 'index', id: 2 });
    expect(indexFromReply(posted[0] as Extract<PointWorkerReply, { type: 'index' }>).count).toBe(40);
  });

  it('answers a body cut off, or one that is not a feed, as an error', async () => {
    const { worker, posted } = harness();
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(8));
        controller.error(new TypeError('network error'));
      },
    });
    await worker.handle({ type: 'index', id: 8, body: broken });
    await worker.handle({ type: 'index', id: 9, body: streamOf(new Uint8Array(16).buffer) });
    const full = feedBytes(county(10));
    await worker.handle({ type: 'index', id: 10, body: full.slice(0, full.byteLength - 3) });
    expect(posted).toEqual([
      { type: 'error', id: 8, status: 0, code: 'network', message: 'network error' },
      { type: 'error', id: 9, status: 0, code: 'point_feed', message: 'point feed: not a point feed' },
      expect.objectContaining({ type: 'error', id: 10, code: 'point_feed' }),
    ]);
  });

  it('answers nothing for a cancelled request, and stops reading its body', async () => {
    const { worker, posted } = harness();
    let cancelled = false;
    // A body whose rest never comes (the server still sending).
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(8));
      },
      cancel() {
        cancelled = true;
      },
    });
    const indexing = worker.handle({ type: 'index', id: 3, body: stalled });
    await worker.handle({ type: 'cancel', id: 3 });
    await indexing;
    expect(cancelled).toBe(true);
    expect(posted).toEqual([]);
  });

  it('answers with an error when the index cannot be posted, so the page never waits for it', async () => {
    const posted: PointWorkerReply[] = [];
    const worker = new PointFeedWorker((out) => {
      if (out.reply.type === 'index') throw new DOMException('ArrayBuffer is detached', 'DataCloneError');
      posted.push(out.reply);
    });
    await worker.handle({ type: 'index', id: 4, body: feedBytes(county(5)) });
    expect(posted).toEqual([
      { type: 'error', id: 4, status: 0, code: 'point_feed', message: 'ArrayBuffer is detached' },
    ]);
  });

  it('refuses parts that were built over another feed', () => {
    const a = new PointIndex(decodePointFeed(feedBytes(county(10))));
    const b = decodePointFeed(feedBytes(county(11)));
    expect(() => new PointIndex(b, a.parts())).toThrow(/do not match/);
  });
});
