/**
 * One picture diagnosis: sample a camera's stream with one short ffmpeg (niced, killed at a deadline), measure
 * the pictures, judge them. The caller (the server's quality module) decides which cameras, when, how many at
 * once, with which thresholds and against which reference.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { systemTimerClock, type TimerClock } from '../clock.ts';
import { redactUrls } from '../output-text.ts';
import type { ProcessRunner } from '../process.ts';
import { buildSampleArgs, type SampleInput } from './args.ts';
import { judgePicture, type PictureFaultKind, type QualityThresholds } from './judge.ts';
import {
  ANALYSIS_HEIGHT,
  ANALYSIS_WIDTH,
  measureSample,
  splitYuv444,
  type SampleMeasures,
  type SceneSignature,
  type YuvFrame,
} from './measures.ts';

/** Why no picture could be measured. */
export const SAMPLE_FAILURES = [
  'timeout',
  'refused',
  'unauthorized',
  'not_found',
  'no_video',
  'invalid_data',
  'no_picture',
  'ffmpeg_failed',
] as const;
export type SampleFailure = (typeof SAMPLE_FAILURES)[number];

/**
 * good: pictures measured, nothing wrong; faulty: pictures measured and something wrong, or no picture came
 * (no_signal, with the reason); failed: the diagnosis itself could not run or read what came (garbage, no
 * ffmpeg) — says nothing about the camera.
 */
export type DiagnosisStatus = 'good' | 'faulty' | 'failed';

export interface DiagnosisResult {
  status: DiagnosisStatus;
  kinds: PictureFaultKind[];
  reason: SampleFailure | null;
  /** ffmpeg's last error line, credentials masked (for the logs and the technician). */
  detail: string | null;
  measures: SampleMeasures | null;
  /** The scene as sampled now; becomes the point's reference when it has none (or a technician renews it). */
  signature: SceneSignature | null;
  /** JPEG of the first picture. */
  thumbnail: Buffer | null;
  pictures: number;
  /** Wall time of the sample, ms. */
  ms: number;
  /** CPU time of the measuring in this process, ms (ffmpeg's own is the caller's to measure). */
  analysisMs: number;
}

export interface DiagnoseOptions {
  thresholds: QualityThresholds;
  reference: SceneSignature | null;
  /** Kill ffmpeg and give up after this long (a first keyframe can take a whole GOP: up to 8 s on some cameras). */
  timeoutMs: number;
  /** Seconds between the first and the last picture measured (default 1.5: enough to tell frozen from live). */
  sampleSeconds?: number;
}

export interface PictureDiagnoserOptions {
  ffmpegPath: string;
  runner: ProcessRunner;
  /** Where thumbnails are written before they are read back (then deleted). */
  tmpDir: string;
  /** `nice` binary: diagnosis ffmpeg runs at the lowest priority so live relays keep the CPU. Null: plainly. */
  nice: string | null;
  niceLevel?: number;
  legacyFfmpeg?: boolean;
  clock?: TimerClock;
  /**
   * Measure in a worker thread (default): the caller's event loop stays free for live video. False measures
   * inline (unit tests, or where workers are not wanted).
   */
  measureInWorker?: boolean;
}

const PICTURES_PER_SECOND = 4;
const FRAME_BYTES = ANALYSIS_WIDTH * ANALYSIS_HEIGHT * 3;

/** The reason ffmpeg's stderr gives, by the phrases ffmpeg 4–7 use. */
export function failureOf(stderr: string, timedOut: boolean): SampleFailure {
  // An RTSP status comes first: ffmpeg follows `method DESCRIBE failed: 503 …` with "Invalid data found when
  // processing input", which read as garbage from a camera that had only refused or not answered in time.
  const status = /method \w+ failed: (\d{3})/.exec(stderr)?.[1];
  if (status) {
    const code = Number(status);
    if (code === 401 || code === 403) return 'unauthorized';
    if (code === 404) return 'not_found';
    if (code === 408 || code === 504) return 'timeout';
    return 'refused';
  }
  if (/401 Unauthorized|Unauthorized|403 Forbidden/i.test(stderr)) return 'unauthorized';
  if (/Connection refused/i.test(stderr)) return 'refused';
  if (/404 Not Found|Server returned 404/i.test(stderr)) return 'not_found';
  if (/matches no streams|does not contain any stream|no video/i.test(stderr)) return 'no_video';
  if (/Invalid data found|Invalid NAL|non-existing PPS/i.test(stderr)) return 'invalid_data';
  // No keyframe within the probe: the stream delivered no decodable picture (not garbage).
  if (/could not find codec parameters/i.test(stderr)) return 'no_picture';
  if (timedOut || /timed out|Connection timed out|Operation timed out/i.test(stderr)) return 'timeout';
  return 'no_picture';
}

const lastLine = (text: string) =>
  redactUrls(
    text
      .trim()
      .split('\n')
      .filter((l) => l.trim())
      .at(-1) ?? '',
  ).slice(0, 300) || null;

type Measured = { measures: SampleMeasures; signature: SceneSignature; kinds: PictureFaultKind[]; cpuMs: number };

