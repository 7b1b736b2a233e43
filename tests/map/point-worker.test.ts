/**
 * The point feed's worker protocol (issue 15), without a browser: the worker
 * fetches the feed, builds the cluster index and posts it with every buffer
 * as a transferable; the page rebuilds an index that answers exactly as one
 * built in the page (views, expansion zooms, status deltas). HTTP and network
 * failures come back as errors with their status, a cancelled load answers
 * nothing, a kiosk window's token goes with the request.
 */
import { describe, expect, it } from 'vitest';
import { STATUS_CODES, decodePointFeed, encodePointFeed } from '../../server/src/api/point-feed.ts';
import { CLUSTER_MAX_ZOOM, PointIndex, type ClusterProps } from '../../client/src/map/pointIndex.ts';
import {
  PointFeedWorker,
  indexFromReply,
  type FetchLike,
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

/** A worker over a fake fetch; `posted` holds what it sent to the page, as the page receives it (transferred). */
function harness(fetchFn: FetchLike) {
  const posted: PointWorkerReply[] = [];
  const sent: Outgoing[] = [];
  const worker = new PointFeedWorker(fetchFn, (out) => {
    sent.push(out);
    // What postMessage does: a structured clone with these buffers moved, not copied.
    posted.push(structuredClone(out.reply, { transfer: out.transfer }));
  });
  return { worker, posted, sent };
}

const answer = (body: ArrayBuffer, status = 200): ReturnType<FetchLike> =>
  Promise.resolve({ ok: status < 300, status, arrayBuffer: () => Promise.resolve(body) });

const URL_ = 'http://127.0.0.1:1/api/v1/walls/points.bin';

describe('point worker', () => {
  it('posts an index the page rebuilds as it is, every buffer transferred', async () => {
    const rows = county(3000);
    const body = feedBytes(rows);
    const { worker, posted, sent } = harness(() => answer(body));
    await worker.handle({ type: 'load', id: 1, url: URL_, bearer: null });
    expect(posted).toHaveLength(1);
    const reply = posted[0]!;
    if (reply.type !== 'index') throw new Error(`expected an index, got ${JSON.stringify(reply)}`);
    expect(reply.id).toBe(1);
    // The feed's own buffer went with the message (moved: the worker's copy is detached), and every level's.
    expect(sent[0]!.transfer).toContain(body);
    expect(body.byteLength).toBe(0);
    expect(sent[0]!.transfer.length).toBeGreaterThan((CLUSTER_MAX_ZOOM + 1) * 6);

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

  it('answers an HTTP refusal and a network failure as errors with their status', async () => {
    const refused = harness(() => answer(new ArrayBuffer(0), 403));
    await refused.worker.handle({ type: 'load', id: 7, url: URL_, bearer: null });
    expect(refused.posted).toEqual([
      { type: 'error', id: 7, status: 403, code: 'point_feed', message: 'points.bin: 403' },
    ]);

    const down = harness(() => Promise.reject(new TypeError('Failed to fetch')));
    await down.worker.handle({ type: 'load', id: 8, url: URL_, bearer: null });
    expect(down.posted).toEqual([{ type: 'error', id: 8, status: 0, code: 'network', message: 'Failed to fetch' }]);

    const garbage = harness(() => answer(new Uint8Array(16).buffer));
    await garbage.worker.handle({ type: 'load', id: 9, url: URL_, bearer: null });
    expect(garbage.posted[0]).toMatchObject({ type: 'error', id: 9, code: 'point_feed' });
  });

  it('answers nothing for a cancelled load, and aborts its fetch', async () => {
    let signal: AbortSignal | undefined;
    const { worker, posted } = harness((_url, init) => {
      signal = init.signal;
      return new Promise((_resolve, reject) =>
        init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    });
    const loading = worker.handle({ type: 'load', id: 3, url: URL_, bearer: null });
    await worker.handle({ type: 'cancel', id: 3 });
    await loading;
    expect(signal?.aborted).toBe(true);
    expect(posted).toEqual([]);
  });

  it("sends a kiosk window's token, and none otherwise", async () => {
    const seen: Record<string, string>[] = [];
    const { worker } = harness((_url, init) => {
      seen.push(init.headers);
      return answer(feedBytes(county(3)));
    });
    await worker.handle({ type: 'load', id: 1, url: URL_, bearer: 'k-token' });
    await worker.handle({ type: 'load', id: 2, url: URL_, bearer: null });
    expect(seen).toEqual([{ Authorization: 'Bearer k-token' }, {}]);
  });

  it('refuses parts that were built over another feed', () => {
    const a = new PointIndex(decodePointFeed(feedBytes(county(10))));
    const b = decodePointFeed(feedBytes(county(11)));
    expect(() => new PointIndex(b, a.parts())).toThrow(/do not match/);
  });
});
