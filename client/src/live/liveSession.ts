/**
 * One live tile's player, without React: ticket → hls.js → <video>, and every
 * way that can go wrong on a wall left running for weeks. The component owns
 * the element and the lifetime; this owns the recovery.
 *
 * - Fatal hls.js errors, a refused token (401/403) or a stalled picture tear the
 *   player down and rebuild it with a fresh ticket after a backoff.
 * - The ticket is renewed before it expires by swapping the token in the URL of
 *   every later request (the relay serves one session under any valid token of
 *   the same camera and quality), so the picture does not blink.
 * - Ticket answers that will not change by retrying (404, 409, 403) stop and
 *   wait for the user; a wall gets them only after a registry edit.
 */
import type HlsType from 'hls.js';
import type { ErrorData, HlsConfig, LoaderResponse, RetryConfig } from 'hls.js';
import type { StreamState, StreamStateEvent } from '@api/contract.ts';
import { ApiError, NETWORK_ERROR_STATUS, isAbort, windowSession, type TicketGrant } from '../api.ts';
import { FrameRateMeter } from './frameRate.ts';
import { tickClock } from './pageFreeze.ts';

export type Quality = 'main' | 'sub';

/** What the tile shows; `data-state` on the tile carries it for tests. */
export type TileState = 'idle' | 'loading' | 'live' | 'reconnecting' | 'error';

/** Why a tile is not live, as a code the component translates; `detail` is the server's own words. */
export type LiveReason =
  | 'not_found'
  | 'no_stream'
  | 'unreachable'
  | 'busy'
  | 'unavailable'
  | 'bad_source'
  | 'forbidden'
  | 'session'
  | 'network'
  | 'expired'
  | 'stalled'
  | 'timeout'
  | 'media'
  | 'unsupported'
  | 'server';

export interface TileView {
  state: TileState;
  reason: LiveReason | null;
  detail: string | null;
  /** True when retrying will not help by itself: the tile offers a retry button. */
  permanent: boolean;
}

export const IDLE_VIEW: TileView = { state: 'idle', reason: null, detail: null, permanent: false };

/** Delays before each successive rebuild; the last one repeats. */
export const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000] as const;
/** currentTime frozen this long while live: shown as reconnecting. */
const BUFFERING_AFTER_MS = 3_000;
/** currentTime frozen this long while live: the player is rebuilt. */
const STALL_REBUILD_MS = 8_000;
/** No first frame this long after attaching: rebuilt. */
const FIRST_FRAME_TIMEOUT_MS = 25_000;
/** Consecutive failures after which the tile says offline rather than reconnecting. */
const OFFLINE_AFTER_FAILURES = 3;
/** Renew this long before the ticket expires (at most a fifth of its life). */
const RENEW_LEAD_MS = 60_000;
const RENEW_RETRY_MS = 10_000;

export function backoffDelay(attempt: number): number {
  return BACKOFF_MS[Math.min(Math.max(attempt, 0), BACKOFF_MS.length - 1)]!;
}

/** When to renew a ticket that is valid for `ttlMs` more. */
export function renewDelay(ttlMs: number): number {
  return Math.max(5_000, ttlMs - Math.min(RENEW_LEAD_MS, ttlMs / 5));
}

const TOKEN_PATH = /^\/streams\/([^/]+)\//;

/** The token of a playlist URL `/streams/<token>/index.m3u8`, or null for any other shape. */
export function streamToken(url: string): string | null {
  return TOKEN_PATH.exec(new URL(url, window.location.href).pathname)?.[1] ?? null;
}

/** The same URL under another token (playlist and segments are relative to it). */
export function withToken(url: string, token: string): string {
  const u = new URL(url, window.location.href);
  const m = TOKEN_PATH.exec(u.pathname);
  if (!m) return url;
  u.pathname = `/streams/${token}/${u.pathname.slice(m[0].length)}`;
  return u.toString();
}

