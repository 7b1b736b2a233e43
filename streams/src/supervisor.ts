/**
 * One supervised ffmpeg per stream (go2rtc `producer.go`, Frigate `CameraWatchdog`):
 *
 *   idle → starting → running ⇄ backoff → starting … ; any → stopping → stopped
 *
 * - Health is judged by output, not by the process being alive: `running` begins when the first segment of
 *   this process appears, and a running stream whose newest segment is older than `staleAfterMs` is killed
 *   and restarted ("stale output"), unless ffmpeg's own progress says media still flows (`out_time` moving
 *   on): a camera with a GOP longer than that (8–10 s on "smart codec" cameras) closes a copied segment only
 *   at its next keyframe, and was killed mid-segment every time. A start that writes nothing within
 *   `startTimeoutMs` is killed too.
 * - Every spawn increments a generation; exit, output and timer callbacks of an older generation are ignored,
 *   so a stale retry cannot revive a stopped stream nor a dead process's exit kill its successor.
 * - Tiered backoff between attempts, reset once a process has been running for `resetBackoffAfterMs`; while
 *   `backoffCapMs()` says someone watches, no wait is longer than that (issue 12: a camera back after a 20 s
 *   outage waited up to 30 s more for video). `retryNow()` ends a wait at once (a health check saw the camera).
 * - Every failed attempt is announced with its reason and the delay before the next one; a stream that was
 *   live stays `reconnecting` through its retries instead of turning `error` after the first.
 * - Stop and restarts send SIGTERM to the process group, then SIGKILL after `killGraceMs`.
 * - The last `stderrLines` stderr lines (credentials masked) are kept for logs and the API.
 */
import type { Readable } from 'node:stream';
import { systemTimerClock, type TimerClock, type TimerHandle } from './clock.ts';
import { LineSplitter, ProgressParser, RingBuffer, redactUrls } from './output-text.ts';
import type { ChildHandle, ExitInfo, ProcessRunner } from './process.ts';

/** What a viewer (and the wall) is told about a stream. */
export type StreamState = 'starting' | 'live' | 'reconnecting' | 'error' | 'stopped';

export interface StreamStateEvent {
  state: StreamState;
  /** Why: the last ffmpeg stderr line, "stale output …", "transcode limit reached", … */
  reason?: string;
  /** Processes started after the first one. */
  restarts: number;
  fps?: number;
  bitrateKbps?: number;
  /** In backoff: milliseconds until the next attempt. */
  retryInMs?: number;
}

/** The supervisor's own bookkeeping, finer than `StreamState`. */
export type SupervisorPhase = 'idle' | 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped';

/** What the output looks like now; the relay reads the HLS directory. */
export interface OutputHealth {
  /** mtime (clock ms) of the newest finished output unit (segment), null when there is none. */
  lastOutputAt: number | null;
  bitrateKbps?: number;
}

/** Shaped like the server's logger, so it can be passed straight in. */
export interface MediaLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: MediaLogger = { debug() {}, info() {}, warn() {}, error() {} };

export const DEFAULT_BACKOFF_MS: readonly number[] = [500, 1_000, 2_000, 5_000, 10_000, 30_000];

export interface SupervisorOptions {
  /** For logs: usually the stream key. */
  name: string;
  command: string;
  /** Called before every spawn (a restart may continue segment numbering). */
  args: () => string[];
  runner: ProcessRunner;
  checkOutput: () => Promise<OutputHealth>;
  segmentSeconds: number;
  clock?: TimerClock;
  backoffMs?: readonly number[];
  /** Default 60 s. */
  resetBackoffAfterMs?: number;
  /** Called at every failure: a number caps the wait before the next attempt (someone is watching). */
  backoffCapMs?: () => number | undefined;
  /**
   * Called when an attempt ends: what went wrong in words, when the caller knows better than ffmpeg's last
   * line (the source proxy saw the camera refuse the connection). Not consulted for our own kills.
   */
  explainExit?: () => string | undefined;
  /** Default max(3 × segmentSeconds, 6 s). */
  staleAfterMs?: number;
  /** Default max(15 s, 5 × segmentSeconds). */
  startTimeoutMs?: number;
  /** Default 500 ms. */
  watchIntervalMs?: number;
  /** Default 3 s. */
  killGraceMs?: number;
  /** Default 50. */
  stderrLines?: number;
  /** Applied to every stderr line before it is stored (default: mask URL credentials). */
  redact?: (line: string) => string;
  /**
   * Spawn with a pipe on ffmpeg's fd 3 and hand it over after every spawn (the relay's live fMP4 output).
   * The reader must keep reading: a full pipe would hold ffmpeg, and with it the HLS output.
   */
  onMedia?: (media: Readable, generation: number) => void;
  /** After every spawn, with the new pid (the relay writes its pid file here). */
  onSpawn?: (pid: number | undefined, generation: number) => void;
  log?: MediaLogger;
}

