/**
 * The on-demand HLS relay (RelaySession per stream key): one supervised ffmpeg per key however many viewers,
 * started by the first viewer, stopped and its directory deleted once nobody has fetched a playlist or segment
 * for `idleTimeoutMs`. H.265 sources are re-encoded to H.264 (browsers), at most `maxTranscodes` at a time.
 *
 * Every ffmpeg leads its own process group and has a pid file under `pidDir`, so a relay that died without
 * stopping them (kill -9, OOM) can have its successor kill the leftovers with `cleanupOrphans()`. Each relay
 * writes under a run directory named by its run id (`run-<pid>-<process start time>`) inside the root, and
 * every ffmpeg's command line names it: the next run on the same root finds a dead run's ffmpeg by that id,
 * whatever port the server listened on before (issue 12).
 *
 * Credentials never reach a command line: a source with credentials, or RTSP with a transport other than
 * plain TCP, is read through the loopback source proxy (`source-proxy.ts`), which also remembers the RTSP
 * transport that worked. While a stream is watched its retries wait at most `watchedRetryMs`; `retryNow`
 * ends a wait. A changed source restarts the stream in place: same directory, numbering continued.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  PLAYLIST_NAME,
  buildRelayArgs,
  buildSnapshotArgs,
  needsTranscode,
  validateSourceUrl,
  type RelayInput,
  type VideoCodec,
} from './args.ts';
import { systemTimerClock, type TimerClock, type TimerHandle } from './clock.ts';
import { createLiveFeed, type LiveFeed, type LiveFeedWriter } from './live-feed.ts';
import { hlsOutputProbe, listSegments, readPlaylist, segmentNumber, tsVideoCodec, type MediaPlaylist } from './hls.ts';
import { redactUrls } from './output-text.ts';
import { createProcessRunner, createProcessTable, type ProcessRunner, type ProcessTable } from './process.ts';
import { createSourceProxy, type RtspTransport, type SourceEndpoint, type SourceProxy } from './source-proxy.ts';
import {
  createSupervisor,
  silentLogger,
  type MediaLogger,
  type StreamState,
  type StreamStateEvent,
  type Supervisor,
} from './supervisor.ts';

export interface HlsRelayOptions {
  ffmpegPath: string;
  /** Parent of the per-stream directories. Default `hlsRootDir(instance)`. */
  rootDir?: string;
  /** Names the default root and pid directories; default 'default'. */
  instance?: string;
  /** Pid files of running ffmpeg; default `<rootDir>.pids` (beside the root, never served). */
  pidDir?: string;
  runner?: ProcessRunner;
  processes?: ProcessTable;
  clock?: TimerClock;
  /** Default 30 s. */
  idleTimeoutMs?: number;
  /** Default 1. */
  segmentSeconds?: number;
  /**
   * Segments a playlist keeps; default 24 (24 s at 1 s segments). Issue 12: with 6, a wall player held up a
   * few seconds (a busy page) asked for segments already deleted and lost its place.
   */
  listSize?: number;
  /** A stream fetched within this long counts as watched (default 10 s). */
  watchedWindowMs?: number;
  /** Longest wait between attempts while watched (default 2 s): a camera that returns shows within seconds. */
  watchedRetryMs?: number;
  /** The loopback source proxy (default: one of its own, started on first use). */
  proxy?: SourceProxy;
  /** H.265 → H.264 re-encodes at once; default 2. */
  maxTranscodes?: number;
  /** Bitrate cap of an H.265 → H.264 re-encode; default 4000 kbit/s (a 1080p camera's own rate). */
  transcodeMaxKbps?: number;
  /** The ffmpeg binary predates 4.4 (see HlsOutputSpec.legacyFfmpeg). */
  legacyFfmpeg?: boolean;
  /** Default false: wall tiles are muted, and dropping audio avoids re-encoding G.711. */
  keepAudio?: boolean;
  /**
   * The low-latency live output (issue 15): the same ffmpeg also writes fragmented MP4 to a pipe, kept as the
   * init segment and last GOP per stream (`live(key)`). Default true.
   */
  live?: boolean;
  /** Per-subscriber cap of bytes held for a slow live viewer (default 8 MiB; see live-feed.ts). */
  liveMaxQueueBytes?: number;
  /** Supervisor tuning (defaults in `createSupervisor`). */
  backoffMs?: readonly number[];
  staleAfterMs?: number;
  startTimeoutMs?: number;
  killGraceMs?: number;
  log?: MediaLogger;
}

