/**
 * The page's way to a cluster index of the point feed (issue 15): the page
 * fetches the feed and moves the response's body to the point worker
 * (pointWorker.ts), which reads, decodes and indexes it off the main thread
 * and hands the arrays back; done in the page instead when the browser cannot
 * start the worker.
 *
 * The wall asks for its feed as the page's script starts (main.tsx →
 * `prefetchPointIndex`), long before the map mounts; the map takes that
 * answer (`takePrefetched`), and when it is already there as the map is made
 * (`peekPrefetched`), the map opens on the fitted view at once instead of
 * moving there later and loading the basemap twice.
 */
import { API_BASE, ApiError, NETWORK_ERROR_STATUS, isAbort, windowSession } from '../api.ts';
import { decodePointFeed } from '@api/point-feed.ts';
import { PointIndex } from './pointIndex.ts';
import { indexFromReply, type PointWorkerReply, type PointWorkerRequest } from './pointWorkerProtocol.ts';

interface Pending {
  resolve: (index: PointIndex) => void;
  reject: (err: unknown) => void;
}

/** undefined: not started yet; null: unavailable (indexes are built in the page). */
let worker: Worker | null | undefined;
const pending = new Map<number, Pending>();
let nextId = 1;

const abortError = () => new DOMException('aborted', 'AbortError');

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
  performance.measure('point-feed:read', { start: end - reply.ms.index - reply.ms.read, duration: reply.ms.read });
  performance.measure('point-feed:index', { start: end - reply.ms.index, duration: reply.ms.index });
  p.resolve(indexFromReply(reply));
}

/**
 * The worker could not run (its script failed to load). What it was given is lost with it (a transferred
 * stream cannot be read again): those loads fail and their callers ask again, now built in the page.
 */
function giveUp(): void {
  worker?.terminate();
  worker = null;
  for (const [id, p] of pending) {
    pending.delete(id);
    p.reject(new ApiError(NETWORK_ERROR_STATUS, 'network', 'point worker failed'));
  }
}

/** Takes the worker wall-boot.js started, when it runs: its handlers become the page's. */
function adoptEarlyWorker(early: EarlyWorker): Worker {
  const w = early.worker;
  worker = w;
  w.onmessage = (e: MessageEvent<PointWorkerReply>) => onReply(e.data);
  w.onerror = giveUp;
  // What it answered before the page listened.
  for (const reply of early.inbox.splice(0)) onReply(reply);
  return w;
}

function getWorker(): Worker | null {
  if (worker !== undefined) return worker;
  const early = window.__wallPointWorker;
  if (early && !early.failed) return adoptEarlyWorker(early);
  try {
    worker = new Worker(new URL('./pointWorker.ts', import.meta.url), { type: 'module', name: 'point-feed' });
    worker.onmessage = (e: MessageEvent<PointWorkerReply>) => onReply(e.data);
    worker.onerror = giveUp;
  } catch {
    worker = null;
  }
  return worker;
}

/** The point worker client/boot/wall-boot.js started before the bundle loaded. */
interface EarlyWorker {
  worker: Worker;
  /** Its answers that came before the page listened. */
  inbox: PointWorkerReply[];
  /** Its script did not start. */
  failed: boolean;
  /** True once the feed's body went to it as request 0; false: the page reads `__wallPointFeed` itself. */
  posted: Promise<boolean> | null;
}

/** The request id of the feed wall-boot.js handed to its worker (the page's own ids start at 1). */
const BOOT_REQUEST = 0;
/** A load has waited on BOOT_REQUEST already. */
let bootRequestTaken = false;

declare global {
  interface Window {
    /** The wall's feed, asked for by client/boot/wall-boot.js before the bundle loaded. */
    __wallPointFeed?: Promise<Response>;
    __wallPointWorker?: EarlyWorker;
  }
}

/** The index of the feed wall-boot.js's worker is building, or null when that worker did not get the feed. */
async function bootIndex(early: EarlyWorker): Promise<PointIndex | null> {
  if (!(await early.posted) || early.failed) return null;
  const result = new Promise<PointIndex>((resolve, reject) => pending.set(BOOT_REQUEST, { resolve, reject }));
  // Adopted only now: an answer that came already waits in the inbox, and finds its request registered.
  if (worker === undefined) adoptEarlyWorker(early);
  else for (const reply of early.inbox.splice(0)) onReply(reply);
  return result;
}

