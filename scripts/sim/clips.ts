/**
 * Clip store: each camera's looping H.264 clip and snapshot are encoded ONCE with ffmpeg, cached on disk,
 * then served from memory by the simulator itself. Besides the per-camera clips there is one shared
 * placeholder clip per stream geometry (same encoder settings, so the same SPS/PPS), streamed while a
 * camera's own clip is not ready yet and answering DESCRIBE.
 *
 * At most `maxConcurrent` ffmpeg processes run at a time; other requests queue by priority: placeholder
 * clips first, then on-demand encodes (a PLAY or a snapshot waits), then background prewarm (niced, at most
 * `prewarm.maxConcurrent` at once, only while nothing else waits). Argument lists come from pure functions
 * (tested as tables).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { prepareStream, type H264Stream } from './h264.ts';
import { pictureFaultFilter, type SimPictureFault } from './picture-faults.ts';
import type { SimStreamName, SimStreamProfile } from './types.ts';
import { clockBandLayout } from './wallclock.ts';

export const DEFAULT_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';
/** Bump when the picture or encoder settings change, so stale cached clips are not reused. */
const CLIP_VERSION = 2;

export interface ClipParams {
  code: string;
  /** Second caption line, e.g. the model. Only [A-Za-z0-9 ._/-] survive. */
  caption: string;
  stream: SimStreamName;
  profile: SimStreamProfile;
  gopFrames: number;
  /** Nominal length; the clip holds whole GOPs (`clipFrames`), so its loop point is a keyframe. */
  seconds: number;
  /** Hue rotation (degrees) so neighbouring tiles on a wall do not look identical. */
  hue: number;
  /**
   * The shared placeholder of a stream geometry (see `placeholderParams`): no camera code in the picture,
   * cached per (size, fps, bitrate, GOP, length) rather than per camera.
   */
  placeholder?: boolean;
  /** A picture fault (picture-faults.ts) applied to the scene before the text and the band are drawn. */
  picture?: SimPictureFault;
}

/** The shared clip of one stream geometry: "SIM" and the geometry, no camera identity. */
export function placeholderParams(profile: SimStreamProfile, gopFrames: number, seconds: number): ClipParams {
  return { code: 'SIM', caption: '', stream: 'main', profile, gopFrames, seconds, hue: 0, placeholder: true };
}

/** Frames in the clip: `seconds` rounded up to whole GOPs, so keyframes stay evenly spaced across loops. */
export function clipFrames(p: Pick<ClipParams, 'profile' | 'gopFrames' | 'seconds'>): number {
  const frames = Math.max(1, Math.round(p.seconds * p.profile.fps));
  return Math.ceil(frames / p.gopFrames) * p.gopFrames;
}

const safeText = (s: string) => s.replace(/[^A-Za-z0-9 ._/-]/g, '').slice(0, 60);

function encoderArgs(p: SimStreamProfile, gopFrames: number): string[] {
  const kbps = Math.max(64, Math.round(p.bitrateKbps));
  const band = clockBandLayout(p.width, p.height);
  // The clock band's macroblock rows are a slice of their own, which the simulator replaces (wallclock.ts).
  const x264 = ['repeat-headers=1', ...(band ? [`slice-max-mbs=${band.firstMb}`] : [])].join(':');
  // prettier-ignore
  return [
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26',
    '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`,
    '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-bf', '0',
    '-g', String(gopFrames), '-keyint_min', String(gopFrames), '-sc_threshold', '0',
    '-x264-params', x264,
    '-f', 'h264',
  ];
}

/**
 * Black where the clock band goes, and 8 pixels above it: the encoder's pictures then match what a decoder
 * shows around the band, which the simulator draws itself (no deblocking across its edge).
 */
function bandFilter(p: SimStreamProfile): string[] {
  const band = clockBandLayout(p.width, p.height);
  if (!band) return [];
  const y = band.firstRow * 16 - 8;
  return [`drawbox=x=0:y=${y}:w=iw:h=${p.height - y}:color=black:t=fill`];
}

