/**
 * Clip store: each camera's looping H.264 clip and snapshot are encoded ONCE with ffmpeg, cached on disk,
 * then served from memory by the simulator itself. At most `maxConcurrent` ffmpeg processes run at a time;
 * other requests queue. Argument lists come from pure functions (tested as tables).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { prepareStream, type H264Stream } from './h264.ts';
import type { SimStreamName, SimStreamProfile } from './types.ts';

export const DEFAULT_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';
/** Bump when the picture or encoder settings change, so stale cached clips are not reused. */
const CLIP_VERSION = 1;

export interface ClipParams {
  code: string;
  /** Second caption line, e.g. the model. Only [A-Za-z0-9 ._/-] survive. */
  caption: string;
  stream: SimStreamName;
  profile: SimStreamProfile;
  gopFrames: number;
  seconds: number;
  /** Hue rotation (degrees) so neighbouring tiles on a wall do not look identical. */
  hue: number;
}

const safeText = (s: string) => s.replace(/[^A-Za-z0-9 ._/-]/g, '').slice(0, 60);

function encoderArgs(p: SimStreamProfile, gopFrames: number): string[] {
  const kbps = Math.max(64, Math.round(p.bitrateKbps));
  // prettier-ignore
  return [
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26',
    '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`,
    '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-bf', '0',
    '-g', String(gopFrames), '-keyint_min', String(gopFrames), '-sc_threshold', '0',
    '-x264-params', 'repeat-headers=1',
    '-f', 'h264',
  ];
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

function pictureFilters(p: ClipParams, fontFile: string | undefined, withClock: boolean): string {
  const { width: w, height: h } = p.profile;
  const big = Math.max(8, Math.floor(Math.min(h / 9, w / 13)));
  const small = Math.max(8, Math.floor(big * 0.55));
  const label = `${p.stream === 'main' ? 'MAIN' : 'SUB'} ${w}x${h} ${p.profile.fps}fps`;
  const f = [
    `hue=h=${Math.round(p.hue) % 360}`,
    drawtext(fontFile, safeText(p.code), big, 'white', '(w-tw)/2', 'h*0.10'),
    drawtext(
      fontFile,
      safeText(`${p.caption}  ${label}`),
      small,
      'white',
      '(w-tw)/2',
      `h*0.10+${Math.round(big * 1.5)}`,
    ),
  ];
  if (withClock) f.push(drawtext(fontFile, '%{pts\\:hms}', small, 'yellow', `${small}`, `h-th-${small}`));
  return f.join(',');
}

/** ffmpeg arguments that encode one camera's looping clip to an Annex-B file. */
export function clipEncodeArgs(p: ClipParams, outFile: string, fontFile?: string): string[] {
  const { width, height, fps } = p.profile;
  // prettier-ignore
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}:duration=${p.seconds}`,
    '-vf', pictureFilters(p, fontFile, true),
    ...encoderArgs(p.profile, p.gopFrames),
    outFile,
  ];
}

/**
 * A template clip per stream geometry: x264 with identical parameters writes identical SPS/PPS, so
 * DESCRIBE can answer from it without encoding the camera's own clip (health checks stay cheap).
 */
export function templateEncodeArgs(profile: SimStreamProfile, gopFrames: number, outFile: string): string[] {
  const { width, height, fps } = profile;
  // prettier-ignore
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`,
    '-frames:v', '2',
    ...encoderArgs(profile, gopFrames),
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
  return `${p.code}-${p.stream}-${width}x${height}-${fps}fps-g${p.gopFrames}-${hash([CLIP_VERSION, p])}.h264`;
}

export function templateFileName(profile: SimStreamProfile, gopFrames: number): string {
  const { width, height, fps } = profile;
  return `template-${width}x${height}-${fps}fps-g${gopFrames}-${hash([CLIP_VERSION, profile, gopFrames])}.h264`;
}

