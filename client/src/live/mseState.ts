/**
 * The low-latency player's logic without a browser (issue 15): the state machine of one tile on the live
 * socket, and the buffer control that keeps its latency inside a target. Pure: the player (msePlayer.ts)
 * feeds it events and snapshots and carries out what it answers; tests drive it with tables.
 *
 *   idle ──start──▶ connecting ──first frame──▶ playing ◀──frame── stalled
 *                      │                          │  └──stall (jump to live)──▶┘
 *                      └──── unsupported codec, socket down, server error, timeout, second stall ────▶ fallback
 *
 * `fallback` is final for this player: the tile then plays HLS (liveSession.ts) by itself.
 */

export type MseState = 'idle' | 'connecting' | 'playing' | 'stalled' | 'fallback';

/** Why a tile left the live socket for HLS. */
export type FallbackReason =
  'no_mse' | 'unsupported_codec' | 'socket' | 'server' | 'timeout' | 'stalled' | 'media' | 'ended';

export type MseEvent =
  | { type: 'start' }
  /** The init segment's codec arrived; `supported`: MediaSource.isTypeSupported said yes. */
  | { type: 'codec'; supported: boolean }
  /** currentTime advanced (a decoded frame is on screen). */
  | { type: 'frame' }
  /** No progress for the stall interval although playing. */
  | { type: 'stall' }
  | { type: 'socket-down' }
  /** The server refused or ended the tile (a coded error, or the stream stopped). */
  | { type: 'server-error'; code: string }
  | { type: 'ended' }
  /** The SourceBuffer or the element failed. */
  | { type: 'media-error' }
  /** No first frame within the start timeout. */
  | { type: 'timeout' }
  | { type: 'stop' };

export type MseAction = 'none' | 'jump-to-live' | 'fallback';

export interface MseMachine {
  state: MseState;
  /** Stalls since the last progress. */
  stalls: number;
  reason: FallbackReason | null;
}

export const MSE_IDLE: MseMachine = { state: 'idle', stalls: 0, reason: null };

const fallback = (m: MseMachine, reason: FallbackReason): { machine: MseMachine; action: MseAction } => ({
  machine: { ...m, state: 'fallback', reason },
  action: 'fallback',
});

/** One step of a tile's state machine: the next state and what the player must do. */
export function mseStep(m: MseMachine, e: MseEvent): { machine: MseMachine; action: MseAction } {
  const same = { machine: m, action: 'none' as const };
  if (m.state === 'fallback') return same;
  if (e.type === 'stop') return { machine: MSE_IDLE, action: 'none' };
  switch (m.state) {
    case 'idle':
      return e.type === 'start' ? { machine: { ...m, state: 'connecting', stalls: 0 }, action: 'none' } : same;
    case 'connecting':
      switch (e.type) {
        case 'codec':
          return e.supported ? same : fallback(m, 'unsupported_codec');
        case 'frame':
          return { machine: { ...m, state: 'playing', stalls: 0 }, action: 'none' };
        case 'socket-down':
          return fallback(m, 'socket');
        case 'server-error':
          return fallback(m, 'server');
        case 'ended':
          return fallback(m, 'ended');
        case 'media-error':
          return fallback(m, 'media');
        case 'timeout':
          return fallback(m, 'timeout');
        default:
          return same;
      }
    case 'playing':
    case 'stalled':
      switch (e.type) {
        case 'frame':
          return m.state === 'playing' && m.stalls === 0
            ? same
            : { machine: { ...m, state: 'playing', stalls: 0 }, action: 'none' };
        case 'stall':
          // First stall: jump to the live edge (a gap after dropped fragments, a tab that was hidden). Still
          // frozen after that: this path does not deliver here; HLS takes over.
          return m.stalls >= 1
            ? fallback(m, 'stalled')
            : { machine: { ...m, state: 'stalled', stalls: m.stalls + 1 }, action: 'jump-to-live' };
        case 'codec':
          return e.supported ? same : fallback(m, 'unsupported_codec');
        case 'socket-down':
          return fallback(m, 'socket');
        case 'server-error':
          return fallback(m, 'server');
        case 'ended':
          return fallback(m, 'ended');
        case 'media-error':
          return fallback(m, 'media');
        default:
          return same;
      }
  }
}

/** A latency target: where playback sits behind the newest frame, and when to jump rather than catch up. */
export interface LatencyTarget {
  /** Seconds behind the live edge to aim for. */
  target: number;
  /** Behind more than this: seek to `target` at once instead of speeding up. */
  jumpAbove: number;
  /** Seconds of played video kept behind currentTime; older is removed from the SourceBuffer. */
  keepBehind: number;
}

/**
 * Wall tiles: 0.3 s behind the newest frame (measured: ~0.37 s glass to glass in Chromium with the relay's
 * ~90 ms; at 0.5 s the catch-up dead band kept it near 0.9 s). Beyond 1.2 s a jump: a warm start begins at
 * the cached GOP's keyframe, up to a GOP behind, and catching that up at 1.1× would take seconds.
 */
export const TILE_LATENCY: LatencyTarget = { target: 0.3, jumpAbove: 1.2, keepBehind: 6 };
/** A PTZ tile asks for the smallest delay an operator steering a dome can get. */
export const PTZ_LATENCY: LatencyTarget = { target: 0.2, jumpAbove: 0.6, keepBehind: 4 };

export interface BufferSnapshot {
  currentTime: number;
  /** The SourceBuffer's buffered ranges, [start, end] in seconds, in order. */
  ranges: ReadonlyArray<readonly [number, number]>;
}

export interface BufferPlan {
  /** Seek here (a jump to live, or over a gap the dropped fragments left). */
  seekTo?: number;
  playbackRate: number;
  /** Remove everything buffered before this time. */
  removeBefore?: number;
  /** Seconds behind the newest frame (after the seek, if any); null with nothing buffered. */
  latency: number | null;
}

/** The playback rate that catches up from `behind` seconds past the target without a visible jump. */
export function catchUpRate(behind: number): number {
  if (behind <= 0.1) return 1;
  if (behind <= 0.5) return 1.05;
  if (behind <= 1) return 1.1;
  return 1.25;
}

/**
 * What to do with the buffer now: jump when far behind or outside any buffered range, speed up a little when
 * somewhat behind, play at 1× near the target, and trim what has been played.
 */
export function planBuffer(s: BufferSnapshot, t: LatencyTarget): BufferPlan {
  const ranges = s.ranges.filter(([a, b]) => b > a);
  if (!ranges.length) return { playbackRate: 1, latency: null };
  const edge = ranges[ranges.length - 1]![1];
  const first = ranges[0]![0];
  const inside = ranges.some(([a, b]) => s.currentTime >= a - 0.05 && s.currentTime <= b);
  let at = s.currentTime;
  let seekTo: number | undefined;
  if (!inside) {
    // Before the first frame, or in a hole: the next range that starts later, never before its start.
    const next = ranges.find(([a]) => a > s.currentTime);
    const base = next ? next[0] : ranges[ranges.length - 1]![0];
    at = Math.max(base, edge - t.target);
    seekTo = at;
  } else if (edge - s.currentTime > t.jumpAbove) {
    at = Math.max(edge - t.target, ranges[ranges.length - 1]![0]);
    seekTo = at;
  }
  const latency = edge - at;
  const playbackRate = seekTo !== undefined ? 1 : catchUpRate(latency - t.target);
  const plan: BufferPlan = { playbackRate, latency };
  if (seekTo !== undefined) plan.seekTo = seekTo;
  if (first < at - t.keepBehind - 1) plan.removeBefore = at - t.keepBehind;
  return plan;
}
