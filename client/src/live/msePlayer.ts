/**
 * One tile's low-latency player (issue 15): ticket → the page's live socket → MediaSource → <video>.
 * fMP4 fragments (one per frame) are appended as they come; buffer control (mseState.ts) keeps playback a
 * fraction of a second behind the newest frame — trimming what was played, nudging the playback rate,
 * jumping to live after a stall or over a gap left by dropped fragments. ManagedMediaSource is used where
 * MediaSource is missing (iOS Safari). Whatever fails — no MSE, a codec the browser cannot decode (H.265
 * mostly), the socket, the server, a stall that a jump does not cure — ends in `onFallback`, and the tile
 * plays HLS (liveSession.ts) instead, by itself.
 */
import { isAbort, type TicketGrant } from '../api.ts';
import { FrameRateMeter } from './frameRate.ts';
import { tickClock } from './pageFreeze.ts';
import { liveSocket, liveSocketUsable } from './liveSocket.ts';
import { streamToken, type Quality, type TileView } from './liveSession.ts';
import {
  MSE_IDLE,
  mseStep,
  planBuffer,
  type FallbackReason,
  type LatencyTarget,
  type MseEvent,
  type MseMachine,
} from './mseState.ts';

/** The MediaSource constructor this browser has: MediaSource, else ManagedMediaSource (iOS 17.1+). */
function mediaSourceClass(): typeof MediaSource | null {
  const w = window as unknown as { MediaSource?: typeof MediaSource; ManagedMediaSource?: typeof MediaSource };
  return w.MediaSource ?? w.ManagedMediaSource ?? null;
}

/** Whether a tile can try the live socket at all. */
export function mseUsable(): boolean {
  return mediaSourceClass() !== null && liveSocketUsable();
}

/**
 * No decoded frame this long after the ticket: HLS instead. A refused or failed stream says so at once; this
 * only catches a stream slow to start (64 relays starting at once on a loaded server took over 8 s), which
 * HLS would find as slow.
 */
