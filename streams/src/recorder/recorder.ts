/**
 * The recorder (录像, issue 14): one supervised recorder per recorded point, whatever the number of viewers,
 * copying the camera's stream into MPEG-TS segments on disk: in process for RTSP points (`native/`, engine
 * 'native', the default), else a copying ffmpeg. Both write the same layout and `list.csv`. The server
 * decides which points record (its record plans) and indexes the segments this module announces; nothing
 * here touches the database.
 *
 * Layout: `<rootDir>/<key dir>/<run>/seg_NNNNNN.ts` with `list.csv`, one run directory per ffmpeg process
 * (named by the UTC time it was spawned), so a restart never overwrites what the previous process wrote and a
 * gap between runs is a gap in the index. `<key dir>/key` names the stream key the directory belongs to.
 *
 * A segment's wall-clock times come from the file itself: its modification time is when its last packet was
 * written (ffmpeg writes packets as they arrive from a live source), its length is what the segment muxer
 * listed (or, for a segment a kill cut short, what a repair could read). So the index needs no clock kept
 * across restarts.
 *
 * Supervision is the relays' (`../supervisor.ts`): backoff, generation counter, SIGTERM then SIGKILL on the
 * process group; the watchdog judges by the segment being written growing. Credentials never reach argv: RTSP
 * and HTTP sources with credentials are read through the loopback source proxy. A pid file per key lets the
 * next run kill an ffmpeg whose server died (verified through /proc), and `recover()` repairs or drops the
 * segment such a death cut short.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { appendFile, open, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { validateSourceUrl, type RelayInput } from '../args.ts';
import { systemTimerClock, type TimerClock } from '../clock.ts';
import { createProcessRunner, createProcessTable, type ProcessRunner, type ProcessTable } from '../process.ts';
import { needsProxy, streamDirName } from '../relay.ts';
import { createSourceProxy, type SourceEndpoint, type SourceProxy } from '../source-proxy.ts';
import {
  createSupervisor,
  silentLogger,
  type MediaLogger,
  type OutputHealth,
  type StreamStateEvent,
  type Supervisor,
} from '../supervisor.ts';
import {
  RECORD_SEGMENT_FILE,
  SEGMENT_LIST,
  buildRecordArgs,
  buildRepairArgs,
  parseSegmentList,
  progressDuration,
} from './args.ts';
import { NativeRecordChild } from './native/child.ts';

/** One finished segment on disk. */
export interface RecordedSegment {
  key: string;
  /** Absolute path. */
  path: string;
  /** Path relative to the recorder's root (what the server stores). */
  rel: string;
  /** Wall-clock start and end, epoch milliseconds. */
  startMs: number;
  endMs: number;
  bytes: number;
  /** Rebuilt from a segment a kill cut short. */
  repaired?: boolean;
}

export interface RecorderStateEvent extends StreamStateEvent {
  key: string;
}

export interface RecorderStatus extends RecorderStateEvent {
  pid?: number;
  /** Directory of the run being written. */
  runDir?: string;
  stderr: string[];
}

export interface RecoverResult {
  /** ffmpeg process groups of a dead server killed. */
  killed: number[];
  /** Every finished segment on disk (the server indexes those it does not know). */
  segments: RecordedSegment[];
  repaired: string[];
  dropped: string[];
}

/**
 * How a point is recorded. 'native' (the default): the source proxy hands the camera's packets to an
 * in-process MPEG-TS writer (`native/`), for RTSP sources; other sources, and 'ffmpeg', use a copying ffmpeg.
 * Both write the same files: the index, repair, playback and export do not know which wrote them.
 */
export type RecorderEngine = 'native' | 'ffmpeg';

export interface RecorderOptions {
  ffmpegPath: string;
  /** Default 'native'. */
  engine?: RecorderEngine;
  /** Where recordings live (a disk, not /dev/shm). */
  rootDir: string;
  runner?: ProcessRunner;
  processes?: ProcessTable;
  clock?: TimerClock;
  /** The loopback source proxy (usually the relay's). */
  proxy?: SourceProxy;
  /** Default 6 s. */
  segmentSeconds?: number;
  /** A repaired segment shorter than this is dropped; default 0.5 s. */
  minRepairSeconds?: number;
  legacyFfmpeg?: boolean;
  backoffMs?: readonly number[];
  /** Default max(10 s, 2 × segment): the segment being written has not grown for this long. */
  staleAfterMs?: number;
  startTimeoutMs?: number;
  killGraceMs?: number;
  /** Milliseconds between looks at the segment list; default 500. */
  watchIntervalMs?: number;
  log?: MediaLogger;
}

