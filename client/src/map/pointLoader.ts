/**
 * The page's way to a cluster index of the point feed (issue 15): asked of
 * the point worker (pointWorker.ts), which fetches and indexes off the main
 * thread and hands the arrays over; done in the page instead when the
 * browser cannot start the worker.
 *
 * The wall asks for its feed as the page's script starts (main.tsx →
 * `prefetchPointIndex`), long before the map mounts; the map takes that
 * answer (`takePrefetched`), and when it is already there as the map is made
 * (`peekPrefetched`), the map opens on the fitted view at once instead of
 * moving there later and loading the basemap twice.
 */
import { ApiError, API_BASE, windowSession } from '../api.ts';
import { fetchPointFeed } from './pointFeed.ts';
import { PointIndex } from './pointIndex.ts';
import { indexFromReply, type PointWorkerReply, type PointWorkerRequest } from './pointWorkerProtocol.ts';

interface Pending {
  request: Extract<PointWorkerRequest, { type: 'load' }>;
  query: string;
  resolve: (index: PointIndex) => void;
  reject: (err: unknown) => void;
}

/** undefined: not started yet; null: unavailable (the loads run in the page). */
let worker: Worker | null | undefined;
const pending = new Map<number, Pending>();
let nextId = 1;

const abortError = () => new DOMException('aborted', 'AbortError');

function inPage(query: string, signal?: AbortSignal): Promise<PointIndex> {
  return fetchPointFeed(query, signal).then((columns) => new PointIndex(columns));
}

function onReply(reply: PointWorkerReply): void {
  const p = pending.get(reply.id);
  if (!p) return;
  pending.delete(reply.id);
  if (reply.type === 'error') {
    p.reject(new ApiError(reply.status, reply.code, reply.message));
    return;
  }
  // The worker's phases on the page's clock, for the benchmark (npm run bench:map).
  const end = performance.now();
  performance.measure('point-feed:fetch', { start: end - reply.ms.index - reply.ms.fetch, duration: reply.ms.fetch });
  performance.measure('point-feed:index', { start: end - reply.ms.index, duration: reply.ms.index });
  performance.mark('point-feed:received');
  p.resolve(indexFromReply(reply));
}

/** The worker could not run (its script failed to load): every load in flight is done in the page. */
function giveUp(): void {
  worker?.terminate();
  worker = null;
  for (const [id, p] of pending) {
    pending.delete(id);
    inPage(p.query).then(p.resolve, p.reject);
  }
}

function getWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./pointWorker.ts', import.meta.url), { type: 'module', name: 'point-feed' });
    worker.onmessage = (e: MessageEvent<PointWorkerReply>) => onReply(e.data);
    worker.onerror = giveUp;
  } catch {
    worker = null;
  }
  return worker;
}

/** The feed of `query` (the registry's filters; empty: the whole jurisdiction), indexed. */
export function loadPointIndex(query: string, signal?: AbortSignal): Promise<PointIndex> {
  const w = getWorker();
  if (!w) return inPage(query, signal);
  if (signal?.aborted) return Promise.reject(abortError());
  return new Promise<PointIndex>((resolve, reject) => {
    const id = nextId++;
    const url = new URL(`${API_BASE}/walls/points.bin${query ? `?${query}` : ''}`, window.location.href).href;
    const request: PointWorkerRequest = { type: 'load', id, url, bearer: windowSession() };
    pending.set(id, { request, query, resolve, reject });
    signal?.addEventListener('abort', () => {
      if (!pending.delete(id)) return;
      worker?.postMessage({ type: 'cancel', id } satisfies PointWorkerRequest);
      reject(abortError());
    });
    w.postMessage(request);
  });
}

/** The feed asked for before the map exists: taken by the first map that shows the same query. */
interface Early {
  query: string;
  promise: Promise<PointIndex>;
  at: number;
  index: PointIndex | null;
  /** Failed (e.g. asked before the sign-in): not taken, the map asks again. */
  failed: boolean;
}
let early: Early | null = null;
/** An early answer older than this is not taken (the registry may have changed meanwhile). */
const EARLY_MAX_AGE_MS = 15_000;

/** Starts fetching and indexing `query`'s feed now (the wall, as the page's script starts). Once per query. */
export function prefetchPointIndex(query = ''): void {
  if (fresh(query)) return;
  const promise = loadPointIndex(query);
  const entry: Early = { query, promise, at: performance.now(), index: null, failed: false };
  // Taken (and its failure handled) by the map; a page that never shows the map drops it.
  promise.then(
    (index) => {
      entry.index = index;
    },
    () => {
      entry.failed = true;
    },
  );
  early = entry;
}

function fresh(query: string): Early | null {
  const e = early;
  return e && e.query === query && !e.failed && performance.now() - e.at < EARLY_MAX_AGE_MS ? e : null;
}

/** The prefetched index when it has already arrived (null otherwise): the map opens fitted to it. */
export function peekPrefetched(query = ''): PointIndex | null {
  return fresh(query)?.index ?? null;
}

/** The prefetched feed, once: a later load fetches again. */
export function takePrefetched(query = ''): Promise<PointIndex> | null {
  const e = fresh(query);
  early = null;
  return e?.promise ?? null;
}
