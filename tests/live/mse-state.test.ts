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
  it('plays at 1× near the target and speeds up gently when behind', () => {
    expect(planBuffer({ currentTime: 9.5, ranges: [[5, 10]] }, T)).toEqual({ playbackRate: 1, latency: 0.5 });
    expect(planBuffer({ currentTime: 9.1, ranges: [[5, 10]] }, T).playbackRate).toBe(1.05);
    expect(planBuffer({ currentTime: 8.6, ranges: [[5, 10]] }, T).playbackRate).toBe(1.1);
    expect(catchUpRate(0)).toBe(1);
    expect(catchUpRate(1.5)).toBe(1.25);
  });

  it('jumps to the target behind the edge when far behind (a hidden tab, a slow start)', () => {
    const plan = planBuffer({ currentTime: 2, ranges: [[0, 10]] }, T);
    expect(plan.seekTo).toBe(9.5);
    expect(plan.playbackRate).toBe(1);
    expect(plan.latency).toBeCloseTo(0.5);
  });

  it('starts at the first buffered frame, not before it (a stream whose timeline does not start at 0)', () => {
    expect(planBuffer({ currentTime: 0, ranges: [[100, 100.2]] }, T).seekTo).toBe(100);
    expect(planBuffer({ currentTime: 0, ranges: [[100, 103]] }, T).seekTo).toBe(102.5);
  });

  it('jumps over a gap that dropped fragments left', () => {
    const plan = planBuffer(
      {
        currentTime: 10,
        ranges: [
          [5, 10],
          [12, 12.6],
        ],
      },
      T,
    );
    expect(plan.seekTo).toBe(12.1);
  });

  it('trims what has been played beyond what it keeps', () => {
    expect(planBuffer({ currentTime: 29.5, ranges: [[0, 30]] }, T).removeBefore).toBe(29.5 - T.keepBehind);
    expect(planBuffer({ currentTime: 9.5, ranges: [[5, 10]] }, T).removeBefore).toBeUndefined();
  });

  it('a PTZ tile sits closer to the edge than a wall tile', () => {
    const snap = { currentTime: 9.5, ranges: [[0, 10]] as [number, number][] };
    expect(planBuffer(snap, T).playbackRate).toBe(1);
    expect(planBuffer(snap, PTZ_LATENCY).playbackRate).toBeGreaterThan(1);
    expect(planBuffer({ currentTime: 8.5, ranges: [[0, 10]] }, PTZ_LATENCY).seekTo).toBeCloseTo(9.8);
  });

  it('does nothing with nothing buffered', () => {
    expect(planBuffer({ currentTime: 0, ranges: [] }, T)).toEqual({ playbackRate: 1, latency: null });
  });
});