const START_TIMEOUT_MS = 15_000;
/** currentTime frozen this long while playing: a stall (jump to live first, HLS the second time). */
const STALL_MS = 2_000;
const TICK_MS = 250;
/** Bytes waiting for the SourceBuffer beyond which the queue is dropped until the next keyframe. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

export interface MseSessionOptions {
  video: HTMLVideoElement;
  quality: Quality;
  latency: LatencyTarget;
  requestTicket: (quality: Quality, signal: AbortSignal) => Promise<TicketGrant>;
  onView: (view: TileView) => void;
  onFallback: (reason: FallbackReason) => void;
  onFrameRate?: (fps: number | null) => void;
}

export class MseSession {
  readonly #o: MseSessionOptions;
  #m: MseMachine = MSE_IDLE;
  #abort: AbortController | null = null;
  #unsubscribe: (() => void) | null = null;
  #ms: MediaSource | null = null;
  #url: string | null = null;
  #sb: SourceBuffer | null = null;
  #mime: string | null = null;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #needKey = false;
  #timer: number | undefined;
  #startedAt = 0;
  readonly #ticks = tickClock(TICK_MS);
  #lastTime = -1;
  #lastAdvance = 0;
  #disposed = false;
  #lastView = '';
  readonly #frames = new FrameRateMeter();
  #fps: number | null = null;

  constructor(o: MseSessionOptions) {
    this.#o = o;
  }

  get state(): MseMachine['state'] {
    return this.#m.state;
  }

  start(): void {
    this.#step({ type: 'start' });
    const MS = mediaSourceClass();
    if (!MS) {
      queueMicrotask(() => this.#fallback('no_mse'));
      return;
    }
    const { video } = this.#o;
    video.muted = true;
    video.playsInline = true;
    // ManagedMediaSource plays only with remote playback off (AirPlay would need a URL it cannot have).
    video.disableRemotePlayback = true;
    const ms = new MS();
    this.#ms = ms;
    this.#url = URL.createObjectURL(ms);
    video.src = this.#url;
    // Muted autoplay is allowed; the promise settles once data arrives (or the element is torn down).
    video.play().catch(() => undefined);
    ms.addEventListener('sourceopen', () => this.#createBuffer(), { once: true });
    this.#startedAt = Date.now();
    this.#timer = window.setInterval(this.#tick, TICK_MS);
    void this.#subscribe();
  }

  destroy(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    window.clearInterval(this.#timer);
    this.#abort?.abort();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#pending = [];
    const { video } = this.#o;
    if (this.#url) {
      video.removeAttribute('src');
      video.load();
      URL.revokeObjectURL(this.#url);
    }
    this.#ms = null;
    this.#sb = null;
  }

  async #subscribe(): Promise<void> {
    const abort = new AbortController();
    this.#abort = abort;
    let grant: TicketGrant;
    try {
      grant = await this.#o.requestTicket(this.#o.quality, abort.signal);
    } catch (err) {
      if (isAbort(err) || this.#disposed) return;
      // The HLS player asks again and says why in the tile's words (a missing point, a refused source …).
      this.#step({ type: 'server-error', code: 'ticket' });
      return;
    }
    if (this.#disposed) return;
    const ticket = streamToken(grant.ticket.playlistUrl);
    if (!ticket) {
      this.#step({ type: 'server-error', code: 'ticket' });
      return;
    }
    this.#unsubscribe = liveSocket().subscribe(ticket, {
      codec: (codec) => this.#onCodec(codec),
      init: (data) => this.#enqueue(data, true, true),
      fragment: (data, keyframe) => this.#enqueue(data, keyframe, false),
      error: (code) => this.#step(code.startsWith('ended:') ? { type: 'ended' } : { type: 'server-error', code }),
      down: () => this.#step({ type: 'socket-down' }),
    });
  }

  #onCodec(codec: string | null): void {
    const MS = mediaSourceClass();
    const mime = `video/mp4; codecs="${codec ?? 'avc1.42E01E'}"`;
    const supported = !!MS && MS.isTypeSupported(mime);
    this.#step({ type: 'codec', supported });
    if (!supported) return;
    if (this.#sb && this.#mime !== mime) {
      // A restarted camera with another codec: the same SourceBuffer takes it where changeType exists.
      if (typeof this.#sb.changeType === 'function') this.#sb.changeType(mime);
      else return this.#step({ type: 'media-error' });
    }
    this.#mime = mime;
    this.#createBuffer();
  }

  #createBuffer(): void {
    const ms = this.#ms;
    if (!ms || this.#sb || !this.#mime || ms.readyState !== 'open') return;
    try {
      const sb = ms.addSourceBuffer(this.#mime);
      sb.mode = 'segments';
      sb.addEventListener('updateend', () => {
        // Until the first frame shows, every append may be what it needs: seek into the data and play now,
        // not at the next tick (a quarter of a second of first-frame time).
        if (this.#m.state === 'connecting') this.#control(false);
        this.#pump();
      });
      sb.addEventListener('error', () => this.#step({ type: 'media-error' }));
      this.#sb = sb;
    } catch {
      this.#step({ type: 'media-error' });
      return;
    }
    this.#pump();
  }

  #enqueue(data: Uint8Array, keyframe: boolean, init: boolean): void {
    if (this.#disposed || this.#m.state === 'fallback') return;
    if (init) {
      // A new init segment (a restarted ffmpeg): whatever waits belongs to the old timeline.
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#needKey = true;
    } else if (this.#needKey) {
      if (!keyframe) return;
      this.#needKey = false;
    } else if (this.#pendingBytes + data.byteLength > MAX_PENDING_BYTES) {
      // The decoder cannot keep up (a hidden tab, a slow machine): skip to the next keyframe.
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#needKey = !keyframe;
      if (!keyframe) return;
    }
    // A copy: the socket's ArrayBuffer is not ours to keep beyond this call.
    this.#pending.push(data.slice());
    this.#pendingBytes += data.byteLength;
    this.#pump();
  }

  #pump(): void {
    const sb = this.#sb;
    if (!sb || sb.updating || this.#disposed) return;
    const next = this.#pending.shift();
    if (!next) return;
    this.#pendingBytes -= next.byteLength;
    try {
      sb.appendBuffer(next as Uint8Array<ArrayBuffer>);
    } catch (err) {
      if ((err as DOMException).name === 'QuotaExceededError') {
        // Full: drop what waits, free what was played, continue from the next keyframe.
        this.#pending = [];
        this.#pendingBytes = 0;
        this.#needKey = true;
        const t = this.#o.video.currentTime;
        if (t > 1) sb.remove(0, t - 1);
        return;
      }
      this.#step({ type: 'media-error' });
    }
  }

  readonly #tick = () => {
    if (this.#disposed || this.#m.state === 'fallback') return;
    const { video } = this.#o;
    const now = Date.now();
    const frozen = this.#ticks.lateBy(now);
    if (frozen > 0) {
      // The page stood still, not the picture: start the clocks again (the buffer control catches up on latency).
      this.#lastAdvance = now;
      this.#startedAt += frozen;
    }
    const t = video.currentTime;
    if (t !== this.#lastTime && t > 0) {
      this.#lastTime = t;
      this.#lastAdvance = now;
      this.#step({ type: 'frame' });
    }
    this.#measureFrameRate(video);
    const state = this.#m.state;
    if (state === 'connecting') {
      if (now - this.#startedAt > START_TIMEOUT_MS) this.#step({ type: 'timeout' });
    } else if (document.hidden) {
      this.#lastAdvance = now; // a hidden tab may pause video: not a stall
    } else if (now - this.#lastAdvance > STALL_MS) {
      this.#lastAdvance = now;
      this.#step({ type: 'stall' });
    }
    this.#control(false);
  };

  /** Buffer control: latency target, playback rate, trimming, gap and live jumps. */
  #control(forceJump: boolean): void {
    const sb = this.#sb;
    const { video } = this.#o;
    if (!sb || this.#disposed) return;
    const ranges: Array<[number, number]> = [];
    try {
      for (let i = 0; i < sb.buffered.length; i++) ranges.push([sb.buffered.start(i), sb.buffered.end(i)]);
    } catch {
      return; // the SourceBuffer was removed from its MediaSource
    }
    const target = this.#o.latency;
    const plan = planBuffer(
      { currentTime: video.currentTime, ranges },
      forceJump ? { ...target, jumpAbove: target.target } : target,
    );
    if (plan.seekTo !== undefined && Math.abs(plan.seekTo - video.currentTime) > 0.01) {
      video.currentTime = plan.seekTo;
      this.#frames.reset();
    }
    if (video.playbackRate !== plan.playbackRate) video.playbackRate = plan.playbackRate;
    if (plan.removeBefore !== undefined && !sb.updating && this.#pending.length === 0) {
      sb.remove(0, plan.removeBefore);
    }
    if (video.paused && ranges.length) video.play().catch(() => undefined);
  }

  #measureFrameRate(video: HTMLVideoElement): void {
    const q = typeof video.getVideoPlaybackQuality === 'function' ? video.getVideoPlaybackQuality() : null;
    const rate = this.#m.state === 'playing' && q ? this.#frames.sample(q.totalVideoFrames, video.currentTime) : null;
    const fps = rate === null ? null : Math.round(rate);
    if (fps !== this.#fps) {
      this.#fps = fps;
      this.#o.onFrameRate?.(fps);
    }
  }

  #step(e: MseEvent): void {
    if (this.#disposed) return;
    const { machine, action } = mseStep(this.#m, e);
    this.#m = machine;
    if (action === 'jump-to-live') this.#control(true);
    if (action === 'fallback') this.#fallback(machine.reason ?? 'server');
    this.#emit();
  }

  #fallback(reason: FallbackReason): void {
    if (this.#disposed) return;
    this.#m = { ...this.#m, state: 'fallback', reason };
    this.destroy();
    this.#o.onFallback(reason);
  }

  #emit(): void {
    if (this.#disposed) return;
    const s = this.#m.state;
    const view: TileView =
      s === 'playing'
        ? { state: 'live', reason: null, detail: null, permanent: false }
        : s === 'stalled'
          ? { state: 'reconnecting', reason: 'stalled', detail: null, permanent: false }
          : { state: 'loading', reason: null, detail: null, permanent: false };
    const key = JSON.stringify(view);
    if (key === this.#lastView) return;
    this.#lastView = key;
    this.#o.onView(view);
  }
}