export interface SupervisorStatus {
  name: string;
  state: StreamState;
  phase: SupervisorPhase;
  reason?: string;
  restarts: number;
  generation: number;
  pid?: number;
  fps?: number;
  bitrateKbps?: number;
  outTimeMs?: number;
  lastOutputAt?: number;
  liveSince?: number;
  nextRetryAt?: number;
}

export interface Supervisor {
  readonly name: string;
  /** Starts the first process; no-op unless idle. */
  start(): void;
  /** Kills the process (TERM, then KILL after the grace) and settles when it is gone. Idempotent. */
  stop(): Promise<void>;
  /** In backoff: ends the wait and starts the next attempt now (true). Anything else: false. */
  retryNow(): boolean;
  status(): SupervisorStatus;
  stderrTail(): string[];
  on(event: 'state', listener: (e: StreamStateEvent) => void): () => void;
}

interface Attempt {
  handle: ChildHandle;
  generation: number;
  spawnedAt: number;
  exited: Promise<ExitInfo>;
  killTimer?: TimerHandle;
  /** Set when we kill it (stale output, start timeout): the reason reported instead of its exit status. */
  killReason?: string;
  lastLine?: string;
}

export function createSupervisor(opts: SupervisorOptions): Supervisor {
  const clock = opts.clock ?? systemTimerClock;
  const log = opts.log ?? silentLogger;
  const tiers = opts.backoffMs?.length ? opts.backoffMs : DEFAULT_BACKOFF_MS;
  const resetAfter = opts.resetBackoffAfterMs ?? 60_000;
  const staleAfter = opts.staleAfterMs ?? Math.max(3 * opts.segmentSeconds * 1000, 6_000);
  const startTimeout = opts.startTimeoutMs ?? Math.max(15_000, 5 * opts.segmentSeconds * 1000);
  const watchEvery = opts.watchIntervalMs ?? 500;
  const grace = opts.killGraceMs ?? 3_000;
  const redact = opts.redact ?? redactUrls;
  const stderr = new RingBuffer<string>(opts.stderrLines ?? 50);
  const listeners = new Set<(e: StreamStateEvent) => void>();

  let phase: SupervisorPhase = 'idle';
  let generation = 0;
  let spawns = 0;
  let failures = 0;
  let current: Attempt | undefined;
  let backoffTimer: TimerHandle | undefined;
  let watchTimer: TimerHandle | undefined;
  let nextRetryAt: number | undefined;
  let liveSince: number | undefined;
  let lastOutputAt: number | undefined;
  let fps: number | undefined;
  let progressKbps: number | undefined;
  let outputKbps: number | undefined;
  let outTimeMs: number | undefined;
  /** When ffmpeg last reported its output time moving on (media muxed, whether or not a segment closed). */
  let progressAt: number | undefined;
  let stopping: Promise<void> | undefined;
  let published: { state: StreamState; reason?: string; restarts: number } | undefined;
  /** Live at least once: later failures are 'reconnecting', not 'error'. */
  let everLive = false;

  const bitrate = () => progressKbps ?? outputKbps;
  const restarts = () => Math.max(0, spawns - 1);

  function publish(state: StreamState, reason?: string, retryInMs?: number): void {
    // Each attempt is news (issue 12: the state went silent while it retried); the same attempt twice is not.
    if (published && published.state === state && published.reason === reason && published.restarts === restarts())
      return;
    published = { state, ...(reason !== undefined ? { reason } : {}), restarts: restarts() };
    const e: StreamStateEvent = {
      state,
      ...(reason !== undefined ? { reason } : {}),
      restarts: restarts(),
      ...(fps !== undefined ? { fps } : {}),
      ...(bitrate() !== undefined ? { bitrateKbps: bitrate() } : {}),
      ...(retryInMs !== undefined ? { retryInMs } : {}),
    };
    log.info('stream state', { stream: opts.name, ...e });
    for (const fn of listeners) {
      try {
        fn(e);
      } catch (err) {
        log.error('stream state listener failed', { stream: opts.name, err: String(err) });
      }
    }
  }

  function spawnNow(): void {
    const gen = ++generation;
    phase = 'starting';
    nextRetryAt = undefined;
    liveSince = undefined;
    fps = undefined;
    progressKbps = undefined;
    outputKbps = undefined;
    outTimeMs = undefined;
    progressAt = undefined;
    spawns++;
    const spawnedAt = clock.now();
    let handle: ChildHandle;
    try {
      handle = opts.runner.spawn(opts.command, opts.args(), {
        detached: true,
        ...(opts.onMedia ? { media: true } : {}),
      });
    } catch (err) {
      // Bad arguments or an unspawnable command: same path as a process that died at once.
      current = undefined;
      onExit(gen, undefined, { code: null, signal: null, error: err instanceof Error ? err : new Error(String(err)) });
      return;
    }
    const attempt: Attempt = {
      handle,
      generation: gen,
      spawnedAt,
      exited: new Promise<ExitInfo>((resolve) => handle.on('exit', resolve)),
    };
    current = attempt;
    log.debug('ffmpeg spawned', { stream: opts.name, pid: handle.pid, generation: gen });
    opts.onSpawn?.(handle.pid, gen);
    if (opts.onMedia && handle.media) {
      handle.media.on('error', () => undefined);
      opts.onMedia(handle.media, gen);
    }

    const errLines = new LineSplitter();
    const storeLine = (raw: string) => {
      const line = redact(raw).trim();
      if (!line) return;
      stderr.push(line);
      attempt.lastLine = line;
    };
    handle.stderr.on('data', (d: Buffer) => errLines.push(d).forEach(storeLine));
    handle.stderr.on('error', () => undefined);

    const outLines = new LineSplitter();
    const progress = new ProgressParser();
    handle.stdout.on('data', (d: Buffer) => {
      for (const l of outLines.push(d)) {
        const s = progress.line(l);
        if (!s || gen !== generation) continue;
        if (s.fps !== undefined) fps = s.fps;
        if (s.bitrateKbps !== undefined) progressKbps = s.bitrateKbps;
        if (s.outTimeMs !== undefined) {
          if (s.outTimeMs > (outTimeMs ?? -1)) progressAt = clock.now();
          outTimeMs = s.outTimeMs;
        }
      }
    });
    handle.stdout.on('error', () => undefined);

    void attempt.exited.then((info) => {
      errLines.flush().forEach(storeLine);
      if (attempt.killTimer) clock.clearTimeout(attempt.killTimer);
      onExit(gen, attempt, info);
    });
    scheduleWatch(gen);
  }

  function describeExit(attempt: Attempt | undefined, info: ExitInfo, wasLive: boolean): string {
    if (attempt?.killReason) {
      const why = attempt.killReason !== 'stopped' ? opts.explainExit?.() : undefined;
      return why ? `${attempt.killReason} (${why})` : attempt.killReason;
    }
    if (info.error) return `ffmpeg could not start: ${info.error.message}`;
    const explained = opts.explainExit?.();
    if (explained) return explained;
    const status = info.signal ? `killed by ${info.signal}` : `exited with code ${info.code}`;
    // Before any output the last stderr line is the reason (connection refused, 401, …); after output it may
    // be an old warning, so the exit status comes first.
    if (!wasLive && attempt?.lastLine) return attempt.lastLine;
    return attempt?.lastLine ? `ffmpeg ${status}: ${attempt.lastLine}` : `ffmpeg ${status}`;
  }

  function onExit(gen: number, attempt: Attempt | undefined, info: ExitInfo): void {
    if (gen !== generation) return; // an older process, or we are stopping: stop() owns the outcome
    if (watchTimer) clock.clearTimeout(watchTimer);
    watchTimer = undefined;
    current = undefined;
    const wasLive = phase === 'running';
    const now = clock.now();
    if (wasLive && liveSince !== undefined && now - liveSince >= resetAfter) failures = 0;
    const tier = tiers[Math.min(failures, tiers.length - 1)]!;
    const cap = opts.backoffCapMs?.();
    const delay = cap !== undefined && cap >= 0 ? Math.min(tier, cap) : tier;
    failures++;
    const reason = describeExit(attempt, info, wasLive);
    log.warn('ffmpeg ended', { stream: opts.name, reason, code: info.code, signal: info.signal, retryInMs: delay });
    phase = 'backoff';
    nextRetryAt = now + delay;
    fps = undefined;
    progressKbps = undefined;
    publish(everLive ? 'reconnecting' : 'error', reason, delay);
    backoffTimer = clock.setTimeout(() => {
      backoffTimer = undefined;
      if (gen !== generation || phase !== 'backoff') return;
      spawnNow();
    }, delay);
  }

  function kill(attempt: Attempt, reason: string | undefined): void {
    if (reason && !attempt.killReason) attempt.killReason = reason;
    attempt.handle.kill('SIGTERM');
    if (!attempt.killTimer) {
      attempt.killTimer = clock.setTimeout(() => {
        log.warn('ffmpeg ignored SIGTERM, sending SIGKILL', { stream: opts.name, pid: attempt.handle.pid });
        attempt.handle.kill('SIGKILL');
      }, grace);
    }
  }

  function scheduleWatch(gen: number): void {
    watchTimer = clock.setTimeout(() => {
      watchTimer = undefined;
      void watch(gen);
    }, watchEvery);
  }

  async function watch(gen: number): Promise<void> {
    if (gen !== generation || !current) return;
    let health: OutputHealth;
    try {
      health = await opts.checkOutput();
    } catch (err) {
      health = { lastOutputAt: null };
      log.warn('output check failed', { stream: opts.name, err: String(err) });
    }
    const attempt = current;
    if (gen !== generation || !attempt || attempt.killReason) return;
    const now = clock.now();
    // Only output written by this process counts: segments of the previous one are still on disk.
    const fresh = health.lastOutputAt !== null && health.lastOutputAt >= attempt.spawnedAt;
    if (health.bitrateKbps !== undefined) outputKbps = health.bitrateKbps;
    if (phase === 'starting') {
      if (fresh) {
        phase = 'running';
        everLive = true;
        liveSince = now;
        lastOutputAt = health.lastOutputAt!;
        publish('live');
      } else if (now - attempt.spawnedAt >= startTimeout) {
        const why = attempt.lastLine ? `: ${attempt.lastLine}` : '';
        kill(attempt, `no output within ${Math.round(startTimeout / 1000)} s${why}`);
      }
    } else if (phase === 'running') {
      if (fresh) lastOutputAt = Math.max(lastOutputAt ?? 0, health.lastOutputAt!);
      const last = Math.max(lastOutputAt ?? liveSince ?? attempt.spawnedAt, progressAt ?? 0);
      if (now - last >= staleAfter) {
        kill(attempt, `stale output: no new segment for ${Math.round((now - last) / 1000)} s`);
      }
    }
    if (gen === generation) scheduleWatch(gen);
  }

  return {
    name: opts.name,
    start() {
      if (phase !== 'idle') return;
      publish('starting');
      spawnNow();
    },
    retryNow() {
      if (phase !== 'backoff' || stopping) return false;
      if (backoffTimer) clock.clearTimeout(backoffTimer);
      backoffTimer = undefined;
      spawnNow();
      return true;
    },
    stop() {
      if (stopping) return stopping;
      generation++;
      if (backoffTimer) clock.clearTimeout(backoffTimer);
      if (watchTimer) clock.clearTimeout(watchTimer);
      backoffTimer = watchTimer = undefined;
      nextRetryAt = undefined;
      phase = 'stopping';
      const attempt = current;
      stopping = (async () => {
        if (attempt) {
          kill(attempt, 'stopped');
          await attempt.exited;
          if (attempt.killTimer) clock.clearTimeout(attempt.killTimer);
        }
        current = undefined;
        phase = 'stopped';
        fps = undefined;
        progressKbps = undefined;
        publish('stopped');
      })();
      return stopping;
    },
    status() {
      const s: SupervisorStatus = {
        name: opts.name,
        state: published?.state ?? 'starting',
        phase,
        restarts: restarts(),
        generation,
      };
      if (published?.reason !== undefined) s.reason = published.reason;
      if (current?.handle.pid !== undefined) s.pid = current.handle.pid;
      if (fps !== undefined) s.fps = fps;
      const kbps = bitrate();
      if (kbps !== undefined) s.bitrateKbps = kbps;
      if (outTimeMs !== undefined) s.outTimeMs = outTimeMs;
      if (lastOutputAt !== undefined) s.lastOutputAt = lastOutputAt;
      if (liveSince !== undefined) s.liveSince = liveSince;
      if (nextRetryAt !== undefined) s.nextRetryAt = nextRetryAt;
      return s;
    },
    stderrTail: () => stderr.toArray(),
    on(_event, listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