export interface RelaySession {
  key: string;
  dir: string;
  playlistPath: string;
}

export interface RelayStateEvent extends StreamStateEvent {
  key: string;
}

export interface RelayStatus extends RelayStateEvent {
  dir: string;
  /** RTSP transport that delivered media, when the source proxy carries the stream. */
  transport?: RtspTransport;
  /** Source URL with credentials masked. */
  source: string;
  codec: VideoCodec;
  transcode: boolean;
  pid?: number;
  outTimeMs?: number;
  startedAt: number;
  lastTouchAt: number;
  /** Last ffmpeg stderr lines, credentials masked. */
  stderr: string[];
}

export interface OrphanCleanup {
  /** ffmpeg process groups killed. */
  killed: number[];
  removedDirs: string[];
  /** Pid files whose owner is still alive (another relay instance on the same root). */
  skipped: string[];
}

export type RelayErrorCode = 'invalid-source' | 'not-found' | 'timeout' | 'stream-error' | 'stopped';

export class RelayError extends Error {
  readonly code: RelayErrorCode;
  constructor(code: RelayErrorCode, message: string) {
    super(message);
    this.name = 'RelayError';
    this.code = code;
  }
}

export interface HlsRelay {
  readonly rootDir: string;
  /** This relay's own directory under the root: `run-<pid>-<start time>`, the run id. */
  readonly runDir: string;
  readonly pidDir: string;
  /**
   * Starts the stream of `key` unless it runs (then only counts as a touch); resolves with its directory.
   * A running stream asked for with another input (a new address or password) restarts in place.
   */
  acquire(key: string, input: RelayInput): Promise<RelaySession>;
  /** A stream waiting between attempts tries again now (the camera was seen again). False if not waiting. */
  retryNow(key: string): boolean;
  /** A playlist or segment of `key` was served: keeps it from the idle stop. False for an unknown key. */
  touch(key: string): boolean;
  /** Resolves once the playlist lists a segment; rejects on error state, stop or timeout. */
  waitForPlaylist(key: string, timeoutMs: number): Promise<MediaPlaylist>;
  status(key: string): RelayStatus | undefined;
  list(): RelayStatus[];
  on(event: 'state', listener: (e: RelayStateEvent) => void): () => void;
  /** The RTSP transport that delivered media on a stream, when it is first seen or changes. */
  onTransport(listener: (key: string, transport: RtspTransport) => void): () => void;
  /** The camera answered a stream's PLAY (each start and restart of its ffmpeg): the moment to ask for an IDR. */
  onSourcePlaying(listener: (key: string) => void): () => void;
  /** The live fMP4 feed of a running stream (init segment, last GOP, fan-out), if the relay writes one. */
  live(key: string): LiveFeed | undefined;
  /** One JPEG of the newest segment. */
  snapshot(key: string, timeoutMs?: number): Promise<Buffer>;
  stop(key: string): Promise<void>;
  stopAll(): Promise<void>;
  /** Shutdown: nothing starts any more (acquire rejects), every stream stops, the proxy closes. */
  close(): Promise<void>;
  /** Kills ffmpeg left by a previous instance on this root (verified by /proc cmdline) and removes stale dirs. */
  cleanupOrphans(): Promise<OrphanCleanup>;
}

/** `/dev/shm/ccc-hls/<instance>` when /dev/shm exists (segments never touch a disk), else the temp dir. */
export function hlsRootDir(instance = 'default', exists: (p: string) => boolean = existsSync): string {
  const base = exists('/dev/shm') ? '/dev/shm' : os.tmpdir();
  return path.join(base, 'ccc-hls', instance);
}

/** Directory name of a stream key: readable, filesystem-safe, unique by hash. */
export function streamDirName(key: string): string {
  const readable = key
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 48);
  return `${readable}-${createHash('sha1').update(key).digest('hex').slice(0, 10)}`;
}

interface PidRecord {
  pid: number;
  dir: string;
  key: string;
  owner: number;
  ownerStartTime: number | null;
  startedAt: number;
}

/** `run-<pid>-<start time>`: names a relay's directories; pid and start time tell whether it still runs. */
export function runIdOf(pid: number, startTime: number | null): string {
  return `run-${pid}-${startTime ?? 0}`;
}

export function parseRunId(name: string): { pid: number; startTime: number } | null {
  const m = /^run-(\d+)-(\d+)$/.exec(name);
  return m ? { pid: Number(m[1]), startTime: Number(m[2]) } : null;
}

