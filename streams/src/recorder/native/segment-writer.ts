/**
 * Access units to MPEG-TS segment files and their `list.csv`, in the layout a copying ffmpeg's segment muxer
 * writes (`../args.ts`: `seg_NNNNNN.ts`, one `name,start,end` line per closed segment), so the recorder's
 * index, repair, playback and export read both alike (issue 14).
 *
 * - Recording starts at the first keyframe; a segment is cut at the first keyframe at or after the next
 *   multiple of `segmentSeconds` of media time, as ffmpeg's segment muxer does.
 * - Times are the camera's RTP clock (90 kHz), unwrapped; a jump backwards or of more than 10 s (a camera
 *   that reset its clock) continues one frame after the last instead, so the timestamps never go back.
 * - A keyframe without parameter sets gets the last ones seen (in the stream or in the SDP), so every
 *   segment starts decodable.
 * - Bytes reach the file at least every `flushMs` (default 250 ms), in one `writev` (a kill of the server loses
 *   at most that much; each write through the thread pool costs ~50 µs, so fewer, larger ones); a closed segment's
 *   modification time is set to the wall-clock time its media ended (the index's end time), then its line is
 *   appended to `list.csv`.
 *
 * Every file operation runs in order on one chain; the first failure (disk full) stops the writer and is
 * reported once through `onError`.
 */
import { appendFile, close, futimes, open, writev } from 'node:fs';
import path from 'node:path';
import { SEGMENT_LIST } from '../args.ts';
import { nalType, paramKind, type AccessUnit } from './depacketize.ts';
import { TsMuxer, type TsCodec } from './ts-mux.ts';