/** One worker thread for a diagnoser's measures, started on first use; not keeping the process alive. */
function createMeasureWorker() {
  let worker: Worker | null = null;
  let nextId = 1;
  const waiting = new Map<number, { resolve: (m: Measured) => void; reject: (e: Error) => void }>();
  const failAll = (err: Error) => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
    worker = null;
  };
  const get = () => {
    if (worker) return worker;
    const w = new Worker(new URL('./measure-worker.ts', import.meta.url));
    w.unref();
    w.on('message', (m: (Measured & { id: number }) | { id: number; error: string }) => {
      const pending = waiting.get(m.id);
      waiting.delete(m.id);
      if (!pending) return;
      if ('error' in m) pending.reject(new Error(m.error));
      else pending.resolve(m);
    });
    w.on('error', failAll);
    w.on('exit', () => failAll(new Error('the measuring thread ended')));
    worker = w;
    return w;
  };
  return {
    measure(frames: YuvFrame[], reference: SceneSignature | null, thresholds: QualityThresholds): Promise<Measured> {
      const id = nextId++;
      // Each picture owns its buffer (copied out of ffmpeg's output): handed over, not copied again.
      const pictures = frames.map((f) => f.y.buffer as ArrayBuffer);
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        get().postMessage(
          { id, width: ANALYSIS_WIDTH, height: ANALYSIS_HEIGHT, pictures, reference, thresholds },
          pictures,
        );
      });
    },
  };
}

function measureInline(frames: YuvFrame[], reference: SceneSignature | null, thresholds: QualityThresholds): Measured {
  const cpu = process.cpuUsage();
  const { measures, signature } = measureSample(frames, reference);
  const kinds = judgePicture(measures, thresholds);
  const used = process.cpuUsage(cpu);
  return { measures, signature, kinds, cpuMs: (used.user + used.system) / 1000 };
}

export function createPictureDiagnoser(o: PictureDiagnoserOptions) {
  const clock = o.clock ?? systemTimerClock;
  mkdirSync(o.tmpDir, { recursive: true });
  const worker = o.measureInWorker === false ? null : createMeasureWorker();

  async function sample(
    input: SampleInput,
    opts: DiagnoseOptions,
  ): Promise<{ frames: YuvFrame[]; thumbnail: Buffer | null; stderr: string; timedOut: boolean; spawnError: boolean }> {
    const pictures = Math.max(2, Math.round((opts.sampleSeconds ?? 1.5) * PICTURES_PER_SECOND) + 1);
    const thumbnailPath = path.join(o.tmpDir, `${randomUUID()}.jpg`);
    const args = buildSampleArgs(
      { ...input, ...(o.legacyFfmpeg ? { legacyFfmpeg: true } : {}) },
      { pictures, fps: PICTURES_PER_SECOND, thumbnailPath, thumbnailWidth: 320 },
    );
    const child = o.nice
      ? o.runner.spawn(o.nice, ['-n', String(o.niceLevel ?? 19), o.ffmpegPath, ...args], { detached: true })
      : o.runner.spawn(o.ffmpegPath, args, { detached: true });
    const frames: YuvFrame[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => {
      pending.push(d);
      pendingBytes += d.length;
      while (pendingBytes >= FRAME_BYTES && frames.length < pictures) {
        const all = Buffer.concat(pending);
        // A copy: the planes outlive the chunk they came in.
        frames.push(splitYuv444(new Uint8Array(all.subarray(0, FRAME_BYTES)), ANALYSIS_WIDTH, ANALYSIS_HEIGHT));
        const rest = all.subarray(FRAME_BYTES);
        pending = rest.length ? [rest] : [];
        pendingBytes = rest.length;
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 16_384) stderr += d.toString('utf8');
    });
    const timer = clock.setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    const exit = await new Promise<{ error?: Error }>((resolve) => child.on('exit', resolve));
    clock.clearTimeout(timer);
    let thumbnail: Buffer | null = null;
    try {
      thumbnail = await readFile(thumbnailPath);
      if (thumbnail.length < 4 || thumbnail[0] !== 0xff || thumbnail[1] !== 0xd8) thumbnail = null;
    } catch {
      thumbnail = null;
    }
    await rm(thumbnailPath, { force: true });
    return { frames, thumbnail, stderr, timedOut, spawnError: !!exit.error };
  }

  return {
    async diagnose(input: SampleInput, opts: DiagnoseOptions): Promise<DiagnosisResult> {
      const started = clock.now();
      let s: Awaited<ReturnType<typeof sample>>;
      try {
        s = await sample(input, opts);
      } catch (err) {
        // A source the argument builder refuses never reaches ffmpeg.
        return {
          status: 'failed',
          kinds: [],
          reason: 'ffmpeg_failed',
          detail: redactUrls(String((err as Error).message)).slice(0, 300),
          measures: null,
          signature: null,
          thumbnail: null,
          pictures: 0,
          ms: 0,
          analysisMs: 0,
        };
      }
      const ms = clock.now() - started;
      const base = { thumbnail: s.thumbnail, pictures: s.frames.length, ms };
      if (s.spawnError) {
        return {
          ...base,
          status: 'failed',
          kinds: [],
          reason: 'ffmpeg_failed',
          detail: `could not start ${o.ffmpegPath}`,
          measures: null,
          signature: null,
          analysisMs: 0,
        };
      }
      if (!s.frames.length) {
        const reason = failureOf(s.stderr, s.timedOut);
        const failed = reason === 'invalid_data';
        return {
          ...base,
          status: failed ? 'failed' : 'faulty',
          kinds: failed ? [] : ['no_signal'],
          reason,
          detail: lastLine(s.stderr),
          measures: null,
          signature: null,
          analysisMs: 0,
        };
      }
      const { measures, signature, kinds, cpuMs } = worker
        ? await worker.measure(s.frames, opts.reference, opts.thresholds)
        : measureInline(s.frames, opts.reference, opts.thresholds);
      return {
        ...base,
        status: kinds.length ? 'faulty' : 'good',
        kinds,
        reason: null,
        detail: null,
        measures,
        signature,
        analysisMs: cpuMs,
      };
    },
  };
}

export type PictureDiagnoser = ReturnType<typeof createPictureDiagnoser>;
