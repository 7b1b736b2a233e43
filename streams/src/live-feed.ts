/**
 * The live feed of one running stream (issue 15): the fMP4 ffmpeg writes beside its HLS output, kept as the
 * init segment and the last GOP (from its keyframe) so a new viewer starts at once from a keyframe instead of
 * waiting for the next one, and fanned out to every subscriber.
 *
 * Back-pressure is per subscriber and bounded in bytes: before a fragment goes to a subscriber, the bytes
 * its sink still holds (a WebSocket's `bufferedAmount`) are checked against `maxQueueBytes`; over the cap the
 * fragment is dropped and so is every fragment after it until a keyframe fits, so a slow browser skips ahead
 * to a picture it can decode and the server never holds more than the cap (plus one fragment) for it.
 */
import { Fmp4Assembler, type Fmp4Event } from './fmp4.ts';

export interface LiveFragment {
  data: Buffer;
  keyframe: boolean;
  decodeTime: number | undefined;
}

/** Where a subscriber's bytes go. */
export interface LiveSink {
  /** The stream's (new) init segment and codec string: sent first, and again when a restarted ffmpeg makes one. */
  init(data: Buffer, codec: string | undefined): void;
  fragment(f: LiveFragment): void;
  /** Bytes written to this sink that have not left the process yet (WebSocket `bufferedAmount`). */
  buffered(): number;
  /** Fragments were dropped for back-pressure; the next one sent is a keyframe. Called once per gap. */
  gap?(dropped: number): void;
  /** The stream ended (stopped, or its point deleted): no more data. */
  end?(reason: string): void;
}

export interface LiveSubscriberStats {
  sentFragments: number;
  sentBytes: number;
  droppedFragments: number;
  gaps: number;
  /** Largest `buffered()` seen just before a send. */
  maxBuffered: number;
}

export interface LiveSubscription {
  readonly stats: LiveSubscriberStats;
  close(): void;
}

export interface LiveFeedStats {
  subscribers: number;
  hasInit: boolean;
  codec: string | undefined;
  gopFragments: number;
  gopBytes: number;
  fragments: number;
}

export interface LiveFeed {
  readonly codec: string | undefined;
  /** Subscribes; the init segment and the cached GOP follow at once when there are any. */
  subscribe(sink: LiveSink, opts?: { maxQueueBytes?: number }): LiveSubscription;
  /** Resolves once an init segment is there (at once if it is), false after `timeoutMs` or at the end. */
  waitForInit(timeoutMs: number): Promise<boolean>;
  stats(): LiveFeedStats;
}

/** What the relay drives: bytes from ffmpeg in, a new process, the end. */
export interface LiveFeedWriter extends LiveFeed {
  /** A new ffmpeg: its byte stream starts over with a new init segment. */
  restart(): void;
  write(chunk: Buffer): void;
  end(reason: string): void;
}

export interface LiveFeedOptions {
  /** Default per-subscriber cap (bytes): 8 MiB holds a 4 s GOP of a 1080p camera with room to spare. */
  maxQueueBytes?: number;
  /** The cached GOP is dropped (and the next viewer waits for a keyframe) beyond this; default 8 MiB. */
  maxGopBytes?: number;
  /** A byte stream that cannot be parsed: logged by the relay, the feed waits for the next process. */
  onError?: (err: Error) => void;
}

export const DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024;

interface Sub {
  sink: LiveSink;
  cap: number;
  /** Waiting for a keyframe: after a gap, or before the first fragment. */
  needKey: boolean;
  /** Fragments dropped in the current gap. */
  dropping: number;
  closed: boolean;
  stats: LiveSubscriberStats;
}