function drawtext(
  fontFile: string | undefined,
  text: string,
  size: number,
  color: string,
  x: string,
  y: string,
): string {
  const font = fontFile ? `fontfile=${fontFile}:` : '';
  return `drawtext=${font}text='${text}':fontsize=${size}:fontcolor=${color}:box=1:boxcolor=black@0.55:boxborderw=${Math.max(2, Math.round(size / 8))}:x=${x}:y=${y}`;
}

function pictureFilters(p: ClipParams, fontFile: string | undefined, withBand: boolean): string {
  const band = withBand ? bandFilter(p.profile) : [];
  const fault = p.picture ? [pictureFaultFilter(p.picture)] : [];
  // Without a font file (no fonts-dejavu on the machine) drawtext would fail; the picture then
  // carries no text rather than no video at all.
  if (!fontFile) return [p.placeholder ? 'null' : `hue=h=${Math.round(p.hue) % 360}`, ...fault, ...band].join(',');
  const { width: w, height: h } = p.profile;
  const big = Math.max(8, Math.floor(Math.min(h / 9, w / 13)));
  const small = Math.max(8, Math.floor(big * 0.55));
  if (p.placeholder) {
    // Shared by every camera of this geometry: no code, no hue; cheap to encode.
    return [
      ...fault,
      drawtext(fontFile, 'SIM', big, 'white', '(w-tw)/2', 'h*0.10'),
      drawtext(
        fontFile,
        `${w}x${h} ${p.profile.fps}fps`,
        small,
        'white',
        '(w-tw)/2',
        `h*0.10+${Math.round(big * 1.5)}`,
      ),
      ...band,
    ].join(',');
  }
  const label = `${p.stream === 'main' ? 'MAIN' : 'SUB'} ${w}x${h} ${p.profile.fps}fps`;
  return [
    `hue=h=${Math.round(p.hue) % 360}`,
    ...fault,
    drawtext(fontFile, safeText(p.code), big, 'white', '(w-tw)/2', 'h*0.10'),
    drawtext(
      fontFile,
      safeText(`${p.caption}  ${label}`),
      small,
      'white',
      '(w-tw)/2',
      `h*0.10+${Math.round(big * 1.5)}`,
    ),
    ...band,
  ].join(',');
}

/** ffmpeg arguments that encode one camera's looping clip to an Annex-B file. */
export function clipEncodeArgs(p: ClipParams, outFile: string, fontFile?: string): string[] {
  const { width, height, fps } = p.profile;
  // prettier-ignore
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`,
    '-vf', pictureFilters(p, fontFile, true),
    '-frames:v', String(clipFrames(p)),
    ...encoderArgs(p.profile, p.gopFrames),
    outFile,
  ];
}

export function snapshotArgs(p: ClipParams, outFile: string, fontFile?: string): string[] {
  const { width, height } = p.profile;
  // prettier-ignore
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=1`,
    '-vf', pictureFilters(p, fontFile, false),
    '-frames:v', '1', '-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', '5', '-f', 'mjpeg',
    outFile,
  ];
}

function hash(parts: unknown): string {
  return createHash('sha1').update(JSON.stringify(parts)).digest('hex').slice(0, 10);
}

export function clipFileName(p: ClipParams): string {
  const { width, height, fps } = p.profile;
  if (p.placeholder) {
    const key = [CLIP_VERSION, 'placeholder', p.profile, p.gopFrames, p.seconds, ...(p.picture ? [p.picture] : [])];
    return `placeholder-${p.picture ? `${p.picture}-` : ''}${width}x${height}-${fps}fps-g${p.gopFrames}-${hash(key)}.h264`;
  }
  return `${p.code}-${p.stream}-${width}x${height}-${fps}fps-g${p.gopFrames}-${hash([CLIP_VERSION, p])}.h264`;
}