export interface Recorder {
  readonly rootDir: string;
  /** Starts recording `key` (no-op when it records this input already; another input restarts it). */
  start(key: string, input: RelayInput): Promise<void>;
  stop(key: string): Promise<void>;
  stopAll(): Promise<void>;
  /** Shutdown: every recorder stops, its last segment listed; nothing starts any more. */
  close(): Promise<void>;
  /** Keys being recorded. */
  keys(): string[];
  status(key: string): RecorderStatus | undefined;
  on(event: 'segment', fn: (s: RecordedSegment) => void): () => void;
  on(event: 'state', fn: (e: RecorderStateEvent) => void): () => void;
  /** At start-up: kills a dead server's recorders, repairs or drops cut segments, lists every segment on disk. */
  recover(): Promise<RecoverResult>;
  /** Deletes a segment (retention); its run directory goes once empty. False for a path outside the root. */
  remove(rel: string): Promise<boolean>;
  /** Absolute path of a stored relative path, or null when it would leave the root. */
  resolve(rel: string): string | null;
  /** Bytes of everything under the root (the quota). */
  usage(): Promise<number>;
}

interface Run {
  dir: string;
  /** Lines of list.csv already announced. */
  listed: number;
  /** Bytes of list.csv read so far: each look reads only what was appended since (a day is ~14,000 lines). */
  listOffset: number;
  /** Media time of the end of the last listed segment (a repaired one continues from it). */
  lastEnd: number;
  names: Set<string>;
}

interface Session {
  key: string;
  dir: string;
  input: RelayInput;
  supervisor: Supervisor | undefined;
  endpoint: SourceEndpoint | undefined;
  run: Run | undefined;
  event: StreamStateEvent;
  stopping: Promise<void> | undefined;
  /** Runs being finished (listed and their cut segment repaired). */
  finishing: Set<Promise<void>>;
  polling: Promise<void> | undefined;
}

interface PidRecord {
  pid: number;
  key: string;
  owner: number;
  ownerStartTime: number | null;
}

const sameInput = (a: RelayInput, b: RelayInput) =>
  a.url === b.url &&
  a.codec === b.codec &&
  (a.rtspTransport ?? 'tcp') === (b.rtspTransport ?? 'tcp') &&
  (a.credentials?.username ?? null) === (b.credentials?.username ?? null) &&
  (a.credentials?.password ?? null) === (b.credentials?.password ?? null);