export function createLiveFeed(opts: LiveFeedOptions = {}): LiveFeedWriter {
  const defaultCap = opts.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
  const maxGopBytes = opts.maxGopBytes ?? 8 * 1024 * 1024;
  let assembler = new Fmp4Assembler();
  let broken = false;
  let init: { data: Buffer; codec: string | undefined } | undefined;
  let gop: LiveFragment[] = [];
  let gopBytes = 0;
  let fragments = 0;
  let ended: string | undefined;
  const subs = new Set<Sub>();
  const initWaiters = new Set<(ok: boolean) => void>();

  const safe = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      opts.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  };

  function offer(s: Sub, f: LiveFragment): void {
    if (s.closed) return;
    if (s.needKey && !f.keyframe) {
      // Inside a gap this is a drop; before the first keyframe (a new process) it is only waiting.
      if (s.dropping > 0) {
        s.dropping++;
        s.stats.droppedFragments++;
      }
      return;
    }
    const buffered = s.sink.buffered();
    if (buffered + f.data.length > s.cap) {
      if (s.dropping === 0) s.stats.gaps++;
      s.dropping++;
      s.stats.droppedFragments++;
      s.needKey = true;
      return;
    }
    s.stats.maxBuffered = Math.max(s.stats.maxBuffered, buffered);
    if (s.dropping > 0) {
      const n = s.dropping;
      safe(() => s.sink.gap?.(n));
    }
    s.dropping = 0;
    s.needKey = false;
    s.stats.sentFragments++;
    s.stats.sentBytes += f.data.length;
    safe(() => s.sink.fragment(f));
  }

  function onEvent(e: Fmp4Event): void {
    if (e.kind === 'init') {
      init = { data: e.data, codec: e.codec };
      gop = [];
      gopBytes = 0;
      for (const s of subs) {
        // A new process starts a new timeline: everyone starts again from its first keyframe.
        s.needKey = true;
        s.dropping = 0;
        safe(() => s.sink.init(e.data, e.codec));
      }
      for (const w of initWaiters) w(true);
      initWaiters.clear();
      return;
    }
    if (!init) return;
    const f: LiveFragment = { data: e.data, keyframe: e.keyframe, decodeTime: e.decodeTime };
    fragments++;
    if (f.keyframe) {
      gop = [f];
      gopBytes = f.data.length;
    } else if (gop.length) {
      gopBytes += f.data.length;
      gop.push(f);
      if (gopBytes > maxGopBytes) {
        gop = [];
        gopBytes = 0;
      }
    }
    for (const s of subs) offer(s, f);
  }

  return {
    get codec() {
      return init?.codec;
    },

    subscribe(sink, o = {}) {
      const s: Sub = {
        sink,
        cap: o.maxQueueBytes ?? defaultCap,
        needKey: true,
        dropping: 0,
        closed: false,
        stats: { sentFragments: 0, sentBytes: 0, droppedFragments: 0, gaps: 0, maxBuffered: 0 },
      };
      if (ended !== undefined) {
        const why = ended;
        safe(() => sink.end?.(why));
        s.closed = true;
        return { stats: s.stats, close() {} };
      }
      subs.add(s);
      if (init) {
        const i = init;
        safe(() => sink.init(i.data, i.codec));
        // The warm start: the GOP so far, from its keyframe, then live fragments as they come.
        for (const f of gop) offer(s, f);
      }
      return {
        stats: s.stats,
        close() {
          s.closed = true;
          subs.delete(s);
        },
      };
    },

    waitForInit(timeoutMs) {
      if (init) return Promise.resolve(true);
      if (ended !== undefined) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const t = setTimeout(() => done(false), timeoutMs);
        const done = (ok: boolean) => {
          clearTimeout(t);
          initWaiters.delete(done);
          resolve(ok);
        };
        initWaiters.add(done);
      });
    },

    stats: () => ({
      subscribers: subs.size,
      hasInit: init !== undefined,
      codec: init?.codec,
      gopFragments: gop.length,
      gopBytes,
      fragments,
    }),

    restart() {
      assembler = new Fmp4Assembler();
      broken = false;
      // The old GOP belongs to the old timeline; the init stays until the new one arrives (same codec mostly).
      gop = [];
      gopBytes = 0;
    },

    write(chunk) {
      if (broken || ended !== undefined) return;
      let events: Fmp4Event[];
      try {
        events = assembler.push(chunk);
      } catch (err) {
        // Not parseable: ignore this process's output; the next one starts a new byte stream.
        broken = true;
        opts.onError?.(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      for (const e of events) onEvent(e);
    },

    end(reason) {
      if (ended !== undefined) return;
      ended = reason;
      gop = [];
      gopBytes = 0;
      for (const w of initWaiters) w(false);
      initWaiters.clear();
      for (const s of subs) {
        s.closed = true;
        safe(() => s.sink.end?.(reason));
      }
      subs.clear();
    },
  };
}