export function snapshotFileName(p: ClipParams): string {
  const { width, height } = p.profile;
  // A picture fault shows in the snapshot too; without one the names (and the cached files) stay as they were.
  const fault = p.picture ? [p.picture] : [];
  if (p.placeholder)
    return `placeholder-snapshot-${width}x${height}-${hash([CLIP_VERSION, 'jpg', width, height, ...fault])}.jpg`;
  return `${p.code}-snapshot-${p.profile.width}x${p.profile.height}-${hash([CLIP_VERSION, 'jpg', p.code, p.caption, p.hue, p.profile.width, p.profile.height, ...fault])}.jpg`;
}

/** Running one ffmpeg: the only process side effect of the simulator, behind this seam. */
export type RunProcess = (cmd: string, args: string[]) => { done: Promise<void>; kill(): void; pid?: number };

export const spawnProcess: RunProcess = (cmd, args) => {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const tail: string[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    tail.push(s);
    if (tail.length > 20) tail.shift();
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited ${code ?? signal}: ${tail.join('').trim().slice(-800)}`));
    });
  });
  return {
    done,
    pid: child.pid,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
};

/** Where `nice` lives; prewarm encoders run under it so on-demand work and RTP pacing keep the CPU. */
export const NICE = '/usr/bin/nice';

/** Queue order: placeholder clips, then on-demand encodes, then background prewarm. */
export type EncodePriority = 'placeholder' | 'demand' | 'prewarm';

interface Waiter {
  prio: EncodePriority;
  /** Request order: queues are served first come, first served by this, whatever the disk checks took. */
  seq: number;
  /** Waiting in a queue (not yet holding a slot). */
  queued: boolean;
  /** Priority it was granted its slot with (what `#release` must undo). */
  granted?: EncodePriority;
  wake: () => void;
}

interface Encoded {
  file: string;
  /** False when the file was on disk already. */
  encoded: boolean;
}

interface Loaded {
  stream: H264Stream;
  refs: number;
  lastUsed: number;
}

export interface ClipStoreOptions {
  dir: string;
  ffmpegPath?: string;
  fontFile?: string;
  /** ffmpeg processes at once, all kinds together (default 2). */
  maxConcurrent?: number;
  /** Unreferenced clips kept in memory for quick re-play. */
  maxIdleClips?: number;
  run?: RunProcess;
  /** `nice` binary for prewarm encoders; null: run them plainly (default /usr/bin/nice when it exists). */
  nice?: string | null;
}

export interface PrewarmResult {
  encoded: number;
  cached: number;
  failed: number;
}

export class ClipStore {
  readonly #dir: string;
  readonly #ffmpeg: string;
  readonly #font: string | undefined;
  readonly #max: number;
  readonly #maxIdle: number;
  readonly #run: RunProcess;
  readonly #nice: string | null;
  readonly #inflight = new Map<string, Promise<unknown>>();
  /** Encodes of one output file in progress (or waiting), shared by everyone who needs that file. */
  readonly #files = new Map<string, { done: Promise<Encoded>; waiter: Waiter }>();
  /** Files known to be complete on disk (positive results only). */
  readonly #onDisk = new Set<string>();
  readonly #loaded = new Map<string, Loaded>();
  readonly #placeholders = new Map<string, H264Stream>();
  readonly #snapshots = new Map<string, Buffer>();
  readonly #queues: Record<EncodePriority, Waiter[]> = { placeholder: [], demand: [], prewarm: [] };
  readonly #running = new Set<{ kill(): void; done: Promise<void> }>();
  #active = 0;
  #activePrewarm = 0;
  #prewarmMax = 1;
  /** Clips handed to `prewarm` that are still being looked for on disk (not queued yet). */
  #prewarmChecking = 0;
  /** Live `acquire` callers per clip file. */
  readonly #wanted = new Map<string, number>();
  #seq = 0;
  #stopped = false;
  encodes = 0;

  constructor(o: ClipStoreOptions) {
    this.#dir = o.dir;
    this.#ffmpeg = o.ffmpegPath ?? 'ffmpeg';
    this.#font = existsSync(o.fontFile ?? DEFAULT_FONT) ? (o.fontFile ?? DEFAULT_FONT) : undefined;
    this.#max = Math.max(1, o.maxConcurrent ?? 2);
    this.#maxIdle = o.maxIdleClips ?? 8;
    this.#run = o.run ?? spawnProcess;
    this.#nice = o.nice === undefined ? (existsSync(NICE) ? NICE : null) : o.nice;
  }

  stats() {
    return {
      ffmpegRunning: this.#active,
      /** Placeholder and on-demand encodes waiting for a slot. */
      ffmpegQueued: this.#queues.placeholder.length + this.#queues.demand.length,
      prewarmRunning: this.#activePrewarm,
      /** Background encodes (prewarm, abandoned on-demand) waiting, incl. prewarm clips not checked yet. */
      prewarmQueued: this.#queues.prewarm.length + this.#prewarmChecking,
      clipsInMemory: this.#loaded.size,
      placeholderClips: this.#placeholders.size,
      encodes: this.encodes,
    };
  }

  /**
   * Loads (encoding if needed) a camera's clip and holds a reference until `release`. When every caller
   * waiting for an encode that has not started yet has aborted (`signal`: the viewer went away, as a health
   * probe does after its first packet), the encode drops to the background queue (niced, like prewarm)
   * instead of holding up viewers who are still watching; the promise still settles.
   */
  async acquire(p: ClipParams, signal?: AbortSignal): Promise<H264Stream> {
    const have = this.tryAcquire(p);
    if (have) return have;
    const key = clipFileName(p);
    const loading = this.#once(`clip:${key}`, async () => {
      const { file } = await this.#ensureFile(key, (out) => clipEncodeArgs(p, out, this.#font), 'demand');
      return prepareStream(await readFile(file));
    });
    const job = this.#files.get(key);
    if (job) this.#promote(job.waiter, 'demand'); // e.g. queued by prewarm, or dropped back earlier
    const unwant = this.#want(key, signal);
    const stream = await loading.finally(unwant);
    const again = this.#loaded.get(key);
    if (again) {
      again.refs++;
      return again.stream;
    }
    this.#loaded.set(key, { stream, refs: 1, lastUsed: Date.now() });
    this.#evict();
    return stream;
  }

  /** The camera's clip with a reference taken, when it is in memory already; never waits. */
  tryAcquire(p: ClipParams): H264Stream | undefined {
    const have = this.#loaded.get(clipFileName(p));
    if (!have) return undefined;
    have.refs++;
    have.lastUsed = Date.now();
    return have.stream;
  }

  release(p: ClipParams): void {
    const l = this.#loaded.get(clipFileName(p));
    if (!l) return;
    l.refs = Math.max(0, l.refs - 1);
    l.lastUsed = Date.now();
    this.#evict();
  }

  /** Whether the clip is complete on disk (loading it then takes milliseconds, no encode). */
  onDisk(p: ClipParams): boolean {
    const name = clipFileName(p);
    if (this.#onDisk.has(name)) return true;
    try {
      if (statSync(path.join(this.#dir, name)).size > 0) {
        this.#onDisk.add(name);
        return true;
      }
    } catch {
      // not there
    }
    return false;
  }

  /**
   * The shared placeholder clip of a stream geometry (`placeholderParams`), encoded once before anything
   * else and kept in memory. Its SPS/PPS are those of every camera clip of that geometry (same encoder
   * settings), so DESCRIBE answers from it.
   */
  async placeholder(p: ClipParams): Promise<H264Stream> {
    const key = clipFileName(p);
    const have = this.#placeholders.get(key);
    if (have) return have;
    const stream = await this.#once(`ph:${key}`, async () => {
      const { file } = await this.#ensureFile(key, (out) => clipEncodeArgs(p, out, this.#font), 'placeholder');
      return prepareStream(await readFile(file));
    });
    this.#placeholders.set(key, stream);
    return stream;
  }

  /** The placeholder clip when it is in memory already. */
  placeholderNow(p: ClipParams): H264Stream | undefined {
    return this.#placeholders.get(clipFileName(p));
  }

  async snapshot(p: ClipParams): Promise<Buffer> {
    const key = snapshotFileName(p);
    const s = this.#snapshots.get(key);
    if (s) return s;
    const jpeg = await this.#once(`jpg:${key}`, async () =>
      readFile((await this.#ensureFile(key, (out) => snapshotArgs(p, out, this.#font), 'demand')).file),
    );
    this.#snapshots.set(key, jpeg);
    while (this.#snapshots.size > 64) this.#snapshots.delete(this.#snapshots.keys().next().value!);
    return jpeg;
  }

  /**
   * Encodes the clips of `list` that are not on disk yet, in list order, in the background: at most
   * `maxConcurrent` (default 1) at a time under `nice -n 10`, only while no placeholder or on-demand
   * encode waits, never more ffmpeg in all than the store's limit. Clips are written to disk, not loaded.
   * A PLAY needing a clip that is still queued here moves it to the on-demand queue.
   */
  async prewarm(list: readonly ClipParams[], o: { maxConcurrent?: number } = {}): Promise<PrewarmResult> {
    this.#prewarmMax = Math.max(1, o.maxConcurrent ?? 1);
    const result: PrewarmResult = { encoded: 0, cached: 0, failed: 0 };
    const todo = new Map(list.map((p) => [clipFileName(p), p]));
    const settled = (what: keyof PrewarmResult) => result[what]++;
    // Disk checks all at once, then the missing clips queue in list order (sub streams first, say).
    this.#prewarmChecking += todo.size;
    const present = await Promise.all([...todo.keys()].map((key) => this.#complete(key)));
    if (!this.#stopped && present.includes(false)) await mkdir(this.#dir, { recursive: true }).catch(() => undefined);
    this.#prewarmChecking -= todo.size;
    const jobs: Array<Promise<unknown>> = [];
    [...todo].forEach(([key, p], i) => {
      if (present[i] || this.#loaded.has(key)) {
        settled('cached');
        return;
      }
      const job = this.#ensureFile(key, (out) => clipEncodeArgs(p, out, this.#font), 'prewarm', false);
      jobs.push(
        job.then(
          (r) => settled(r.encoded ? 'encoded' : 'cached'),
          () => settled('failed'),
        ),
      );
    });
    await Promise.all(jobs);
    return result;
  }

  /** Kills running encoders and fails queued ones; resolves once every spawned process has exited. */
  stop(): Promise<void> {
    this.#stopped = true;
    const running = [...this.#running];
    for (const r of running) r.kill();
    for (const q of Object.values(this.#queues)) {
      for (const w of q.splice(0)) {
        w.queued = false;
        this.#grant(w);
      }
    }
    return Promise.allSettled(running.map((r) => r.done)).then(() => undefined);
  }

  #evict(): void {
    const idle = [...this.#loaded].filter(([, l]) => l.refs === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    while (idle.length > this.#maxIdle) this.#loaded.delete(idle.shift()![0]);
  }

  #once<T>(key: string, make: () => Promise<T>): Promise<T> {
    const existing = this.#inflight.get(key);
    if (existing) return existing as Promise<T>;
    const p = make().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  /** The file's path once it is complete on disk, encoding it (once, however many ask) if needed. */
  #ensureFile(name: string, args: (out: string) => string[], prio: EncodePriority, checkDisk = true): Promise<Encoded> {
    const job = this.#files.get(name);
    if (job) {
      this.#promote(job.waiter, prio);
      return job.done;
    }
    const waiter: Waiter = { prio, seq: ++this.#seq, queued: false, wake: () => undefined };
    const done = this.#encodeFile(name, args, waiter, checkDisk).finally(() => this.#files.delete(name));
    this.#files.set(name, { done, waiter });
    return done;
  }

  async #complete(name: string): Promise<boolean> {
    const st = await stat(path.join(this.#dir, name)).catch(() => undefined);
    if (st && st.size > 0) this.#onDisk.add(name);
    return !!st && st.size > 0;
  }

  /** With `checkDisk` false (the caller just checked, dir made) it queues synchronously, keeping call order. */
  async #encodeFile(
    name: string,
    args: (out: string) => string[],
    waiter: Waiter,
    checkDisk: boolean,
  ): Promise<Encoded> {
    const file = path.join(this.#dir, name);
    if (this.#stopped) throw new Error('simulator stopped');
    if (checkDisk) {
      if (await this.#complete(name)) return { file, encoded: false };
      await mkdir(this.#dir, { recursive: true });
    }
    await this.#slot(waiter);
    try {
      if (this.#stopped) throw new Error('simulator stopped');
      // Another process sharing the clip dir may have finished it meanwhile.
      if (await this.#complete(name)) return { file, encoded: false };
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      const ffArgs = args(tmp);
      const proc =
        waiter.granted === 'prewarm' && this.#nice
          ? this.#run(this.#nice, ['-n', '10', this.#ffmpeg, ...ffArgs])
          : this.#run(this.#ffmpeg, ffArgs);
      // `done` settles after the process has exited AND its temporary file is renamed or removed.
      let cleaned!: () => void;
      const tracked = { kill: () => proc.kill(), done: new Promise<void>((r) => (cleaned = r)) };
      this.#running.add(tracked);
      try {
        await proc.done;
        this.encodes++;
        await rename(tmp, file);
        this.#onDisk.add(name);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      } finally {
        this.#running.delete(tracked);
        cleaned();
      }
      return { file, encoded: true };
    } finally {
      this.#release(waiter);
    }
  }

  /** Counts a live caller of `acquire`; returns its release (idempotent), also run on abort. */
  #want(key: string, signal: AbortSignal | undefined): () => void {
    this.#wanted.set(key, (this.#wanted.get(key) ?? 0) + 1);
    let done = false;
    const unwant = () => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', unwant);
      const n = (this.#wanted.get(key) ?? 1) - 1;
      if (n > 0) {
        this.#wanted.set(key, n);
        return;
      }
      this.#wanted.delete(key);
      const w = this.#files.get(key)?.waiter;
      if (w && w.queued && w.prio === 'demand') {
        // Nobody waits for it any more: background priority, queued by its request order.
        const q = this.#queues.demand;
        q.splice(q.indexOf(w), 1);
        w.prio = 'prewarm';
        this.#enqueue('prewarm', w);
      }
    };
    if (signal?.aborted) queueMicrotask(unwant);
    else signal?.addEventListener('abort', unwant, { once: true });
    return unwant;
  }

  #promote(w: Waiter, prio: EncodePriority): void {
    const rank = { placeholder: 0, demand: 1, prewarm: 2 } as const;
    if (rank[prio] >= rank[w.prio]) return;
    if (w.queued) {
      const q = this.#queues[w.prio];
      q.splice(q.indexOf(w), 1);
      this.#enqueue(prio, w);
    }
    w.prio = prio;
    if (w.queued) this.#pump();
  }

  #enqueue(prio: EncodePriority, w: Waiter): void {
    const q = this.#queues[prio];
    let i = q.length;
    while (i > 0 && q[i - 1]!.seq > w.seq) i--;
    q.splice(i, 0, w);
  }

  #slot(w: Waiter): Promise<void> {
    return new Promise((resolve) => {
      w.wake = resolve;
      w.queued = true;
      this.#enqueue(w.prio, w);
      this.#pump();
    });
  }

  #grant(w: Waiter): void {
    this.#active++;
    w.granted = w.prio;
    if (w.prio === 'prewarm') this.#activePrewarm++;
    w.wake();
  }

  /** Hands free slots out by priority; prewarm only when nothing else waits and below its own limit. */
  #pump(): void {
    while (this.#active < this.#max && !this.#stopped) {
      const q = this.#queues;
      let next = q.placeholder.shift() ?? q.demand.shift();
      if (!next && this.#activePrewarm < this.#prewarmMax) next = q.prewarm.shift();
      if (!next) return;
      next.queued = false;
      this.#grant(next);
    }
  }

  #release(w: Waiter): void {
    if (w.granted === undefined) return;
    this.#active--;
    if (w.granted === 'prewarm') this.#activePrewarm--;
    w.granted = undefined;
    this.#pump();
  }
}