interface Session {
  key: string;
  dirName: string;
  dir: string;
  input: RelayInput;
  /** Video found to be H.265 in the first segment although the input said 'unknown'. */
  detectedH265: boolean;
  transcode: boolean;
  supervisor: Supervisor | undefined;
  waitingForSlot: boolean;
  event: StreamStateEvent;
  startedAt: number;
  lastTouchAt: number;
  idleTimer: TimerHandle | undefined;
  stopping: Promise<void> | undefined;
  /** The copy being stopped after the first segment showed H.265; a stop waits for it too. */
  switching: Promise<void> | undefined;
  sniffed: boolean;
  /** The source proxy's endpoint, when the source goes through it. */
  endpoint: SourceEndpoint | undefined;
  /** A source change in progress (restart in place). */
  changing: Promise<void> | undefined;
  /** The live fMP4 output; `liveGen` names the process whose pipe feeds it (an old one's late bytes are ignored). */
  feed: LiveFeedWriter | undefined;
  liveGen: number;
}

const sameInput = (a: RelayInput, b: RelayInput) =>
  a.url === b.url &&
  a.codec === b.codec &&
  a.audio === b.audio &&
  (a.rtspTransport ?? 'tcp') === (b.rtspTransport ?? 'tcp') &&
  a.fps === b.fps &&
  JSON.stringify(a.rtspHeaders ?? null) === JSON.stringify(b.rtspHeaders ?? null) &&
  (a.fromFirstPacket ?? false) === (b.fromFirstPacket ?? false) &&
  (a.credentials?.username ?? null) === (b.credentials?.username ?? null) &&
  (a.credentials?.password ?? null) === (b.credentials?.password ?? null);

/**
 * Whether ffmpeg reads this source through the proxy: every RTSP source (the proxy owns the transport towards
 * the camera, answers its challenge, and says in words why a camera cannot be read), and an HTTP source with
 * credentials. RTMP is read directly (only the platform's own ingest is RTMP).
 */
export function needsProxy(input: RelayInput): boolean {
  const scheme = /^([a-z]+):/i.exec(input.url)?.[1]?.toLowerCase();
  if (scheme === 'rtsp' || scheme === 'rtsps') return true;
  if (scheme === 'http' || scheme === 'https') return !!input.credentials;
  return false;
}

