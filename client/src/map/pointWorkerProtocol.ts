/**
 * The point feed's worker and the page, as messages (issue 15). The page
 * fetches GET /walls/points.bin and hands the response's body stream to the
 * worker as it arrives; the worker reads it, decodes it and builds the
 * cluster index (pointIndex.ts) off the page's main thread, then posts the
 * feed's columns and the index's arrays as transferables: the page gets a
 * ready index for the cost of a message, nothing is copied or computed again.
 *
 * Why a worker (measured with `MAP_BENCH_TRACE`, map README): under software
 * WebGL each maplibre frame holds the main thread 50–280 ms waiting for the
 * GPU process, so a feed that had fully arrived waited up to 0.6 s for the
 * main thread to read it and another 0.05–0.25 s to index it. In the worker
 * both happen while the page draws, and the fetch starts as the page's script
 * runs (main.tsx), before the session, the screen and maplibre. The page, not
 * the worker, fetches: a worker's own fetch waited for the worker to start
 * (0.15–0.35 s on the loaded machine), which put the index just after the
 * map's mount instead of before it.
 *
 * No DOM and no maplibre: the node tests drive `PointFeedWorker` with streams
 * and buffers of their own (tests/map/point-worker.test.ts).
 */
// Relative, not '@api/…': the node tests type-check this file with the root tsconfig, which has no alias.
import { decodePointFeed, type PointColumns } from '../../../server/src/api/point-feed.ts';
import { PointIndex, type PointIndexParts } from './pointIndex.ts';

/** Page → worker. */
export type PointWorkerRequest =
  /**
   * The feed's body: the page fetched it and moved the response's stream here (postMessage transfers a
   * ReadableStream), so the bytes never pass through the page's main thread; an ArrayBuffer where the browser
   * cannot transfer streams.
   */
  { type: 'index'; id: number; body: ReadableStream<Uint8Array> | ArrayBuffer } | { type: 'cancel'; id: number };

/** Worker → page: one answer per request that was not cancelled. */
export type PointWorkerReply =
  | {
      type: 'index';
      id: number;
      columns: PointColumns;
      parts: PointIndexParts;
      /** Where the worker's time went (ms), for the benchmark's phases: reading the body, building the index. */
      ms: { read: number; index: number };
    }
  /** `status` 0: the body was cut off (as the client's NETWORK_ERROR_STATUS), or not a feed. */
  | { type: 'error'; id: number; status: number; code: string; message: string };

/** A reply with the buffers to transfer alongside it (postMessage's second argument). */
export interface Outgoing {
  reply: PointWorkerReply;
  transfer: ArrayBuffer[];
}

/** Reads a stream to its end into one buffer; stops (rejects) when `signal` aborts. */
async function readAll(body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<ArrayBuffer> {
  const reader = body.getReader();
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', cancel);
  try {
    const chunks: Uint8Array[] = [];
    let length = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) throw new DOMException('aborted', 'AbortError');
      if (done) break;
      chunks.push(value);
      length += value.byteLength;
    }
    const out = new Uint8Array(length);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out.buffer;
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

/** The worker's side: requests in flight by id; a cancelled one answers nothing. */
export class PointFeedWorker {
  private readonly inFlight = new Map<number, AbortController>();
  private readonly post: (out: Outgoing) => void;
  private readonly now: () => number;

  constructor(post: (out: Outgoing) => void, now: () => number = () => performance.now()) {
    this.post = post;
    this.now = now;
  }

  /** Resolves when the request has been answered (or dropped); the tests await it. */
  async handle(req: PointWorkerRequest): Promise<void> {
    if (req.type === 'cancel') {
      this.inFlight.get(req.id)?.abort();
      this.inFlight.delete(req.id);
      return;
    }
    const controller = new AbortController();
    this.inFlight.set(req.id, controller);
    const out = await this.index(req, controller.signal);
    if (this.inFlight.get(req.id) !== controller) return;
    this.inFlight.delete(req.id);
    try {
      this.post(out);
    } catch (err) {
      // A reply that cannot be posted (a buffer that cannot be transferred) still answers: the page must
      // never wait for an index that will not come.
      const message = err instanceof Error ? err.message : String(err);
      this.post({ reply: { type: 'error', id: req.id, status: 0, code: 'point_feed', message }, transfer: [] });
    }
  }

  private async index(req: Extract<PointWorkerRequest, { type: 'index' }>, signal: AbortSignal): Promise<Outgoing> {
    const { id } = req;
    const error = (status: number, code: string, message: string): Outgoing => ({
      reply: { type: 'error', id, status, code, message },
      transfer: [],
    });
    const t0 = this.now();
    let buffer: ArrayBuffer;
    try {
      buffer = req.body instanceof ArrayBuffer ? req.body : await readAll(req.body, signal);
    } catch (err) {
      return error(0, 'network', err instanceof Error ? err.message : String(err));
    }
    const t1 = this.now();
    try {
      const index = new PointIndex(decodePointFeed(buffer));
      return {
        reply: {
          type: 'index',
          id,
          columns: index.columns,
          parts: index.parts(),
          ms: { read: t1 - t0, index: this.now() - t1 },
        },
        transfer: index.transferables(),
      };
    } catch (err) {
      return error(0, 'point_feed', err instanceof Error ? err.message : String(err));
    }
  }
}

/** The page's side: the index a reply carries (its arrays were transferred, not copied). */
export function indexFromReply(reply: Extract<PointWorkerReply, { type: 'index' }>): PointIndex {
  return new PointIndex(reply.columns, reply.parts);
}