/** ffmpeg's MPEG-TS muxer starts its timestamps here (1.4 s); players expect a PTS above the PCR delay. */
const PTS_START = 126_000;
const CLOCK = 90_000;
/** Node's callback file calls as promises (cheaper than `fs/promises`' FileHandle: ~50 against ~140 µs a write). */
const call = <T>(fn: (cb: (err: NodeJS.ErrnoException | null, v?: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));

/** Above this, bytes not yet on disk mean the disk cannot keep up: the writer stops rather than grow. */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

export interface SegmentWriterOptions {
  dir: string;
  segmentSeconds: number;
  codec: TsCodec;
  /** Parameter sets from the SDP (VPS, SPS, PPS), used until the stream sends its own. */
  params: readonly Buffer[];
  flushMs?: number;
  onError(err: Error): void;
}

const segName = (k: number) => `seg_${String(k).padStart(6, '0')}.ts`;

export class SegmentWriter {
  readonly #o: SegmentWriterOptions;
  readonly #mux: TsMuxer;
  readonly #flushMs: number;
  readonly #params = new Map<'vps' | 'sps' | 'pps', Buffer>();
  #chain: Promise<void> = Promise.resolve();
  #failed = false;
  #stopped = false;
  /** Unwrapped 90 kHz time of the last access unit, and of the first (the run's zero). */
  #last: number | null = null;
  #lastRtp = 0;
  #zero = 0;
  #frame = CLOCK / 25;
  #lastArrivalMs = 0;
  /** The segment being written. */
  #seg: { index: number; fd: Promise<number | null>; start: number } | null = null;
  #nextIndex = 0;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #lastFlushMs = 0;
  #unflushed = 0;

  constructor(o: SegmentWriterOptions) {
    this.#o = o;
    this.#mux = new TsMuxer(o.codec);
    this.#flushMs = o.flushMs ?? 250;
    for (const p of o.params) this.#remember([p]);
  }

  /** Bytes queued for the disk and not written yet. */
  get pendingBytes(): number {
    return this.#pendingBytes + this.#unflushed;
  }

  /** Keeps a parameter set (copied: the pieces are views of a socket's buffer). */
  #remember(parts: readonly Buffer[]): void {
    if (parts[0]!.length < 2) return;
    const kind = paramKind(this.#o.codec, nalType(this.#o.codec, parts[0]!));
    if (kind) this.#params.set(kind, Buffer.concat(parts));
  }

  /** Queues a file operation; after a failure the rest are skipped (`skipped` runs instead). */
  #run(op: () => Promise<void>, skipped?: () => void): void {
    this.#chain = this.#chain.then(async () => {
      if (this.#failed) return skipped?.();
      try {
        await op();
      } catch (err) {
        this.#failed = true;
        this.#o.onError(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** One access unit as it arrived (`nowMs`: wall clock of its arrival). */
  accessUnit(au: AccessUnit, nowMs: number): void {
    if (this.#stopped || this.#failed) return;
    for (const n of au.nals) this.#remember(n);
    // Unwrapped media time.
    let t: number;
    if (this.#last === null) {
      if (!au.keyframe) return; // a segment starts with a picture that decodes
      t = 0;
      this.#zero = 0;
    } else {
      const delta = (au.rtpTime - this.#lastRtp) | 0;
      // Delta 0: more of the same picture after a marker bit too early; it keeps its time, as ffmpeg does.
      t = delta >= 0 && delta <= 10 * CLOCK ? this.#last + delta : this.#last + this.#frame;
      if (delta > 0 && delta <= CLOCK) this.#frame = delta;
    }
    this.#last = t;
    this.#lastRtp = au.rtpTime;
    const rel = t - this.#zero;
    if (!this.#seg || (au.keyframe && rel >= (this.#seg.index + 1) * this.#o.segmentSeconds * CLOCK)) {
      if (!au.keyframe) return;
      if (this.#seg) this.#close(rel, nowMs);
      this.#openSegment(rel);
    }
    this.#lastArrivalMs = nowMs;
    let nals = au.nals;
    if (au.keyframe) {
      const have = au.hasParams;
      const add: Buffer[][] = [];
      const vps = this.#params.get('vps');
      const sps = this.#params.get('sps');
      const pps = this.#params.get('pps');
      if (this.#o.codec === 'h265' && !have.vps && vps) add.push([vps]);
      if (!have.sps && sps) add.push([sps]);
      if (!have.pps && pps) add.push([pps]);
      if (add.length) nals = [...add, ...nals];
    }
    const bytes = this.#mux.accessUnit({ nals, pts90k: PTS_START + rel, keyframe: au.keyframe });
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.pendingBytes > MAX_PENDING_BYTES) {
      this.#failed = true;
      this.#o.onError(new Error('the disk does not keep up with the recording'));
      return;
    }
    if (nowMs - this.#lastFlushMs >= this.#flushMs) this.#flush(nowMs);
  }

  #openSegment(rel: number): void {
    const index = this.#nextIndex++;
    const file = path.join(this.#o.dir, segName(index));
    let resolveFd!: (fd: number | null) => void;
    const fd = new Promise<number | null>((r) => (resolveFd = r));
    this.#seg = { index, fd, start: rel };
    this.#run(
      async () => {
        try {
          resolveFd(await call<number>((cb) => open(file, 'w', cb)));
        } catch (err) {
          resolveFd(null);
          throw err;
        }
      },
      () => resolveFd(null),
    );
    // No tables here: a segment starts with a keyframe, and the muxer puts PAT and PMT before every keyframe.
  }

  #flush(nowMs: number): void {
    const seg = this.#seg;
    if (!seg || !this.#pending.length) return;
    const chunks = this.#pending;
    const bytes = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#unflushed += bytes;
    this.#lastFlushMs = nowMs;
    this.#run(async () => {
      const fd = await seg.fd;
      try {
        if (fd !== null) await call<number>((cb) => writev(fd, chunks, cb));
      } finally {
        this.#unflushed -= bytes;
      }
    });
  }

  /** Closes the segment being written: the rest of its bytes, its end time on the file, its list line. */
  #close(endRel: number, endMs: number): void {
    const seg = this.#seg!;
    this.#flush(endMs);
    this.#seg = null;
    const name = segName(seg.index);
    const line = `${name},${(seg.start / CLOCK).toFixed(6)},${(endRel / CLOCK).toFixed(6)}\n`;
    const when = endMs / 1000;
    this.#run(async () => {
      const fd = await seg.fd;
      if (fd === null) return;
      try {
        await call<void>((cb) => futimes(fd, when, when, cb));
      } finally {
        await call<void>((cb) => close(fd, cb));
      }
      await call<void>((cb) => appendFile(path.join(this.#o.dir, SEGMENT_LIST), line, cb));
    });
  }

  /**
   * The end of the recording (a stop or a lost camera): the last segment is written, timed and listed.
   */
  async finish(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      if (this.#failed) {
        // A write failed (disk full): the file stays unlisted, for the repair that follows the run's end.
        const seg = this.#seg;
        this.#seg = null;
        const fd = seg ? await seg.fd : null;
        if (fd !== null) await call<void>((cb) => close(fd, cb)).catch(() => undefined);
      } else if (this.#seg && this.#last !== null) {
        // Times as ffmpeg's muxer gives them: the file ends when its last picture arrived, its media one
        // frame after that picture (the index puts the segment's start its media length before its end).
        this.#close(this.#last - this.#zero + this.#frame, this.#lastArrivalMs);
      }
    }
    await this.#chain;
  }

  /** Stops at once (a kill): what reached the file stays there, unlisted, for the next start's repair. */
  abort(): void {
    this.#stopped = true;
    this.#failed = true;
    const seg = this.#seg;
    this.#seg = null;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (seg) void seg.fd.then((fd) => fd !== null && close(fd, () => undefined));
  }
}
