/**
 * 实时流 — one profile of one simulated camera as its encoder produces it: ONE frame clock shared by every
 * RTSP session of that profile (issue 18). A real camera has one encoder per profile; a new viewer joins the
 * running stream wherever it is and waits for the next keyframe (on average half a GOP). So here frame `n`
 * of a timeline is due at `epoch + n / fps` whether anyone watches or not, shows clip picture
 * `n mod clipLength` (clips hold whole GOPs, so keyframes fall every GOP for good), and is sent to every
 * joined session in the same tick, with the same RTP timestamp. Nothing runs while nobody watches: the
 * position is a function of the clock.
 *
 * Each picture leaves with a clock SEI and the burnt-in clock band (wallclock.ts) of its capture time.
 */
import { createHash } from 'node:crypto';
import {
  nalType,
  packetizeAccessUnit,
  parsePps,
  parseSliceHeader,
  type AccessUnit,
  type H264Stream,
  type PpsInfo,
  type RtpPayload,
  type SliceHeaderInfo,
} from './h264.ts';
import type { Paced, StreamTicker } from './ticker.ts';
import { ClockBand, clockBandLayout, clockSei } from './wallclock.ts';

/** Where a timeline's pictures come from: the camera's clip (or, in shared clip mode, its geometry's). */
export interface LiveClipSource {
  /** The clip with a reference taken when it is in memory; never waits. */
  tryAcquire(): H264Stream | undefined;
  /** Loads or encodes it; aborting says nobody waits any more. */
  acquire(signal: AbortSignal): Promise<H264Stream>;
  /** Gives back a clip this source handed out. */
  release(clip: H264Stream): void;
}

/** One picture ready to send: RTP payloads in order, the marker on the last. */
export interface LivePicture {
  idr: boolean;
  payloads: readonly RtpPayload[];
}

/** One tick of the timeline, handed to every joined session. */
export interface LiveFrame {
  /** Frame number on the camera's timeline (also in the clock SEI). */
  readonly n: number;
  /** Capture time: ms since the epoch (stamped into the picture and the SEI). */
  readonly captureMs: number;
  readonly rtpTime: number;
  /** The timeline skipped frames (the event loop stalled): sessions resume at a keyframe. */
  readonly gap: boolean;
  /** This frame of the shared live stream, once the camera's clip is loaded. */
  readonly live: LivePicture | undefined;
  /** The same frame built from another clip position (sessions of an `idrOnConnect` camera). */
  picture(clip: H264Stream, pos: number): LivePicture;
}

export interface LiveViewer {
  frame(f: LiveFrame, nowMs: number): void;
}

interface PreparedAu {
  /** Parameter sets and the encoder's SEI, then our clock SEI goes, then the slices. */
  pre: RtpPayload[];
  slices: RtpPayload[];
  head: SliceHeaderInfo | undefined;
  nalHeader: number;
  idr: boolean;
}

interface Prepared {
  aus: PreparedAu[];
  pps: PpsInfo;
  /** The band's geometry when every picture carries the band as a slice of its own (clips.ts). */
  bandKey: string | undefined;
}

const prepCache = new WeakMap<H264Stream, Prepared>();

const isVcl = (t: number) => t >= 1 && t <= 5;
const unmarked = (ps: RtpPayload[]) => ps.map((p) => (p.marker ? { ...p, marker: false } : p));

/** Splits each picture into what goes before the SEI, the encoder's slices without the band, and the band's header. */
function prepare(clip: H264Stream): Prepared {
  const have = prepCache.get(clip);
  if (have) return have;
  const pps = parsePps(clip.pps);
  const layout = clockBandLayout(clip.info.width, clip.info.height);
  let banded = !!layout;
  const aus = clip.aus.map((au: AccessUnit): PreparedAu => {
    const first = au.nals.findIndex((n) => isVcl(nalType(n)));
    const vcl = au.nals.slice(first);
    let head: SliceHeaderInfo | undefined;
    let keep = vcl;
    try {
      head = parseSliceHeader(vcl[0]!, clip.info, pps);
      if (layout) {
        const heads = vcl.map((n, i) => (i === 0 ? head! : parseSliceHeader(n, clip.info, pps)));
        keep = vcl.filter((_, i) => heads[i]!.firstMb < layout.firstMb);
        if (keep.length === vcl.length || keep.length === 0) banded = false;
      }
    } catch {
      banded = false;
    }
    return {
      pre: unmarked(packetizeAccessUnit({ nals: au.nals.slice(0, first), idr: false })),
      slices: unmarked(packetizeAccessUnit({ nals: banded ? keep : vcl, idr: au.idr })),
      head,
      nalHeader: vcl[0]![0]!,
      idr: au.idr,
    };
  });
  if (!banded) {
    // A clip without the band slice (made elsewhere, or too small a picture): send it whole.
    for (const [i, au] of clip.aus.entries()) {
      aus[i]!.slices = unmarked(packetizeAccessUnit({ nals: au.nals.filter((n) => isVcl(nalType(n))), idr: au.idr }));
    }
  }
  const p: Prepared = { aus, pps, bandKey: banded && layout ? `${clip.info.width}x${clip.info.height}` : undefined };
  prepCache.set(clip, p);
  return p;
}