interface Failure {
  reason: LiveReason;
  detail: string | null;
  permanent: boolean;
  /** Wait at least this long (Retry-After). */
  minDelayMs: number;
  /** Show offline at once instead of reconnecting. */
  offline: boolean;
}

export function ticketFailure(err: unknown): Failure {
  const base = { detail: null, permanent: false, minDelayMs: 0, offline: false };
  if (!(err instanceof ApiError)) {
    return { ...base, reason: 'server', detail: err instanceof Error ? err.message : String(err), offline: true };
  }
  const retryMs = (err.retryAfterSeconds ?? 0) * 1000;
  switch (err.status) {
    case NETWORK_ERROR_STATUS:
      return { ...base, reason: 'network' };
    case 401:
      return { ...base, reason: 'session', permanent: true, offline: true };
    case 403:
      return { ...base, reason: 'forbidden', permanent: true, offline: true };
    case 404:
      return { ...base, reason: 'not_found', permanent: true, offline: true };
    case 409:
      return { ...base, reason: 'no_stream', detail: err.message, permanent: true, offline: true };
    case 502:
      return { ...base, reason: 'unreachable', detail: err.message, offline: true };
    case 503:
      // No media plane on this server (a configuration matter); retried slowly in case it is being restarted.
      if (err.code === 'relay_unavailable') {
        return { ...base, reason: 'unavailable', minDelayMs: backoffDelay(Infinity), offline: true };
      }
      return { ...base, reason: 'busy', detail: err.message, minDelayMs: retryMs, offline: true };
    case 429:
      return { ...base, reason: 'busy', detail: err.message, minDelayMs: retryMs, offline: true };
    default:
      // Any other refusal (422: a stream address the relay will not open) needs a registry edit.
      if (err.status >= 400 && err.status < 500 && err.status !== 408) {
        return { ...base, reason: 'bad_source', detail: err.message, permanent: true, offline: true };
      }
      return { ...base, reason: 'server', detail: err.message, offline: err.status >= 500 };
  }
}

/** hls.js retries 4xx never; a playlist still being written may 404 for a moment after a 'starting' ticket. */
const retryWhileStarting: RetryConfig['shouldRetry'] = (
  config: RetryConfig | null | undefined,
  count: number,
  _timeout: boolean,
  response: LoaderResponse | undefined,
  retry: boolean,
) => retry || (response?.code === 404 && !!config && count < config.maxNumRetry);

/**
 * Live HLS from the relay: 1 s segments, a list of about 24 s (a player held up by a stall finds its segments). Two segments
 * behind the edge keeps latency near 2–3 s; catching up at 1.1× is invisible.
 */
export const LIVE_HLS_CONFIG: Partial<HlsConfig> = {
  enableWorker: true,
  lowLatencyMode: false,
  liveSyncDurationCount: 2,
  liveMaxLatencyDurationCount: 6,
  maxLiveSyncPlaybackRate: 1.1,
  backBufferLength: 4,
  maxBufferLength: 8,
  maxMaxBufferLength: 16,
  initialLiveManifestSize: 1,
  manifestLoadPolicy: {
    default: {
      maxTimeToFirstByteMs: 10_000,
      maxLoadTimeMs: 15_000,
      timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
      errorRetry: { maxNumRetry: 8, retryDelayMs: 1_000, maxRetryDelayMs: 2_000, shouldRetry: retryWhileStarting },
    },
  },
};

export interface LiveSessionOptions {
  video: HTMLVideoElement;
  quality: Quality;
  requestTicket: (quality: Quality, signal: AbortSignal) => Promise<TicketGrant>;
  onView: (view: TileView) => void;
  /** hls.js is loaded on first use: the registry works without the 500 kB player. */
  loadHls: () => Promise<{ Hls: typeof HlsType; workerPath: string | null }>;
  /** The frame rate measured on the picture itself (frameRate.ts), whole frames per second; null while unknown. */
  onFrameRate?: (fps: number | null) => void;
}