/** `20261204T210100123Z`: a run directory's name, sortable, from the spawn time. */
export function runName(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The k-th segment of a run (RECORD_SEGMENT_PATTERN, numbered from 0). */
const segmentName = (k: number) => `seg_${String(k).padStart(6, '0')}.ts`;

export function createRecorder(opts: RecorderOptions): Recorder {
  const rootDir = path.resolve(opts.rootDir);
  const pidDir = path.join(rootDir, '.pids');
  const runner = opts.runner ?? createProcessRunner();
  const processes = opts.processes ?? createProcessTable();
  const clock = opts.clock ?? systemTimerClock;
  const log = opts.log ?? silentLogger;
  const segmentSeconds = opts.segmentSeconds ?? 6;
  const engine = opts.engine ?? 'native';
  const minRepair = opts.minRepairSeconds ?? 0.5;
  let proxy = opts.proxy;
  const ownProxy = !opts.proxy;
  const getProxy = () => (proxy ??= createSourceProxy({ log }));
  const sessions = new Map<string, Session>();
  const segmentListeners = new Set<(s: RecordedSegment) => void>();
  const stateListeners = new Set<(e: RecorderStateEvent) => void>();
  const ownStartTime = processes.stat(process.pid)?.startTime ?? null;
  let closed = false;

  function announce(seg: RecordedSegment): void {
    for (const fn of segmentListeners) {
      try {
        fn(seg);
      } catch (err) {
        log.error('segment listener failed', { key: seg.key, err: String(err) });
      }
    }
  }

  function emitState(s: Session, e: StreamStateEvent): void {
    s.event = e;
    for (const fn of stateListeners) {
      try {
        fn({ key: s.key, ...e });
      } catch (err) {
        log.error('recorder state listener failed', { key: s.key, err: String(err) });
      }
    }
  }

  const relOf = (abs: string) => path.relative(rootDir, abs);

  /** A listed segment as the index wants it: wall-clock end is the file's mtime, start its length before. */
  async function segmentOf(key: string, dir: string, l: { name: string; start: number; end: number }) {
    const file = path.join(dir, l.name);
    try {
      const st = await stat(file);
      const endMs = Math.round(st.mtimeMs);
      return {
        key,
        path: file,
        rel: relOf(file),
        startMs: endMs - Math.round((l.end - l.start) * 1000),
        endMs,
        bytes: st.size,
      };
    } catch {
      return null; // removed meanwhile (retention)
    }
  }

  /** Announces the lines of a run's list not announced yet. */
  async function pollRun(key: string, run: Run): Promise<void> {
    let added: Buffer;
    const listFile = path.join(run.dir, SEGMENT_LIST);
    try {
      // A look at the size first: most looks find nothing new (one call, not open, stat and close).
      if ((await stat(listFile)).size <= run.listOffset) return;
    } catch {
      return;
    }
    try {
      const fh = await open(listFile, 'r');
      try {
        const { size } = await fh.stat();
        if (size <= run.listOffset) return;
        added = Buffer.alloc(size - run.listOffset);
        const { bytesRead } = await fh.read(added, 0, added.length, run.listOffset);
        added = added.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    } catch {
      return;
    }
    // Whole lines only: the muxer may be writing the next one.
    const end = added.lastIndexOf(0x0a);
    if (end < 0) return;
    run.listOffset += end + 1;
    for (const l of parseSegmentList(added.subarray(0, end + 1).toString('utf8'))) {
      run.listed++;
      run.lastEnd = l.end;
      run.names.add(l.name);
      const seg = await segmentOf(key, run.dir, l);
      if (seg) announce(seg);
    }
  }

  /** Runs a short ffmpeg to completion; resolves with its stdout. */
  function runFfmpeg(args: string[], timeoutMs: number): Promise<{ ok: boolean; stdout: string }> {
    return new Promise((resolve) => {
      const child = runner.spawn(opts.ffmpegPath, args, { detached: true });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.resume();
      child.stdout.on('error', () => undefined);
      child.stderr.on('error', () => undefined);
      const t = clock.setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('exit', (info) => {
        clock.clearTimeout(t);
        resolve({ ok: info.code === 0, stdout });
      });
    });
  }

  /**
   * A segment the muxer never listed (its ffmpeg was killed): what is readable is copied into a clean file
   * and listed after the run's last segment; one too short or unreadable is dropped.
   */
  async function repair(key: string, run: Run, name: string): Promise<RecordedSegment | 'dropped'> {
    const file = path.join(run.dir, name);
    const tmp = `${file}.repair`;
    let mtime: Date;
    try {
      mtime = (await stat(file)).mtime;
    } catch {
      return 'dropped';
    }
    const r = await runFfmpeg(buildRepairArgs(file, tmp), 30_000);
    const duration = r.ok ? progressDuration(r.stdout) : null;
    if (duration === null || duration < minRepair) {
      await rm(file, { force: true });
      await rm(tmp, { force: true });
      log.warn('dropped a recording segment cut short', { key, file: relOf(file), duration });
      return 'dropped';
    }
    await rename(tmp, file);
    await utimes(file, mtime, mtime);
    const line = { name, start: run.lastEnd, end: run.lastEnd + duration };
    const listLine = `${name},${line.start.toFixed(6)},${line.end.toFixed(6)}\n`;
    await appendFile(path.join(run.dir, SEGMENT_LIST), listLine);
    run.listOffset += Buffer.byteLength(listLine);
    run.listed++;
    run.lastEnd = line.end;
    run.names.add(name);
    log.info('repaired a recording segment cut short', { key, file: relOf(file), duration });
    const seg = await segmentOf(key, run.dir, line);
    return seg ? { ...seg, repaired: true } : 'dropped';
  }

  /** After a run's process is gone: list what it listed last, repair what it was writing. */
  async function finishRun(key: string, run: Run, announceAll: boolean): Promise<RecordedSegment[]> {
    await pollRun(key, run);
    const found: RecordedSegment[] = [];
    const names = safeReaddir(run.dir)
      .filter((n) => RECORD_SEGMENT_FILE.test(n) && !run.names.has(n))
      .sort();
    for (const n of names) {
      const r = await repair(key, run, n);
      if (r === 'dropped') continue;
      found.push(r);
      if (announceAll) announce(r);
    }
    for (const n of safeReaddir(run.dir)) if (n.endsWith('.repair')) rmSync(path.join(run.dir, n), { force: true });
    if (!safeReaddir(run.dir).some((n) => RECORD_SEGMENT_FILE.test(n)))
      rmSync(run.dir, { recursive: true, force: true });
    return found;
  }

  function trackFinish(s: Session, run: Run): void {
    const p = finishRun(s.key, run, true)
      .then(() => undefined)
      .catch((err: unknown) => log.warn('finishing a recording run failed', { key: s.key, err: String(err) }));
    s.finishing.add(p);
    void p.finally(() => s.finishing.delete(p));
  }

  function writePidFile(s: Session, pid: number | undefined): void {
    if (pid === undefined) return;
    const rec: PidRecord = { pid, key: s.key, owner: process.pid, ownerStartTime: ownStartTime };
    try {
      mkdirSync(pidDir, { recursive: true });
      writeFileSync(path.join(pidDir, `${path.basename(s.dir)}.json`), JSON.stringify(rec));
    } catch (err) {
      log.warn('cannot write recorder pid file', { key: s.key, err: String(err) });
    }
  }

  /** The newest write in the run being recorded: the segment being written grows with every packet. */
  function outputProbe(s: Session): () => Promise<OutputHealth> {
    return async () => {
      const run = s.run;
      if (!run) return { lastOutputAt: null };
      // Announce finished segments at the watchdog's pace; one look at a time.
      if (!s.polling) {
        s.polling = pollRun(s.key, run).finally(() => (s.polling = undefined));
      }
      // Segments are numbered from 0 in order: the one being written follows the last listed (or the one
      // after, when the list is a look behind). A few stats, not a read of a directory that grows all day.
      let newest: number | null = null;
      for (let i = run.listed + 1; i >= Math.max(0, run.listed - 1); i--) {
        try {
          const st = statSync(path.join(run.dir, segmentName(i)));
          // Only a file with media in it counts (ffmpeg creates the first one before any packet).
          if (st.size > 0 && (newest === null || st.mtimeMs > newest)) newest = st.mtimeMs;
        } catch {
          // not there (yet, or any more)
        }
      }
      return { lastOutputAt: newest };
    };
  }

  function startSupervisor(s: Session): void {
    const endpoint = s.endpoint;
    const input: RelayInput = endpoint
      ? { url: endpoint.url, codec: s.input.codec, audio: 'none', rtspTransport: 'tcp' }
      : s.input;
    // The native recorder is run like a process (args() below opens the run directory it writes into).
    const nativeRunner: ProcessRunner | null =
      engine === 'native' && endpoint && /^rtsp:\/\//i.test(endpoint.url)
        ? {
            spawn: () =>
              new NativeRecordChild({
                url: endpoint.url,
                dir: s.run!.dir,
                segmentSeconds,
                connect: () => getProxy().connectLocal(),
              }),
          }
        : null;
    const sup = createSupervisor({
      name: `record:${s.key}`,
      command: nativeRunner ? 'native-recorder' : opts.ffmpegPath,
      args: () => {
        endpoint?.clearError();
        // The previous process of this key is gone: finish its run, then open a new one.
        if (s.run) trackFinish(s, s.run);
        const dir = path.join(s.dir, runName(clock.now()));
        mkdirSync(dir, { recursive: true });
        s.run = { dir, listed: 0, listOffset: 0, lastEnd: 0, names: new Set() };
        return buildRecordArgs(input, {
          dir,
          segmentSeconds,
          ...(opts.legacyFfmpeg ? { legacyFfmpeg: true } : {}),
        });
      },
      runner: nativeRunner ?? runner,
      clock,
      checkOutput: outputProbe(s),
      segmentSeconds,
      staleAfterMs: opts.staleAfterMs ?? Math.max(10_000, 2 * segmentSeconds * 1000),
      startTimeoutMs: opts.startTimeoutMs ?? 20_000,
      ...(opts.backoffMs ? { backoffMs: opts.backoffMs } : {}),
      ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
      ...(opts.watchIntervalMs !== undefined ? { watchIntervalMs: opts.watchIntervalMs } : {}),
      onSpawn: (pid) => writePidFile(s, pid),
      explainExit: () => endpoint?.lastError(),
      log,
    });
    s.supervisor = sup;
    sup.on('state', (e) => {
      if (s.supervisor !== sup || e.state === 'stopped') return;
      emitState(s, e);
    });
    sup.start();
  }

  async function stopSession(s: Session): Promise<void> {
    if (s.stopping) return s.stopping;
    s.stopping = (async () => {
      const sup = s.supervisor;
      s.supervisor = undefined;
      if (sup) await sup.stop();
      s.endpoint?.close();
      s.endpoint = undefined;
      if (s.polling) await s.polling;
      if (s.run) {
        const run = s.run;
        s.run = undefined;
        await finishRun(s.key, run, true).catch((err: unknown) =>
          log.warn('finishing a recording run failed', { key: s.key, err: String(err) }),
        );
      }
      await Promise.all([...s.finishing]);
      rmSync(path.join(pidDir, `${path.basename(s.dir)}.json`), { force: true });
      if (sessions.get(s.key) === s) sessions.delete(s.key);
      emitState(s, { state: 'stopped', restarts: s.event.restarts });
    })();
    return s.stopping;
  }

  async function openEndpoint(input: RelayInput): Promise<SourceEndpoint | undefined> {
    if (!needsProxy(input)) {
      if (input.credentials) throw new Error('credentials cannot be given to this source without exposing them');
      return undefined;
    }
    return getProxy().open({
      url: input.url,
      credentials: input.credentials ?? null,
      transport: input.rtspTransport ?? 'tcp',
      ...(input.preferTransport ? { preferTransport: input.preferTransport } : {}),
    });
  }

  /** Kills an ffmpeg a dead server left recording under our root (verified by /proc, by process group). */
  function killOrphan(rec: PidRecord, result: RecoverResult): void {
    const argv = processes.cmdline(rec.pid);
    if (!argv?.length || !path.basename(argv[0]!).includes('ffmpeg')) return;
    if (!argv.some((a) => a.startsWith(rootDir + path.sep))) return;
    if (processes.stat(rec.pid)?.pgrp !== rec.pid) return;
    log.warn('killing a recorder ffmpeg left by a previous server', { pid: rec.pid, key: rec.key });
    processes.signalGroup(rec.pid, 'SIGKILL');
    result.killed.push(rec.pid);
  }

  async function waitGone(pids: number[]): Promise<void> {
    const end = clock.now() + 3_000;
    while (pids.some((p) => processes.stat(p)) && clock.now() < end) {
      await new Promise<void>((r) => clock.setTimeout(r, 50));
    }
  }

  return {
    rootDir,

    async start(key, input) {
      if (closed) throw new Error('the recorder is shutting down');
      const check = validateSourceUrl(input.url);
      if (!check.ok) throw new Error(`invalid source URL: ${check.reason}`);
      const wanted: RelayInput = { ...input, url: check.url };
      const existing = sessions.get(key);
      if (existing && !existing.stopping && sameInput(existing.input, wanted)) return;
      if (existing) await stopSession(existing);
      if (closed) throw new Error('the recorder is shutting down');
      const dir = path.join(rootDir, streamDirName(key));
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'key'), key);
      const s: Session = {
        key,
        dir,
        input: wanted,
        supervisor: undefined,
        endpoint: undefined,
        run: undefined,
        event: { state: 'starting', restarts: 0 },
        stopping: undefined,
        finishing: new Set(),
        polling: undefined,
      };
      sessions.set(key, s);
      try {
        s.endpoint = await openEndpoint(wanted);
      } catch (err) {
        sessions.delete(key);
        throw err;
      }
      if (closed || sessions.get(key) !== s) {
        s.endpoint?.close();
        return;
      }
      startSupervisor(s);
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
    },

    keys: () => [...sessions.keys()],

    status(key) {
      const s = sessions.get(key);
      if (!s) return undefined;
      const st = s.supervisor?.status();
      return {
        key,
        ...s.event,
        ...(st?.pid !== undefined ? { pid: st.pid } : {}),
        ...(s.run ? { runDir: s.run.dir } : {}),
        ...(st ? { restarts: st.restarts } : {}),
        stderr: s.supervisor?.stderrTail() ?? [],
      };
    },

    on(event: 'segment' | 'state', fn: ((s: RecordedSegment) => void) | ((e: RecorderStateEvent) => void)) {
      if (event === 'segment') {
        const f = fn as (s: RecordedSegment) => void;
        segmentListeners.add(f);
        return () => segmentListeners.delete(f);
      }
      const f = fn as (e: RecorderStateEvent) => void;
      stateListeners.add(f);
      return () => stateListeners.delete(f);
    },

    async recover() {
      const result: RecoverResult = { killed: [], segments: [], repaired: [], dropped: [] };
      const liveDirs = new Set<string>();
      for (const file of safeReaddir(pidDir)) {
        if (!file.endsWith('.json')) continue;
        const dirName = file.slice(0, -5);
        let rec: PidRecord | undefined;
        try {
          rec = JSON.parse(readFileSync(path.join(pidDir, file), 'utf8')) as PidRecord;
        } catch {
          rec = undefined;
        }
        if (rec && rec.owner === process.pid && rec.ownerStartTime === ownStartTime) {
          liveDirs.add(dirName);
          continue;
        }
        const owner = rec ? processes.stat(rec.owner) : null;
        if (rec && owner && rec.ownerStartTime !== null && owner.startTime === rec.ownerStartTime) {
          // Another live server records here (same data): its directories are not ours to touch.
          liveDirs.add(dirName);
          continue;
        }
        if (rec && Number.isInteger(rec.pid)) killOrphan(rec, result);
        rmSync(path.join(pidDir, file), { force: true });
      }
      await waitGone(result.killed);
      const recording = new Set([...sessions.values()].map((s) => s.run?.dir));
      for (const dirName of safeReaddir(rootDir)) {
        if (dirName.startsWith('.') || liveDirs.has(dirName)) continue;
        const dir = path.join(rootDir, dirName);
        let key: string;
        try {
          key = readFileSync(path.join(dir, 'key'), 'utf8');
        } catch {
          continue;
        }
        for (const runDirName of safeReaddir(dir).sort()) {
          const runDir = path.join(dir, runDirName);
          if (runDirName === 'key' || recording.has(runDir)) continue;
          let listed: ReturnType<typeof parseSegmentList> = [];
          let listBytes = 0;
          try {
            const text = readFileSync(path.join(runDir, SEGMENT_LIST));
            listBytes = text.lastIndexOf(0x0a) + 1;
            listed = parseSegmentList(text.subarray(0, listBytes).toString('utf8'));
          } catch {
            listed = [];
          }
          const run: Run = { dir: runDir, listed: 0, listOffset: listBytes, lastEnd: 0, names: new Set() };
          for (const l of listed) {
            run.listed++;
            run.lastEnd = l.end;
            run.names.add(l.name);
            const seg = await segmentOf(key, runDir, l);
            if (seg) result.segments.push(seg);
          }
          const before = new Set(safeReaddir(runDir).filter((n) => RECORD_SEGMENT_FILE.test(n)));
          const fixed = await finishRun(key, run, false);
          for (const seg of fixed) {
            result.segments.push(seg);
            result.repaired.push(seg.rel);
          }
          const after = new Set(safeReaddir(runDir).filter((n) => RECORD_SEGMENT_FILE.test(n)));
          for (const n of before) if (!after.has(n)) result.dropped.push(relOf(path.join(runDir, n)));
        }
      }
      return result;
    },

    resolve(rel) {
      const abs = path.resolve(rootDir, rel);
      return abs.startsWith(rootDir + path.sep) ? abs : null;
    },

    async remove(rel) {
      const abs = path.resolve(rootDir, rel);
      if (!abs.startsWith(rootDir + path.sep)) return false;
      await rm(abs, { force: true });
      const runDir = path.dirname(abs);
      const isWritten = [...sessions.values()].some((s) => s.run?.dir === runDir);
      if (!isWritten && !safeReaddir(runDir).some((n) => RECORD_SEGMENT_FILE.test(n))) {
        await rm(runDir, { recursive: true, force: true });
      }
      return true;
    },

    async usage() {
      let total = 0;
      const walk = (dir: string) => {
        for (const n of safeReaddir(dir)) {
          const p = path.join(dir, n);
          try {
            const st = statSync(p);
            if (st.isDirectory()) walk(p);
            else total += st.size;
          } catch {
            // gone meanwhile
          }
        }
      };
      walk(rootDir);
      return total;
    },
  };
}