export function snapshotFileName(p: ClipParams): string {
  return `${p.code}-snapshot-${p.profile.width}x${p.profile.height}-${hash([CLIP_VERSION, 'jpg', p.code, p.caption, p.hue, p.profile.width, p.profile.height])}.jpg`;
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

interface Loaded {
  stream: H264Stream;
  refs: number;
  lastUsed: number;
}

export interface ClipStoreOptions {
  dir: string;
  ffmpegPath?: string;
  fontFile?: string;
  maxConcurrent?: number;
  /** Unreferenced clips kept in memory for quick re-play. */
  maxIdleClips?: number;
  run?: RunProcess;
}

export class ClipStore {
  readonly #dir: string;
  readonly #ffmpeg: string;
  readonly #font: string | undefined;
  readonly #max: number;
  readonly #maxIdle: number;
  readonly #run: RunProcess;
  readonly #inflight = new Map<string, Promise<unknown>>();
  readonly #loaded = new Map<string, Loaded>();
  readonly #templates = new Map<string, H264Stream>();
  readonly #snapshots = new Map<string, Buffer>();
  readonly #queue: Array<() => void> = [];
  readonly #running = new Set<{ kill(): void }>();
  #active = 0;
  #stopped = false;
  encodes = 0;

  constructor(o: ClipStoreOptions) {
    this.#dir = o.dir;
    this.#ffmpeg = o.ffmpegPath ?? 'ffmpeg';
    this.#font = existsSync(o.fontFile ?? DEFAULT_FONT) ? (o.fontFile ?? DEFAULT_FONT) : undefined;
    this.#max = o.maxConcurrent ?? 2;
    this.#maxIdle = o.maxIdleClips ?? 8;
    this.#run = o.run ?? spawnProcess;
  }

  stats() {
    return {
      ffmpegRunning: this.#active,
      ffmpegQueued: this.#queue.length,
      clipsInMemory: this.#loaded.size,
      encodes: this.encodes,
    };
  }

  /** Loads (encoding if needed) a camera's clip and holds a reference until `release`. */
  async acquire(p: ClipParams): Promise<H264Stream> {
    const key = clipFileName(p);
    const have = this.#loaded.get(key);
    if (have) {
      have.refs++;
      have.lastUsed = Date.now();
      return have.stream;
    }
    const stream = await this.#once(`clip:${key}`, async () => {
      const file = await this.#ensureFile(key, (out) => clipEncodeArgs(p, out, this.#font));
      return prepareStream(await readFile(file));
    });
    const again = this.#loaded.get(key);
    if (again) {
      again.refs++;
      return again.stream;
    }
    this.#loaded.set(key, { stream, refs: 1, lastUsed: Date.now() });
    this.#evict();
    return stream;
  }

  release(p: ClipParams): void {
    const l = this.#loaded.get(clipFileName(p));
    if (!l) return;
    l.refs = Math.max(0, l.refs - 1);
    l.lastUsed = Date.now();
    this.#evict();
  }

  /** SPS/PPS for a stream geometry without touching any camera's own clip. */
  async template(profile: SimStreamProfile, gopFrames: number): Promise<H264Stream> {
    const key = templateFileName(profile, gopFrames);
    const t = this.#templates.get(key);
    if (t) return t;
    const stream = await this.#once(`tpl:${key}`, async () => {
      const file = await this.#ensureFile(key, (out) => templateEncodeArgs(profile, gopFrames, out));
      return prepareStream(await readFile(file));
    });
    this.#templates.set(key, stream);
    return stream;
  }

  async snapshot(p: ClipParams): Promise<Buffer> {
    const key = snapshotFileName(p);
    const s = this.#snapshots.get(key);
    if (s) return s;
    const jpeg = await this.#once(`jpg:${key}`, async () =>
      readFile(await this.#ensureFile(key, (out) => snapshotArgs(p, out, this.#font))),
    );
    this.#snapshots.set(key, jpeg);
    while (this.#snapshots.size > 64) this.#snapshots.delete(this.#snapshots.keys().next().value!);
    return jpeg;
  }

  /** Kills running encoders and fails queued ones. */
  stop(): void {
    this.#stopped = true;
    for (const r of this.#running) r.kill();
    for (const wake of this.#queue.splice(0)) wake();
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

  async #ensureFile(name: string, args: (out: string) => string[]): Promise<string> {
    const file = path.join(this.#dir, name);
    const st = await stat(file).catch(() => undefined);
    if (st && st.size > 0) return file;
    await mkdir(this.#dir, { recursive: true });
    await this.#slot();
    try {
      if (this.#stopped) throw new Error('simulator stopped');
      // Another process sharing the clip dir may have finished it meanwhile.
      const again = await stat(file).catch(() => undefined);
      if (again && again.size > 0) return file;
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      const proc = this.#run(this.#ffmpeg, args(tmp));
      this.#running.add(proc);
      try {
        await proc.done;
        this.encodes++;
        await rename(tmp, file);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      } finally {
        this.#running.delete(proc);
      }
      return file;
    } finally {
      this.#release();
    }
  }

  #slot(): Promise<void> {
    if (this.#active < this.#max) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.#queue.push(() => {
        this.#active++;
        resolve();
      }),
    );
  }

  #release(): void {
    this.#active--;
    const next = this.#queue.shift();
    if (next) next();
  }
}