type Phase = 'loading' | 'live' | 'reconnecting' | 'error';

export class LiveSession {
  readonly #o: LiveSessionOptions;
  #hls: HlsType | null = null;
  #token: string | null = null;
  #generation = 0;
  #disposed = false;
  #abort: AbortController | null = null;
  #retryTimer: number | undefined;
  #renewTimer: number | undefined;
  #watchdog: number | undefined;
  #phase: Phase = 'loading';
  #failure: Failure | null = null;
  #failures = 0;
  #server: { state: StreamState; reason: string | null } | null = null;
  #attachedAt = 0;
  readonly #ticks = tickClock(1_000);
  #lastTime = -1;
  #lastAdvance = 0;
  #buffering = false;
  #mediaRecovered = false;
  #lastView = '';
  readonly #frames = new FrameRateMeter();
  #fps: number | null = null;

  constructor(options: LiveSessionOptions) {
    this.#o = options;
  }

  start(): void {
    const { video } = this.#o;
    video.muted = true;
    video.playsInline = true;
    video.addEventListener('timeupdate', this.#onProgress);
    video.addEventListener('seeking', this.#onSeeking);
    video.addEventListener('playing', this.#onProgress);
    this.#watchdog = window.setInterval(this.#tick, 1_000);
    this.#emit();
    void this.#acquire();
  }

  /** Tears everything down; safe to call twice. */
  destroy(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#generation++;
    window.clearTimeout(this.#retryTimer);
    window.clearTimeout(this.#renewTimer);
    window.clearInterval(this.#watchdog);
    this.#abort?.abort();
    this.#teardownPlayer();
    const { video } = this.#o;
    video.removeEventListener('timeupdate', this.#onProgress);
    video.removeEventListener('seeking', this.#onSeeking);
    video.removeEventListener('playing', this.#onProgress);
  }

  /** Manual retry after a permanent failure (or impatience). */
  retry(): void {
    if (this.#disposed) return;
    this.#failures = 0;
    this.#failure = null;
    this.#phase = 'loading';
    this.#emit();
    void this.#acquire();
  }

  /** The relay's own view of this camera and quality ('stream:state'). */
  serverState(event: StreamStateEvent): void {
    if (event.quality !== this.#o.quality) return;
    this.#server = { state: event.state, reason: event.reason };
    this.#emit();
  }

  // ------------------------------------------------------------ ticket and player

  async #acquire(): Promise<void> {
    const generation = ++this.#generation;
    window.clearTimeout(this.#retryTimer);
    window.clearTimeout(this.#renewTimer);
    this.#teardownPlayer();
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    let grant: TicketGrant;
    try {
      grant = await this.#o.requestTicket(this.#o.quality, abort.signal);
    } catch (err) {
      if (generation !== this.#generation || isAbort(err)) return;
      this.#fail(ticketFailure(err));
      return;
    }
    if (generation !== this.#generation) return;
    this.#server = { state: grant.ticket.state, reason: null };
    await this.#attach(grant, generation);
  }

  async #attach(grant: TicketGrant, generation: number): Promise<void> {
    let loaded: Awaited<ReturnType<LiveSessionOptions['loadHls']>>;
    try {
      loaded = await this.#o.loadHls();
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#fail({ ...ticketFailure(err), reason: 'network' });
      return;
    }
    if (generation !== this.#generation) return;
    const { Hls, workerPath } = loaded;
    if (!Hls.isSupported()) {
      this.#fail({ reason: 'unsupported', detail: null, permanent: true, minDelayMs: 0, offline: true });
      return;
    }
    const { video } = this.#o;
    const url = grant.ticket.playlistUrl;
    this.#token = streamToken(url);
    const hls = new Hls({
      ...LIVE_HLS_CONFIG,
      ...(workerPath ? { workerPath } : {}),
      xhrSetup: (xhr, requestUrl) => {
        // Opening here is hls.js's documented way to change the URL: the renewed token goes on every request.
        xhr.open('GET', this.#token ? withToken(requestUrl, this.#token) : requestUrl, true);
        // A kiosk window's own session is not the cookie: the relay checks the session on every file.
        const session = windowSession();
        if (session) xhr.setRequestHeader('Authorization', `Bearer ${session}`);
      },
    });
    this.#hls = hls;
    this.#attachedAt = Date.now();
    this.#lastTime = -1;
    this.#buffering = false;
    this.#mediaRecovered = false;
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      video.play().catch(() => undefined);
    });
    hls.on(Hls.Events.ERROR, (_event, data) => this.#onHlsError(hls, data, generation));
    hls.loadSource(url);
    hls.attachMedia(video);
    this.#scheduleRenewal(grant.ttlMs, generation);
  }

  #onHlsError(hls: HlsType, data: ErrorData, generation: number): void {
    if (generation !== this.#generation || hls !== this.#hls) return;
    const code = data.response?.code;
    if (code === 401 || code === 403) {
      // The token expired (a renewal was missed) or the grant was withdrawn: a new ticket decides.
      this.#fail({ reason: 'expired', detail: null, permanent: false, minDelayMs: 0, offline: false });
      return;
    }
    if (!data.fatal) return;
    if (data.type === 'mediaError' && !this.#mediaRecovered) {
      this.#mediaRecovered = true;
      hls.recoverMediaError();
      return;
    }
    const reason: LiveReason = data.type === 'mediaError' ? 'media' : 'network';
    this.#fail({ reason, detail: data.details, permanent: false, minDelayMs: 0, offline: false });
  }

  #scheduleRenewal(ttlMs: number, generation: number): void {
    window.clearTimeout(this.#renewTimer);
    this.#renewTimer = window.setTimeout(() => void this.#renew(generation), renewDelay(ttlMs));
  }

  async #renew(generation: number): Promise<void> {
    if (generation !== this.#generation) return;
    const abort = new AbortController();
    this.#abort = abort;
    let grant: TicketGrant;
    try {
      grant = await this.#o.requestTicket(this.#o.quality, abort.signal);
    } catch (err) {
      if (generation !== this.#generation || isAbort(err)) return;
      const failure = ticketFailure(err);
      if (failure.permanent) this.#fail(failure);
      // Transient: the current token still has time; try again shortly (an expiry will show as a 401).
      else this.#renewTimer = window.setTimeout(() => void this.#renew(generation), RENEW_RETRY_MS);
      return;
    }
    if (generation !== this.#generation) return;
    const token = streamToken(grant.ticket.playlistUrl);
    if (token === null || this.#token === null) {
      // A URL shape the token swap does not understand: rebuild instead (a short blink).
      void this.#acquire();
      return;
    }
    this.#token = token;
    this.#scheduleRenewal(grant.ttlMs, generation);
  }

  #teardownPlayer(): void {
    this.#frames.reset();
    const hls = this.#hls;
    this.#hls = null;
    this.#token = null;
    if (hls) hls.destroy();
    const { video } = this.#o;
    if (video.getAttribute('src') !== null || hls) {
      video.removeAttribute('src');
      video.load();
    }
  }

  // ------------------------------------------------------------ failures and recovery

  #fail(failure: Failure): void {
    if (this.#disposed) return;
    this.#generation++;
    window.clearTimeout(this.#retryTimer);
    window.clearTimeout(this.#renewTimer);
    this.#abort?.abort();
    this.#teardownPlayer();
    this.#failure = failure;
    this.#failures++;
    const offline = failure.permanent || failure.offline || this.#failures >= OFFLINE_AFTER_FAILURES;
    this.#phase = offline ? 'error' : 'reconnecting';
    this.#emit();
    if (failure.permanent) return;
    const delay = Math.max(backoffDelay(this.#failures - 1), failure.minDelayMs);
    this.#retryTimer = window.setTimeout(() => void this.#acquire(), delay);
  }

  readonly #onProgress = () => {
    const t = this.#o.video.currentTime;
    if (t === this.#lastTime || !this.#hls) return;
    this.#lastTime = t;
    this.#lastAdvance = Date.now();
    if (this.#phase !== 'live' || this.#buffering) {
      // Only real progress counts as live: a parsed manifest without frames is still loading.
      if (t <= 0 && this.#phase !== 'live') return;
      this.#phase = 'live';
      this.#buffering = false;
      this.#failure = null;
      this.#failures = 0;
      this.#emit();
    }
  };

  readonly #onSeeking = () => {
    this.#frames.reset();
  };

  /** Reads the picture's own frame rate once a second while live (frameRate.ts). */
  #measureFrameRate(video: HTMLVideoElement): void {
    const quality = typeof video.getVideoPlaybackQuality === 'function' ? video.getVideoPlaybackQuality() : null;
    const rate =
      this.#phase === 'live' && quality ? this.#frames.sample(quality.totalVideoFrames, video.currentTime) : null;
    const fps = rate === null ? null : Math.round(rate);
    if (fps !== this.#fps) {
      this.#fps = fps;
      this.#o.onFrameRate?.(fps);
    }
  }

  readonly #tick = () => {
    if (this.#disposed || !this.#hls) return;
    const now = Date.now();
    const { video } = this.#o;
    const frozen = this.#ticks.lateBy(now);
    if (frozen > 0) {
      // The page stood still, not the picture (hls.js goes back to the live edge by itself).
      this.#lastAdvance = now;
      this.#attachedAt += frozen;
    }
    this.#measureFrameRate(video);
    // Chrome may pause video in a background tab; that is not a stall.
    if (document.hidden) {
      this.#lastAdvance = now;
      return;
    }
    if (this.#phase === 'live') {
      if (video.paused) video.play().catch(() => undefined);
      const frozen = now - this.#lastAdvance;
      if (frozen > STALL_REBUILD_MS) {
        this.#fail({ reason: 'stalled', detail: null, permanent: false, minDelayMs: 0, offline: false });
      } else if (frozen > BUFFERING_AFTER_MS && !this.#buffering) {
        this.#buffering = true;
        this.#emit();
      }
    } else if (now - this.#attachedAt > FIRST_FRAME_TIMEOUT_MS) {
      this.#fail({ reason: 'timeout', detail: null, permanent: false, minDelayMs: 0, offline: false });
    }
  };

  // ------------------------------------------------------------ what the tile shows

  #view(): TileView {
    const failure = this.#failure;
    const server = this.#server;
    if (this.#phase === 'live' && !this.#buffering)
      return { state: 'live', reason: null, detail: null, permanent: false };
    if (this.#phase === 'error') {
      return {
        state: 'error',
        reason: failure?.reason ?? 'server',
        detail: failure?.detail ?? null,
        permanent: failure?.permanent ?? false,
      };
    }
    // The relay knows more than the player: a camera it cannot reach, a source it is reconnecting to.
    if (server?.state === 'error') return { state: 'error', reason: 'server', detail: server.reason, permanent: false };
    if (server?.state === 'reconnecting' || this.#buffering) {
      return { state: 'reconnecting', reason: null, detail: server?.reason ?? null, permanent: false };
    }
    if (this.#phase === 'reconnecting') {
      return { state: 'reconnecting', reason: failure?.reason ?? null, detail: null, permanent: false };
    }
    return { state: 'loading', reason: null, detail: null, permanent: false };
  }

  #emit(): void {
    if (this.#disposed) return;
    const view = this.#view();
    const key = JSON.stringify(view);
    if (key === this.#lastView) return;
    this.#lastView = key;
    this.#o.onView(view);
  }
}