export function createHlsRelay(opts: HlsRelayOptions): HlsRelay {
  const instance = opts.instance ?? 'default';
  const rootDir = path.resolve(opts.rootDir ?? hlsRootDir(instance));
  const pidDir = path.resolve(opts.pidDir ?? `${rootDir}.pids`);
  const runner = opts.runner ?? createProcessRunner();
  const processes = opts.processes ?? createProcessTable();
  const clock = opts.clock ?? systemTimerClock;
  const log = opts.log ?? silentLogger;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
  const segmentSeconds = opts.segmentSeconds ?? 1;
  const listSize = opts.listSize ?? 24;
  const watchedWindowMs = opts.watchedWindowMs ?? 10_000;
  const watchedRetryMs = opts.watchedRetryMs ?? 2_000;
  const liveEnabled = opts.live ?? true;
  let proxy = opts.proxy;
  const ownProxy = !opts.proxy;
  const getProxy = () => (proxy ??= createSourceProxy({ log }));
  let closed = false;
  const transportListeners = new Set<(key: string, t: RtspTransport) => void>();
  const playingListeners = new Set<(key: string) => void>();
  const maxTranscodes = opts.maxTranscodes ?? 2;
  const keepAudio = opts.keepAudio ?? false;
  const transcodeMaxKbps = opts.transcodeMaxKbps ?? 4_000;
  const sessions = new Map<string, Session>();
  const listeners = new Set<(e: RelayStateEvent) => void>();
  const ownStartTime = processes.stat(process.pid)?.startTime ?? null;
  const runId = runIdOf(process.pid, ownStartTime);
  const runDir = path.join(rootDir, runId);
  const runPidDir = path.join(pidDir, runId);

  function emit(s: Session, e: StreamStateEvent): void {
    s.event = e;
    const out: RelayStateEvent = { key: s.key, ...e };
    for (const fn of listeners) {
      try {
        fn(out);
      } catch (err) {
        log.error('relay state listener failed', { key: s.key, err: String(err) });
      }
    }
  }

  const activeTranscodes = () => [...sessions.values()].filter((s) => s.supervisor && s.transcode).length;

  /** Next segment number after whatever an earlier process of this stream left, pruning all but a few. */
  function nextStartNumber(dir: string): number {
    let max = -1;
    const found: Array<{ name: string; n: number }> = [];
    for (const name of safeReaddir(dir)) {
      const n = segmentNumber(name) ?? segmentNumber(name.replace(/\.tmp$/, ''));
      if (n === null) continue;
      found.push({ name, n });
      if (n > max) max = n;
    }
    // Keep the last list's worth for players still fetching it; older ones belong to no playlist.
    for (const f of found) if (f.n < max - listSize - 1) rmSync(path.join(dir, f.name), { force: true });
    return max + 1;
  }

  function writePidFile(s: Session, pid: number | undefined): void {
    if (pid === undefined) return;
    const rec: PidRecord = {
      pid,
      dir: s.dir,
      key: s.key,
      owner: process.pid,
      ownerStartTime: ownStartTime,
      startedAt: clock.now(),
    };
    try {
      mkdirSync(runPidDir, { recursive: true });
      writeFileSync(path.join(runPidDir, `${s.dirName}.json`), JSON.stringify(rec));
    } catch (err) {
      log.warn('cannot write relay pid file', { key: s.key, err: String(err) });
    }
  }

  function startSession(s: Session): void {
    const codec: VideoCodec = s.detectedH265 ? 'h265' : s.input.codec;
    s.transcode = needsTranscode({ codec }, { transcode: false });
    if (s.transcode && activeTranscodes() >= maxTranscodes) {
      s.waitingForSlot = true;
      emit(s, {
        state: 'error',
        reason: `transcode limit reached: ${maxTranscodes} H.265 streams are being re-encoded already`,
        restarts: 0,
      });
      log.warn('transcode limit reached', { key: s.key, maxTranscodes });
      return;
    }
    s.waitingForSlot = false;
    mkdirSync(s.dir, { recursive: true });
    // ffmpeg reads the proxy's loopback address when there is one: no credentials, TCP to the proxy.
    const input: RelayInput = s.endpoint
      ? {
          url: s.endpoint.url,
          codec,
          audio: s.input.audio,
          rtspTransport: 'tcp',
          ...(s.input.fps ? { fps: s.input.fps } : {}),
          ...(s.input.fromFirstPacket ? { fromFirstPacket: true } : {}),
        }
      : { ...s.input, codec };
    const endpoint = s.endpoint;
    const sup = createSupervisor({
      name: s.key,
      command: opts.ffmpegPath,
      args: () => {
        // What went wrong upstream is judged per attempt.
        endpoint?.clearError();
        return buildRelayArgs(input, {
          dir: s.dir,
          segmentSeconds,
          listSize,
          transcode: false,
          keepAudio,
          maxBitrateKbps: transcodeMaxKbps,
          ...(opts.legacyFfmpeg ? { legacyFfmpeg: true } : {}),
          startNumber: nextStartNumber(s.dir),
          ...(s.feed ? { liveFd: 3 } : {}),
        });
      },
      ...(s.feed
        ? {
            onMedia: (media: Readable) => {
              const gen = ++s.liveGen;
              const feed = s.feed!;
              feed.restart();
              // Always read, even with no viewer: a full pipe would stall ffmpeg and its HLS output with it.
              media.on('data', (d: Buffer) => {
                if (s.liveGen === gen) feed.write(d);
              });
            },
          }
        : {}),
      runner,
      clock,
      checkOutput: hlsOutputProbe(s.dir),
      segmentSeconds,
      ...(opts.backoffMs ? { backoffMs: opts.backoffMs } : {}),
      ...(opts.staleAfterMs !== undefined ? { staleAfterMs: opts.staleAfterMs } : {}),
      ...(opts.startTimeoutMs !== undefined ? { startTimeoutMs: opts.startTimeoutMs } : {}),
      ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
      onSpawn: (pid) => writePidFile(s, pid),
      backoffCapMs: () => (clock.now() - s.lastTouchAt < watchedWindowMs ? watchedRetryMs : undefined),
      explainExit: () => endpoint?.lastError(),
      log,
    });
    s.supervisor = sup;
    sup.on('state', (e) => {
      // 'stopped' is published by the relay once the directory is gone too.
      if (s.supervisor !== sup || e.state === 'stopped') return;
      emit(s, e);
      if (e.state === 'live' && s.input.codec === 'unknown' && !s.transcode && !s.sniffed) void sniff(s, sup);
    });
    sup.start();
  }

  /** Input said 'unknown': look into the first segment; H.265 would play nowhere, so re-encode it. */
  async function sniff(s: Session, sup: Supervisor): Promise<void> {
    s.sniffed = true;
    const first = (await listSegments(s.dir))[0];
    if (!first) return;
    let head: Buffer;
    try {
      const fh = await open(path.join(s.dir, first.name), 'r');
      try {
        const buf = Buffer.alloc(188 * 20);
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        head = buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    } catch {
      return;
    }
    if (tsVideoCodec(head) !== 'h265' || s.supervisor !== sup || s.stopping) return;
    log.info('source declared unknown is H.265: re-encoding', { key: s.key });
    s.detectedH265 = true;
    s.supervisor = undefined;
    s.switching = sup.stop();
    await s.switching;
    s.switching = undefined;
    if (s.stopping || sessions.get(s.key) !== s) return;
    startSession(s);
  }

  function promoteWaiting(): void {
    for (const s of sessions.values()) {
      if (!s.waitingForSlot || s.stopping) continue;
      if (activeTranscodes() >= maxTranscodes) return;
      startSession(s);
    }
  }

  function armIdle(s: Session): void {
    if (s.idleTimer) clock.clearTimeout(s.idleTimer);
    const due = Math.max(0, s.lastTouchAt + idleTimeoutMs - clock.now());
    s.idleTimer = clock.setTimeout(() => {
      s.idleTimer = undefined;
      if (s.stopping) return;
      if (clock.now() - s.lastTouchAt >= idleTimeoutMs) {
        log.info('relay idle: stopping', { key: s.key, idleMs: clock.now() - s.lastTouchAt });
        void stopSession(s);
      } else {
        armIdle(s);
      }
    }, due);
  }

  function stopSession(s: Session): Promise<void> {
    if (s.stopping) return s.stopping;
    s.stopping = (async () => {
      if (s.idleTimer) clock.clearTimeout(s.idleTimer);
      s.idleTimer = undefined;
      s.feed?.end('stopped');
      const sup = s.supervisor;
      const wasTranscoding = Boolean(sup && s.transcode);
      s.waitingForSlot = false;
      if (sup) await sup.stop();
      if (s.switching) await s.switching;
      if (s.changing) await s.changing.catch(() => undefined);
      // A change that was under way may have started a new process meanwhile.
      if (s.supervisor && s.supervisor !== sup) await s.supervisor.stop();
      s.supervisor = undefined;
      s.endpoint?.close();
      s.endpoint = undefined;
      await rm(s.dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 }).catch((err: unknown) =>
        log.warn('cannot remove stream dir', { key: s.key, err: String(err) }),
      );
      rmSync(path.join(runPidDir, `${s.dirName}.json`), { force: true });
      if (sessions.get(s.key) === s) sessions.delete(s.key);
      emit(s, { state: 'stopped', restarts: s.event.restarts });
      if (wasTranscoding) promoteWaiting();
    })();
    return s.stopping;
  }

  function statusOf(s: Session): RelayStatus {
    const sup = s.supervisor?.status();
    const st: RelayStatus = {
      key: s.key,
      ...s.event,
      dir: s.dir,
      source: redactUrls(s.input.url),
      ...(s.endpoint?.transport() ? { transport: s.endpoint.transport()! } : {}),
      codec: s.detectedH265 ? 'h265' : s.input.codec,
      transcode: s.transcode,
      startedAt: s.startedAt,
      lastTouchAt: s.lastTouchAt,
      stderr: s.supervisor?.stderrTail() ?? [],
    };
    if (sup) {
      st.restarts = sup.restarts;
      if (sup.pid !== undefined) st.pid = sup.pid;
      if (sup.fps !== undefined) st.fps = sup.fps;
      if (sup.bitrateKbps !== undefined) st.bitrateKbps = sup.bitrateKbps;
      if (sup.outTimeMs !== undefined) st.outTimeMs = sup.outTimeMs;
    }
    return st;
  }

  /** An ffmpeg we started writing under `dir` (a run directory, or an old-layout stream directory). */
  function isOurFfmpeg(pid: number, dir: string): boolean {
    const rel = path.relative(rootDir, dir);
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel) || rel.includes(path.sep)) return false;
    const argv = processes.cmdline(pid);
    if (!argv?.length || !path.basename(argv[0]!).includes('ffmpeg')) return false;
    if (!argv.some((a) => a.startsWith(dir + path.sep))) return false;
    // Ours lead their own group: kill(-pid) then reaches exactly that ffmpeg and its children.
    return processes.stat(pid)?.pgrp === pid;
  }

  /** Kills every ffmpeg of a dead run: by its pid files, and by the run directory in its command line. */
  async function killRun(dir: string, pidFiles: string, result: OrphanCleanup): Promise<void> {
    const pids = new Set<number>();
    for (const file of safeReaddir(pidFiles)) {
      try {
        const rec = JSON.parse(readFileSync(path.join(pidFiles, file), 'utf8')) as PidRecord;
        if (Number.isInteger(rec.pid)) pids.add(rec.pid);
      } catch {
        // a torn pid file: the /proc scan below still finds its ffmpeg
      }
    }
    for (const pid of processes.findByName('ffmpeg')) {
      if ((processes.cmdline(pid) ?? []).some((a) => a.startsWith(dir + path.sep))) pids.add(pid);
    }
    for (const pid of pids) {
      if (!isOurFfmpeg(pid, dir)) continue;
      log.warn('killing orphaned ffmpeg of a previous relay', { pid, run: path.basename(dir) });
      processes.signalGroup(pid, 'SIGKILL');
      if (await waitGone(pid, 2_000)) result.killed.push(pid);
      else log.error('orphaned ffmpeg survived SIGKILL', { pid });
    }
  }

  async function waitGone(pid: number, ms: number): Promise<boolean> {
    const end = clock.now() + ms;
    while (processes.stat(pid)) {
      if (clock.now() >= end) return false;
      await new Promise<void>((r) => clock.setTimeout(r, 50));
    }
    return true;
  }

  function subscribe(listener: (e: RelayStateEvent) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /** The proxy endpoint a source is read through, or undefined when ffmpeg reads it directly. */
  async function endpointFor(s: Session, input: RelayInput): Promise<SourceEndpoint | undefined> {
    if (!needsProxy(input)) {
      if (input.credentials && /^rtmps?:/i.test(input.url)) {
        // RTMP has no way to take a password but in the URL, which would be in ffmpeg's argv.
        throw new RelayError('invalid-source', 'credentials cannot be given to an RTMP source without exposing them');
      }
      return undefined;
    }
    const ep = await getProxy().open({
      url: input.url,
      credentials: input.credentials ?? null,
      transport: input.rtspTransport ?? 'tcp',
      ...(input.preferTransport ? { preferTransport: input.preferTransport } : {}),
      ...(input.rtspHeaders ? { rtspHeaders: input.rtspHeaders } : {}),
    });
    ep.onTransport((t) => {
      if (sessions.get(s.key) !== s) return;
      for (const fn of transportListeners) {
        try {
          fn(s.key, t);
        } catch (err) {
          log.error('relay transport listener failed', { key: s.key, err: String(err) });
        }
      }
    });
    ep.onPlaying(() => {
      if (sessions.get(s.key) !== s) return;
      for (const fn of playingListeners) {
        try {
          fn(s.key);
        } catch (err) {
          log.error('relay playing listener failed', { key: s.key, err: String(err) });
        }
      }
    });
    return ep;
  }

  /** A running stream gets a new source: the old process stops, the new one continues the numbering. */
  async function changeSource(s: Session, wanted: RelayInput): Promise<void> {
    log.info('relay source changed: restarting in place', { key: s.key });
    const sup = s.supervisor;
    s.supervisor = undefined;
    const wasTranscoding = Boolean(sup && s.transcode);
    s.waitingForSlot = false;
    if (sup) await sup.stop();
    if (s.switching) await s.switching;
    s.endpoint?.close();
    s.endpoint = undefined;
    s.input = wanted;
    s.detectedH265 = false;
    s.sniffed = false;
    if (s.stopping || sessions.get(s.key) !== s || closed) return;
    s.endpoint = await endpointFor(s, wanted);
    if (s.stopping || sessions.get(s.key) !== s || closed) {
      s.endpoint?.close();
      s.endpoint = undefined;
      return;
    }
    emit(s, { state: 'starting', reason: 'source changed', restarts: s.event.restarts });
    startSession(s);
    if (wasTranscoding) promoteWaiting();
  }

  const shuttingDown = () => new RelayError('stopped', 'the relay is shutting down');

  return {
    rootDir,
    runDir,
    pidDir,

    async acquire(key, input) {
      // Shutdown is a state (issue 12): an open that was waiting on a probe must not start ffmpeg after it.
      if (closed) throw shuttingDown();
      const check = validateSourceUrl(input.url);
      if (!check.ok) throw new RelayError('invalid-source', `invalid source URL: ${check.reason}`);
      const wanted: RelayInput = { ...input, url: check.url };
      for (;;) {
        const s = sessions.get(key);
        if (!s) break;
        if (s.stopping) {
          await s.stopping;
          if (closed) throw shuttingDown();
          continue;
        }
        if (s.changing) {
          await s.changing.catch(() => undefined);
          continue;
        }
        s.lastTouchAt = clock.now();
        if (sameInput(s.input, wanted)) {
          if (s.waitingForSlot) startSession(s);
          return { key, dir: s.dir, playlistPath: path.join(s.dir, PLAYLIST_NAME) };
        }
        s.changing = changeSource(s, wanted).finally(() => (s.changing = undefined));
        await s.changing;
        if (closed) throw shuttingDown();
        return { key, dir: s.dir, playlistPath: path.join(s.dir, PLAYLIST_NAME) };
      }
      const dirName = streamDirName(key);
      const now = clock.now();
      const s: Session = {
        key,
        dirName,
        dir: path.join(runDir, dirName),
        input: wanted,
        detectedH265: false,
        transcode: false,
        supervisor: undefined,
        waitingForSlot: false,
        event: { state: 'starting', restarts: 0 },
        startedAt: now,
        lastTouchAt: now,
        idleTimer: undefined,
        stopping: undefined,
        switching: undefined,
        sniffed: false,
        endpoint: undefined,
        changing: undefined,
        feed: liveEnabled
          ? createLiveFeed({
              ...(opts.liveMaxQueueBytes ? { maxQueueBytes: opts.liveMaxQueueBytes } : {}),
              onError: (err) => log.warn('live fMP4 output unreadable', { key, err: String(err) }),
            })
          : undefined,
        liveGen: 0,
      };
      sessions.set(key, s);
      // Whatever a crashed predecessor left under this name is not ours to serve.
      rmSync(s.dir, { recursive: true, force: true });
      try {
        s.endpoint = await endpointFor(s, wanted);
      } catch (err) {
        if (sessions.get(key) === s) sessions.delete(key);
        throw err instanceof RelayError ? err : new RelayError('stream-error', String((err as Error).message ?? err));
      }
      if (closed || sessions.get(key) !== s || s.stopping) {
        s.endpoint?.close();
        if (sessions.get(key) === s) sessions.delete(key);
        throw closed ? shuttingDown() : new RelayError('stopped', `relay for ${key} stopped`);
      }
      startSession(s);
      armIdle(s);
      return { key, dir: s.dir, playlistPath: path.join(s.dir, PLAYLIST_NAME) };
    },

    retryNow(key) {
      return sessions.get(key)?.supervisor?.retryNow() ?? false;
    },

    onTransport(listener) {
      transportListeners.add(listener);
      return () => transportListeners.delete(listener);
    },

    onSourcePlaying(listener) {
      playingListeners.add(listener);
      return () => playingListeners.delete(listener);
    },

    touch(key) {
      const s = sessions.get(key);
      if (!s || s.stopping) return false;
      s.lastTouchAt = clock.now();
      return true;
    },

    waitForPlaylist(key, timeoutMs) {
      return new Promise<MediaPlaylist>((resolve, reject) => {
        const s = sessions.get(key);
        if (!s || s.stopping) return reject(new RelayError('not-found', `no relay for ${key}`));
        let done = false;
        let poll: TimerHandle | undefined;
        const timer = clock.setTimeout(() => {
          const why = s.event.reason ?? s.supervisor?.stderrTail().at(-1);
          finish(new RelayError('timeout', `no playlist within ${timeoutMs} ms${why ? `: ${why}` : ''}`));
        }, timeoutMs);
        const finish = (err: Error | null, pl?: MediaPlaylist) => {
          if (done) return;
          done = true;
          clock.clearTimeout(poll);
          clock.clearTimeout(timer);
          off();
          if (err) reject(err);
          else resolve(pl!);
        };
        const failOn = (state: StreamState, reason: string | undefined) => {
          if (state === 'error') finish(new RelayError('stream-error', reason ?? 'stream failed'));
          else if (state === 'stopped') finish(new RelayError('stopped', `relay for ${key} stopped`));
        };
        const off = subscribe((e) => {
          if (e.key === key) failOn(e.state, e.reason);
        });
        const check = async () => {
          const pl = await readPlaylist(s.dir);
          if (done) return;
          // A viewer waiting for the first segment is a viewer: no idle stop meanwhile.
          s.lastTouchAt = clock.now();
          if (pl && pl.segments.length > 0) return finish(null, pl);
          poll = clock.setTimeout(() => void check(), 100);
        };
        failOn(s.event.state, s.event.reason);
        if (!done) void check();
      });
    },

    status(key) {
      const s = sessions.get(key);
      return s ? statusOf(s) : undefined;
    },

    list: () => [...sessions.values()].map(statusOf),

    on: (_event, listener) => subscribe(listener),

    live(key) {
      const s = sessions.get(key);
      return s && !s.stopping ? s.feed : undefined;
    },

    async snapshot(key, timeoutMs = 5_000) {
      const s = sessions.get(key);
      if (!s) throw new RelayError('not-found', `no relay for ${key}`);
      const pl = await readPlaylist(s.dir);
      const last = pl?.segments.at(-1);
      if (!last || last.uri.includes('/')) throw new RelayError('not-found', `no segment yet for ${key}`);
      const child = runner.spawn(opts.ffmpegPath, buildSnapshotArgs(path.join(s.dir, last.uri)), { detached: true });
      const chunks: Buffer[] = [];
      let size = 0;
      child.stdout.on('data', (d: Buffer) => {
        size += d.length;
        if (size <= 16 * 1024 * 1024) chunks.push(d);
      });
      child.stderr.resume();
      const timer = clock.setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const info = await new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', r));
      clock.clearTimeout(timer);
      const jpeg = Buffer.concat(chunks);
      if (info.code !== 0 || jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
        throw new RelayError('stream-error', `snapshot failed (${info.signal ?? `exit ${info.code}`})`);
      }
      return jpeg;
    },

    async stop(key) {
      const s = sessions.get(key);
      if (s) await stopSession(s);
    },

    async stopAll() {
      await Promise.all([...sessions.values()].map((s) => stopSession(s)));
    },

    async close() {
      closed = true;
      await Promise.all([...sessions.values()].map((s) => stopSession(s)));
      if (ownProxy) await proxy?.close();
      rmSync(runDir, { recursive: true, force: true });
      rmSync(runPidDir, { recursive: true, force: true });
    },

    async cleanupOrphans() {
      const result: OrphanCleanup = { killed: [], removedDirs: [], skipped: [] };
      const runs = new Set([...safeReaddir(rootDir), ...safeReaddir(pidDir)].filter((n) => parseRunId(n)));
      for (const name of runs) {
        if (name === runId) continue;
        const run = parseRunId(name)!;
        const owner = processes.stat(run.pid);
        if (owner && owner.startTime === run.startTime) {
          // Another live relay on this root (another server on the same data, another port): not orphans.
          result.skipped.push(name);
          continue;
        }
        await killRun(path.join(rootDir, name), path.join(pidDir, name), result);
        rmSync(path.join(pidDir, name), { recursive: true, force: true });
        if (existsSync(path.join(rootDir, name))) {
          rmSync(path.join(rootDir, name), { recursive: true, force: true });
          result.removedDirs.push(name);
        }
      }
      // The layout before run ids: stream directories straight under the root, pid files straight in pidDir.
      for (const file of safeReaddir(pidDir)) {
        if (!file.endsWith('.json')) continue;
        const pidFile = path.join(pidDir, file);
        let rec: PidRecord | undefined;
        try {
          rec = JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
        } catch {
          rec = undefined;
        }
        if (rec && Number.isInteger(rec.owner) && Number.isInteger(rec.pid)) {
          const owner = processes.stat(rec.owner);
          if (owner && rec.ownerStartTime !== null && owner.startTime === rec.ownerStartTime) {
            result.skipped.push(file);
            continue;
          }
          if (isOurFfmpeg(rec.pid, rec.dir)) {
            log.warn('killing orphaned ffmpeg of a previous relay', { pid: rec.pid, key: rec.key });
            processes.signalGroup(rec.pid, 'SIGKILL');
            if (await waitGone(rec.pid, 2_000)) result.killed.push(rec.pid);
            else log.error('orphaned ffmpeg survived SIGKILL', { pid: rec.pid });
          }
        }
        rmSync(pidFile, { force: true });
      }
      for (const name of safeReaddir(rootDir)) {
        if (parseRunId(name) || result.skipped.includes(`${name}.json`)) continue;
        rmSync(path.join(rootDir, name), { recursive: true, force: true });
        result.removedDirs.push(name);
      }
      return result;
    },
  };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
