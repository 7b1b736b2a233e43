/**
 * The point feed's worker and the page, as messages (issue 15). The worker
 * fetches GET /walls/points.bin, decodes it and builds the cluster index
 * (pointIndex.ts) off the page's main thread, then posts the feed's columns
 * and the index's arrays as transferables: the page gets a ready index for the
 * cost of a message, nothing is copied or computed again.
 *
 * Why a worker (measured with `MAP_BENCH_TRACE`, map README): under software
 * WebGL each maplibre frame holds the main thread 50–280 ms waiting for the
 * GPU process, so a feed that had fully arrived waited up to 0.6 s for the
 * main thread to read it and another 0.05–0.25 s to index it. In the worker
 * both happen while the page draws, and the fetch starts as the page's script
 * runs (main.tsx), before the session, the screen and maplibre.
 *
 * No DOM and no maplibre: the node tests drive `PointFeedWorker` with a fake
 * fetch (tests/map/point-worker.test.ts).
 */
// Relative, not '@api/…': the node tests type-check this file with the root tsconfig, which has no alias.
import { decodePointFeed, type PointColumns } from '../../../server/src/api/point-feed.ts';
import { PointIndex, type PointIndexParts } from './pointIndex.ts';

/** Page → worker. */
export type PointWorkerRequest =
  /** `url`: absolute (a worker resolves relative URLs against its own script). `bearer`: a kiosk window's token. */
  { type: 'load'; id: number; url: string; bearer: string | null } | { type: 'cancel'; id: number };

/** Worker → page: one answer per load that was not cancelled. */
export type PointWorkerReply =
  | {
      type: 'index';
      id: number;
      columns: PointColumns;
      parts: PointIndexParts;
      /** Where the worker's time went (ms), for the benchmark's phases. */
      ms: { fetch: number; index: number };
    }
  /** `status` 0: the network failed (as the client's NETWORK_ERROR_STATUS). */
  | { type: 'error'; id: number; status: number; code: string; message: string };

export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<{
  ok: boolean;
  status: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** A reply with the buffers to transfer alongside it (postMessage's second argument). */
export interface Outgoing {
  reply: PointWorkerReply;
  transfer: ArrayBuffer[];
}

const isAbortError = (err: unknown) => err instanceof Error && err.name === 'AbortError';

/** The worker's side: loads in flight by id; a cancelled load answers nothing. */
export class PointFeedWorker {
  private readonly inFlight = new Map<number, AbortController>();
  private readonly fetchFn: FetchLike;
  private readonly post: (out: Outgoing) => void;
  private readonly now: () => number;

  constructor(fetchFn: FetchLike, post: (out: Outgoing) => void, now: () => number = () => performance.now()) {
    this.fetchFn = fetchFn;
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
    const out = await this.load(req, controller.signal);
    if (this.inFlight.get(req.id) !== controller) return;
    this.inFlight.delete(req.id);
    this.post(out);
  }

  private async load(req: Extract<PointWorkerRequest, { type: 'load' }>, signal: AbortSignal): Promise<Outgoing> {
    const { id } = req;
    const error = (status: number, code: string, message: string): Outgoing => ({
      reply: { type: 'error', id, status, code, message },
      transfer: [],
    });
    const t0 = this.now();
    let buffer: ArrayBuffer;
    try {
      const headers: Record<string, string> = {};
      if (req.bearer) headers['Authorization'] = `Bearer ${req.bearer}`;
      const res = await this.fetchFn(req.url, { headers, signal });
      if (!res.ok) return error(res.status, 'point_feed', `points.bin: ${res.status}`);
      buffer = await res.arrayBuffer();
    } catch (err) {
      if (isAbortError(err)) return error(0, 'aborted', 'aborted');
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
          ms: { fetch: t1 - t0, index: this.now() - t1 },
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
