/**
 * The low-latency player's logic outside the browser (issue 15, client/src/live/mseState.ts): the tile's
 * state machine (idle → connecting → playing → stalled → fallback) as a table of event sequences, and the
 * buffer control that keeps latency inside a target (trim, playback-rate nudges, jumps to live and over gaps).
 */
import { describe, expect, it } from 'vitest';
import {
  MSE_IDLE,
  PTZ_LATENCY,
  TILE_LATENCY,
  catchUpRate,
  mseStep,
  planBuffer,
  type MseEvent,
  type MseMachine,
} from '../../client/src/live/mseState.ts';

const E = {
  start: { type: 'start' },
  ok: { type: 'codec', supported: true },
  hevc: { type: 'codec', supported: false },
  frame: { type: 'frame' },
  stall: { type: 'stall' },
  down: { type: 'socket-down' },
  refused: { type: 'server-error', code: 'ticket_not_yours' },
  ended: { type: 'ended' },
  media: { type: 'media-error' },
  timeout: { type: 'timeout' },
  stop: { type: 'stop' },
} satisfies Record<string, MseEvent>;

function run(events: MseEvent[]): { states: string[]; actions: string[]; last: MseMachine } {
  let m = MSE_IDLE;
  const states: string[] = [];
  const actions: string[] = [];
  for (const e of events) {
    const r = mseStep(m, e);
    m = r.machine;
    states.push(m.state);
    actions.push(r.action);
  }
  return { states, actions, last: m };
}

describe('tile state machine', () => {
  // prettier-ignore
  const table: Array<[string, MseEvent[], string[], string | null]> = [
    ['plays: codec, first frame', [E.start, E.ok, E.frame, E.frame], ['connecting', 'connecting', 'playing', 'playing'], null],
    ['a codec the browser cannot decode (H.265) goes to HLS at once', [E.start, E.hevc], ['connecting', 'fallback'], 'unsupported_codec'],
    ['the socket cannot open', [E.start, E.down], ['connecting', 'fallback'], 'socket'],
    ['the server refuses the ticket', [E.start, E.refused], ['connecting', 'fallback'], 'server'],
    ['no first frame in time', [E.start, E.ok, E.timeout], ['connecting', 'connecting', 'fallback'], 'timeout'],
    ['one stall: jump to live, and it plays again', [E.start, E.ok, E.frame, E.stall, E.frame], ['connecting', 'connecting', 'playing', 'stalled', 'playing'], null],
    ['a stall that a jump does not cure: HLS', [E.start, E.ok, E.frame, E.stall, E.stall], ['connecting', 'connecting', 'playing', 'stalled', 'fallback'], 'stalled'],
    ['stalls far apart are each cured by a jump', [E.start, E.frame, E.stall, E.frame, E.stall, E.frame], ['connecting', 'playing', 'stalled', 'playing', 'stalled', 'playing'], null],
    ['the socket drops while playing', [E.start, E.frame, E.down], ['connecting', 'playing', 'fallback'], 'socket'],
    ['the stream ends (point deleted)', [E.start, E.frame, E.ended], ['connecting', 'playing', 'fallback'], 'ended'],
    ['the SourceBuffer fails', [E.start, E.frame, E.media], ['connecting', 'playing', 'fallback'], 'media'],
    ['fallback is final', [E.start, E.down, E.frame, E.start], ['connecting', 'fallback', 'fallback', 'fallback'], 'socket'],
    ['stop returns to idle; a timeout before start does nothing', [E.timeout, E.start, E.frame, E.stop], ['idle', 'connecting', 'playing', 'idle'], null],
  ];
  it.each(table)('%s', (_name, events, states, reason) => {
    const r = run(events);
    expect(r.states).toEqual(states);
    expect(r.last.reason).toBe(reason);
  });

  it('asks for a jump to live on the first stall and for the fallback on the second', () => {
    expect(run([E.start, E.frame, E.stall, E.stall]).actions).toEqual(['none', 'none', 'jump-to-live', 'fallback']);
  });
});

describe('buffer control', () => {
  const T = TILE_LATENCY;
  const edge = 10;
  it('plays at 1× at the target and speeds up gently when somewhat behind', () => {
    const at = planBuffer({ currentTime: edge - T.target, ranges: [[5, edge]] }, T);
    expect(at.playbackRate).toBe(1);
    expect(at.latency).toBeCloseTo(T.target);
    expect(at.seekTo).toBeUndefined();
    expect(planBuffer({ currentTime: edge - T.target - 0.3, ranges: [[5, edge]] }, T).playbackRate).toBe(1.05);
    expect(planBuffer({ currentTime: edge - T.target - 0.7, ranges: [[5, edge]] }, T).playbackRate).toBe(1.1);
    expect(catchUpRate(0)).toBe(1);
    expect(catchUpRate(1.5)).toBe(1.25);
  });

  it('jumps to the target behind the edge when further behind than it catches up (a hidden tab, a warm start)', () => {
    for (const currentTime of [2, edge - T.jumpAbove - 0.1]) {
      const plan = planBuffer({ currentTime, ranges: [[0, edge]] }, T);
      expect(plan.seekTo).toBeCloseTo(edge - T.target);
      expect(plan.playbackRate).toBe(1);
      expect(plan.latency).toBeCloseTo(T.target);
    }
  });

  it('starts at the first buffered frame, not before it (a stream whose timeline does not start at 0)', () => {
    expect(planBuffer({ currentTime: 0, ranges: [[100, 100.2]] }, T).seekTo).toBe(100);
    expect(planBuffer({ currentTime: 0, ranges: [[100, 103]] }, T).seekTo).toBeCloseTo(103 - T.target);
  });

  it('jumps over a gap that dropped fragments left', () => {
    const ranges: [number, number][] = [
      [5, 10],
      [12, 12.6],
    ];
    expect(planBuffer({ currentTime: 10.2, ranges }, T).seekTo).toBeCloseTo(12.6 - T.target);
  });

  it('trims what has been played beyond what it keeps', () => {
    expect(planBuffer({ currentTime: 30 - T.target, ranges: [[0, 30]] }, T).removeBefore).toBeCloseTo(
      30 - T.target - T.keepBehind,
    );
    expect(planBuffer({ currentTime: edge - T.target, ranges: [[5, edge]] }, T).removeBefore).toBeUndefined();
  });

  it('a PTZ tile sits closer to the edge than a wall tile', () => {
    const snap = { currentTime: 9.65, ranges: [[0, edge]] as [number, number][] };
    expect(planBuffer(snap, T).playbackRate).toBe(1);
    expect(planBuffer(snap, PTZ_LATENCY).playbackRate).toBeGreaterThan(1);
    expect(PTZ_LATENCY.target).toBeLessThan(T.target);
    expect(planBuffer({ currentTime: 8.5, ranges: [[0, edge]] }, PTZ_LATENCY).seekTo).toBeCloseTo(
      edge - PTZ_LATENCY.target,
    );
  });

  it('does nothing with nothing buffered', () => {
    expect(planBuffer({ currentTime: 0, ranges: [] }, T)).toEqual({ playbackRate: 1, latency: null });
  });
});