/** GET /walls/points.bin with the window's session (the cookie, or a kiosk window's bearer token). */
function requestFeed(query: string, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = {};
  const bearer = windowSession();
  if (bearer) headers['Authorization'] = `Bearer ${bearer}`;
  return fetch(`${API_BASE}/walls/points.bin${query ? `?${query}` : ''}`, {
    headers,
    credentials: 'same-origin',
    signal,
  });
}

/** The answer, or the client's errors for a network failure and for a refusal. */
async function checked(answer: Promise<Response>): Promise<Response> {
  let res: Response;
  try {
    res = await answer;
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(NETWORK_ERROR_STATUS, 'network', err instanceof Error ? err.message : String(err));
  }
  if (!res.ok) throw new ApiError(res.status, 'point_feed', `points.bin: ${res.status}`);
  return res;
}

/**
 * The feed of `query` (the registry's filters; empty: the whole jurisdiction), indexed. `answer`: the
 * feed's request already made (wall-boot.js).
 */
export async function loadPointIndex(
  query: string,
  signal?: AbortSignal,
  answer?: Promise<Response>,
): Promise<PointIndex> {
  // Started before the answer is awaited: the worker boots while the server answers.
  const w = getWorker();
  const res = await checked(answer ?? requestFeed(query, signal));
  if (!w || !res.body) return new PointIndex(decodePointFeed(await res.arrayBuffer()));
  if (signal?.aborted) throw abortError();
  const id = nextId++;
  const result = new Promise<PointIndex>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    signal?.addEventListener('abort', () => {
      if (!pending.delete(id)) return;
      worker?.postMessage({ type: 'cancel', id } satisfies PointWorkerRequest);
      reject(abortError());
    });
  });
  const body = res.body;
  try {
    w.postMessage({ type: 'index', id, body } satisfies PointWorkerRequest, [body]);
  } catch {
    // A browser that cannot transfer streams: the page reads the body, the worker still indexes it.
    const buffer = await res.arrayBuffer();
    w.postMessage({ type: 'index', id, body: buffer } satisfies PointWorkerRequest, [buffer]);
  }
  return result;
}

interface Early {
  query: string;
  promise: Promise<PointIndex>;
  at: number;
  index: PointIndex | null;
  /** Failed (e.g. asked before the sign-in): not taken, the map asks again. */
  failed: boolean;
}
/** The feed asked for before the map exists: taken by the first map that shows the same query. */
let early: Early | null = null;
/** An early answer older than this is not taken (the registry may have changed meanwhile). */
const EARLY_MAX_AGE_MS = 15_000;

function fresh(query: string): Early | null {
  const e = early;
  return e && e.query === query && !e.failed && performance.now() - e.at < EARLY_MAX_AGE_MS ? e : null;
}

/** Starts fetching and indexing `query`'s feed now (the wall, as the page's script starts). Once per query. */
export function prefetchPointIndex(query = ''): void {
  if (fresh(query)) return;
  const boot = query === '' ? window.__wallPointFeed : undefined;
  // Its request 0 is answered once: a second load waiting on it would take the one answer from the first,
  // which then never settles (seen: a map that never got its points, when the map took the first load and
  // the page asked again).
  const bootWorker = query === '' && !bootRequestTaken ? window.__wallPointWorker : undefined;
  if (bootWorker) bootRequestTaken = true;
  delete window.__wallPointFeed;
  const promise = bootWorker
    ? bootIndex(bootWorker).then((index) => index ?? loadPointIndex(query, undefined, boot))
    : loadPointIndex(query, undefined, boot);
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

/** The prefetched index when it has already arrived (null otherwise): the map opens fitted to it. */
export function peekPrefetched(query = ''): PointIndex | null {
  return fresh(query)?.index ?? null;
}

/** The prefetched feed's index when it comes (not taken: the map still takes it), or null when none is fresh. */
export function whenPrefetched(query = ''): Promise<PointIndex> | null {
  return fresh(query)?.promise ?? null;
}

/** The prefetched feed, once: a later load fetches again. */
export function takePrefetched(query = ''): Promise<PointIndex> | null {
  const e = fresh(query);
  early = null;
  return e?.promise ?? null;
}