export interface LiveTimelineOptions {
  fps: number;
  gopFrames: number;
  /** Spreads keyframes of different cameras apart (a hash of the camera code and profile). */
  phaseKey: string;
  ticker: StreamTicker;
  source: LiveClipSource;
  log?: (msg: string) => void;
}

export class LiveTimeline implements Paced {
  readonly fps: number;
  readonly gopFrames: number;
  readonly frameMs: number;
  /** performance.now() of frame 0. */
  readonly epoch: number;
  readonly #tsBase: number;
  readonly #ticker: StreamTicker;
  readonly #source: LiveClipSource;
  readonly #log: ((msg: string) => void) | undefined;
  readonly #viewers = new Set<LiveViewer>();
  #clip: H264Stream | undefined;
  #loading: AbortController | undefined;
  /** A new clip (the source changed: a picture fault) waiting for its first keyframe to take over. */
  #next: H264Stream | undefined;
  /** Last frame handed out (or, when a timeline starts, the frame of that moment, sent to nobody). */
  #last = 0;
  #band: ClockBand | undefined;
  #bandKey = '';
  /** Pictures of the current frame, per clip picture. */
  readonly #built = new Map<AccessUnit, LivePicture>();
  /** Clip position of frame n is (n + #shift) mod length; a synchronization point moves it to a keyframe. */
  #shift = 0;
  /** A client asked for a synchronization point (ONVIF SetSynchronizationPoint): the next frame is an IDR. */
  #syncAsked = false;

  constructor(o: LiveTimelineOptions) {
    this.fps = o.fps;
    this.gopFrames = o.gopFrames;
    this.frameMs = 1000 / o.fps;
    const h = createHash('sha1').update(o.phaseKey).digest();
    this.epoch = (h.readUInt32BE(0) % o.gopFrames) * this.frameMs;
    this.#tsBase = h.readUInt32BE(4);
    this.#ticker = o.ticker;
    this.#source = o.source;
    this.#log = o.log;
  }

  get viewers(): number {
    return this.#viewers.size;
  }

  /** Whether the shared clip is loaded (sessions then get pictures from the next keyframe on). */
  get ready(): boolean {
    return !!this.#clip;
  }

  /** The frame captured at `nowMs` (performance.now()). */
  frameAt(nowMs: number): number {
    return Math.floor((nowMs - this.epoch) / this.frameMs);
  }

  /** Capture time of frame `n`: ms since the epoch. */
  captureMs(n: number): number {
    return performance.timeOrigin + this.epoch + n * this.frameMs;
  }

