/**
 * RTSP replay of a camera's own recording (ONVIF Profile G, Streaming spec "Replay"): one session plays the
 * recording from a clock time (`Range: clock=…-`) at a speed (`Scale`). What was recorded at time t is the
 * camera's clip picture `frame(t) mod clipLength` (the live timeline shows the same clip), stamped with t: the
 * clock SEI and the burnt-in band show the RECORDED time, and RTCP sender reports map RTP time to it.
 *
 * Pacing: at Scale s, frames leave s times as fast and their RTP timestamps advance with delivery (90 kHz at
 * s × fps), so a client relaying the replay like a live stream shows it s times as fast; the recorded time
 * travels in the SEI and the sender reports. Gaps in the recording are skipped (the next recorded moment
 * follows at once, from a keyframe); a replay that catches up with the present waits for it.
 */
import { createHash } from 'node:crypto';
import type { H264Stream } from './h264.ts';
import { LiveTimeline, type LiveFrame, type LivePicture } from './live.ts';
import type { SimRecording } from './recordings.ts';
import type { Paced, StreamTicker } from './ticker.ts';

export interface ReplayClipSource {
  acquire(signal: AbortSignal): Promise<H264Stream>;
  release(clip: H264Stream): void;
}

export interface ReplayOptions {
  fps: number;
  gopFrames: number;
  ticker: StreamTicker;
  clip: ReplayClipSource;
  recording: SimRecording;
  /** The device clock now (ms). */
  deviceNowMs: () => number;
  /** Where to start (device clock ms). */
  startMs: number;
  /** Where to stop (exclusive), if the client gave an end. */
  endMs?: number;
  scale: number;
  /** Key for the RTP timestamp base. */
  key: string;
  send(pic: LivePicture, frame: LiveFrame, nowMs: number): void;
  log?: (msg: string) => void;
}

export class ReplayFeed implements Paced {
  readonly #o: ReplayOptions;
  readonly #frameMs: number;
  /** Builds pictures with the recorded time; its own clock band (never joined, never ticked). */
  readonly #builder: LiveTimeline;
  readonly #tsBase: number;
  readonly #abort = new AbortController();
  #clip: H264Stream | undefined;
  /** Recorded frame number: frame r was captured at r × frameMs (device clock). */
  #r: number;
  /** Frames sent (plus 2 per skipped gap, so the band is drawn whole after one). */
  #k = 0;
  #nextDue: number | undefined;
  #stopped = false;
  /** Where the replay really starts: the requested time, or the next recorded moment. */
  readonly startMs: number;

  constructor(o: ReplayOptions) {
    this.#o = o;
    this.#frameMs = 1000 / o.fps;
    this.#builder = new LiveTimeline({
      fps: o.fps,
      gopFrames: o.gopFrames,
      phaseKey: o.key,
      ticker: o.ticker,
      source: { tryAcquire: () => undefined, acquire: () => Promise.reject(new Error('unused')), release: () => {} },
    });
    this.#tsBase = createHash('sha1').update(`replay/${o.key}`).digest().readUInt32BE(0);
    const now = o.deviceNowMs();
    const at = o.recording.startAt(o.startMs, now) ?? now - 2000;
    // From the keyframe at or before the asked moment when that is recorded too, else the next one.
    const r = Math.floor(at / this.#frameMs);
    const down = r - (r % o.gopFrames);
    this.#r = this.#recorded(down * this.#frameMs, now) ? down : this.#alignUp(r);
    this.startMs = this.#r * this.#frameMs;
  }

  #alignUp(r: number): number {
    const g = this.#o.gopFrames;
    return r % g === 0 ? r : r + g - (r % g);
  }

  #recorded(ms: number, now: number): boolean {
    return this.#o.recording.ranges(now).some(([a, b]) => ms >= a && ms < b);
  }

  rtpTime(k = this.#k): number {
    return (this.#tsBase + Math.round((k * 90000) / (this.#o.fps * this.#o.scale))) >>> 0;
  }

  start(): void {
    if (this.#stopped) return;
    this.#o.clip.acquire(this.#abort.signal).then(
      (clip) => {
        if (this.#stopped) {
          this.#o.clip.release(clip);
          return;
        }
        this.#clip = clip;
        this.#o.ticker.add(this);
      },
      (e: unknown) => {
        if (!this.#abort.signal.aborted) this.#o.log?.(`replay clip failed: ${String(e)}`);
      },
    );
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    this.#o.ticker.remove(this);
    if (this.#clip) this.#o.clip.release(this.#clip);
    this.#clip = undefined;
  }

  pace(now: number): void {
    const clip = this.#clip;
    if (!clip || this.#stopped) return;
    const step = this.#frameMs / this.#o.scale;
    if (this.#nextDue === undefined || now - this.#nextDue > 1000) this.#nextDue = now;
    const deviceNow = this.#o.deviceNowMs();
    for (let guard = 0; now >= this.#nextDue && guard < 64; guard++) {
      const t = this.#r * this.#frameMs;
      if (this.#o.endMs !== undefined && t >= this.#o.endMs) return;
      // Caught up with the present: what has not been recorded yet cannot be replayed.
      if (t > deviceNow - 500) {
        this.#nextDue = now + this.#frameMs;
        return;
      }
      if (!this.#recorded(t, deviceNow)) {
        const next = this.#o.recording.startAt(t, deviceNow);
        if (next === undefined) return;
        this.#r = this.#alignUp(Math.ceil(next / this.#frameMs));
        this.#k += 2;
        continue;
      }
      const k = this.#k;
      const pic = this.#builder.pictureAt(clip, this.#r % clip.aus.length, k, t);
      const frame: LiveFrame = {
        n: k,
        captureMs: t,
        rtpTime: this.rtpTime(k),
        gap: false,
        live: pic,
        picture: () => pic,
      };
      this.#o.send(pic, frame, now);
      this.#r++;
      this.#k++;
      this.#nextDue += step;
    }
  }
}