  rtpTime(n: number): number {
    return (this.#tsBase + Math.round((n * 90000) / this.fps)) >>> 0;
  }

  /** The next frame a session joining now can receive. */
  nextFrame(nowMs = performance.now()): number {
    return (this.#viewers.size ? this.#last : this.frameAt(nowMs)) + 1;
  }

  /** The shared clip's keyframes: is frame `n` one (when the clip is loaded)? */
  isKeyframe(n: number): boolean {
    const aus = this.#clip?.aus;
    return !!aus && aus[this.#pos(n, aus.length)]!.idr;
  }

  #pos(n: number, length: number): number {
    // Frames before the epoch are negative (a process younger than its camera's keyframe phase, up to one GOP:
    // a simulator started just before a benchmark's first session at GOP 4 s): still a position in the clip.
    return (((n + this.#shift) % length) + length) % length;
  }

  /**
   * ONVIF SetSynchronizationPoint: the encoder inserts an IDR as soon as it can, and every session of the
   * profile gets it (one encoder). Here the next frame jumps to the clip's next keyframe, so the scene moves
   * on by less than a GOP once and the GOP runs from there; a frame that is a keyframe anyway changes nothing.
   */
  syncPoint(): void {
    if (this.#viewers.size) this.#syncAsked = true;
  }

  join(v: LiveViewer, shared: boolean): void {
    if (!this.#viewers.size) this.#last = this.frameAt(performance.now());
    this.#viewers.add(v);
    this.#ticker.add(this);
    if (shared) this.#load();
  }

  leave(v: LiveViewer): void {
    if (!this.#viewers.delete(v) || this.#viewers.size) return;
    this.#ticker.remove(this);
    this.#loading?.abort();
    this.#loading = undefined;
    if (this.#clip) this.#source.release(this.#clip);
    if (this.#next) this.#source.release(this.#next);
    this.#clip = undefined;
    this.#next = undefined;
  }

  /**
   * The source now gives another clip (same geometry and GOP, so the same SPS/PPS and keyframe positions):
   * it takes over at its next keyframe, and the frames in between still come from the old one, so a decoder
   * never sees a P-frame of one clip after the IDR of the other.
   */
  reload(): void {
    if (!this.#viewers.size) return; // nothing held; the next join loads the new clip
    if (!this.#clip) {
      // Still loading the old clip: load the new one instead.
      this.#loading?.abort();
      this.#loading = undefined;
      this.#load();
      return;
    }
    if (this.#next) this.#source.release(this.#next);
    this.#next = undefined;
    const ready = this.#source.tryAcquire();
    if (ready) {
      this.#next = ready;
      return;
    }
    const loading = new AbortController();
    this.#loading?.abort();
    this.#loading = loading;
    this.#source.acquire(loading.signal).then(
      (clip) => {
        if (this.#loading !== loading || !this.#viewers.size) {
          this.#source.release(clip);
          return;
        }
        this.#loading = undefined;
        this.#next = clip;
      },
      (e: unknown) => {
        if (this.#loading === loading) this.#loading = undefined;
        if (!loading.signal.aborted) this.#log?.(`live clip failed: ${String(e)}`);
      },
    );
  }

  #load(): void {
    if (this.#clip || this.#loading) return;
    const ready = this.#source.tryAcquire();
    if (ready) {
      this.#clip = ready;
      return;
    }
    const loading = new AbortController();
    this.#loading = loading;
    this.#source.acquire(loading.signal).then(
      (clip) => {
        if (this.#loading !== loading) {
          this.#source.release(clip);
          return;
        }
        this.#loading = undefined;
        this.#clip = clip;
      },
      (e: unknown) => {
        if (this.#loading === loading) this.#loading = undefined;
        if (!loading.signal.aborted) this.#log?.(`live clip failed: ${String(e)}`);
      },
    );
  }

  pace(now: number): void {
    const due = this.frameAt(now);
    if (due <= this.#last) return;
    let gap = false;
    if (due - this.#last > this.fps) {
      // The event loop stalled for over a second: jump to the present instead of bursting old frames.
      this.#last = due - 1;
      gap = true;
    }
    while (this.#last < due) {
      this.#emit(++this.#last, gap, now);
      gap = false;
    }
  }

  #emit(n: number, gap: boolean, now: number): void {
    this.#built.clear();
    const captureMs = this.captureMs(n);
    if (this.#syncAsked && this.#clip) {
      this.#syncAsked = false;
      const aus = this.#clip.aus;
      const p = this.#pos(n, aus.length);
      let k = p;
      while (!aus[k]!.idr) k = (k + 1) % aus.length; // clips hold whole GOPs: position 0 is a keyframe
      this.#shift += (k - p + aus.length) % aus.length;
    }
    const next = this.#next;
    if (next && next.aus[this.#pos(n, next.aus.length)]!.idr) {
      if (this.#clip) this.#source.release(this.#clip);
      this.#clip = next;
      this.#next = undefined;
    }
    const clip = this.#clip;
    let band: ClockBand | undefined;
    const frame: LiveFrame = {
      n,
      captureMs,
      rtpTime: this.rtpTime(n),
      gap,
      live: undefined,
      picture: (c, pos) => {
        const au = c.aus[pos]!;
        const built = this.#built.get(au);
        if (built) return built;
        const prep = prepare(c);
        if (prep.bandKey && !band) band = this.#bandFor(prep.bandKey, n, captureMs);
        const pic = this.#picture(prep.aus[pos]!, prep, band, n, captureMs);
        this.#built.set(au, pic);
        return pic;
      },
    };
    const live = clip ? frame.picture(clip, this.#pos(n, clip.aus.length)) : undefined;
    const f: LiveFrame = live ? { ...frame, live } : frame;
    for (const v of this.#viewers) v.frame(f, now);
  }

  /**
   * One picture of `clip` at `pos`, stamped as frame `n` captured at `captureMs`: replay of recordings
   * (replay.ts) builds its pictures this way on a timeline of its own, never joined, so its clock band
   * follows its own frames. Call in frame order.
   */
  pictureAt(clip: H264Stream, pos: number, n: number, captureMs: number): LivePicture {
    const prep = prepare(clip);
    const band = prep.bandKey ? this.#bandFor(prep.bandKey, n, captureMs) : undefined;
    return this.#picture(prep.aus[pos]!, prep, band, n, captureMs);
  }

  /** The band of this frame, drawn once for every picture built from it. */
  #bandFor(key: string, n: number, captureMs: number): ClockBand | undefined {
    if (!this.#band || this.#bandKey !== key) {
      const [w, h] = key.split('x').map(Number) as [number, number];
      const layout = clockBandLayout(w, h);
      if (!layout) return undefined;
      this.#band = new ClockBand(layout);
      this.#bandKey = key;
    }
    this.#band.render(n, captureMs);
    return this.#band;
  }

  #picture(au: PreparedAu, prep: Prepared, band: ClockBand | undefined, n: number, captureMs: number): LivePicture {
    const payloads: RtpPayload[] = [...au.pre];
    for (const p of packetizeAccessUnit({ nals: [clockSei(captureMs, n)], idr: false })) {
      payloads.push({ ...p, marker: false });
    }
    payloads.push(...au.slices);
    if (band && au.head) {
      const nal = band.slice(au.head, au.nalHeader, prep.pps.deblockingFilterControlPresent);
      payloads.push(...unmarked(packetizeAccessUnit({ nals: [nal], idr: false })));
    }
    payloads[payloads.length - 1] = { ...payloads.at(-1)!, marker: true };
    return { idr: au.idr, payloads };
  }
}
