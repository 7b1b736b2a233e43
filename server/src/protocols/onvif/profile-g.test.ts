import { describe, expect, it } from 'vitest';
import { foldStates, replayHeaders, rtspClock } from './profile-g.ts';

describe('Profile G helpers', () => {
  it.each([
    [
      'a start state and one gap',
      [
        [0, true],
        [40, false],
        [60, true],
      ],
      [
        [0, 40],
        [60, 100],
      ],
    ],
    [
      'no data at the start, then data to the end',
      [
        [0, false],
        [30, true],
      ],
      [[30, 100]],
    ],
    [
      'edges out of order and before the range',
      [
        [60, true],
        [-50, true],
        [40, false],
      ],
      [
        [0, 40],
        [60, 100],
      ],
    ],
    [
      'a repeated state changes nothing',
      [
        [10, true],
        [20, true],
        [30, false],
        [35, false],
      ],
      [[10, 30]],
    ],
    ['nothing recorded', [[0, false]], []],
  ] as const)('folds track states: %s', (_name, states, ranges) => {
    expect(
      foldStates(
        states.map(([at, present]) => ({ at, present })),
        0,
        100,
      ),
    ).toEqual(ranges);
  });

  it('writes the replay headers on the device clock, RFC 2326 compact time', () => {
    expect(rtspClock(Date.UTC(2026, 0, 2, 3, 4, 5, 250))).toBe('20260102T030405.250Z');
    expect(replayHeaders(Date.UTC(2026, 0, 2, 3, 4, 5), 4, 3600_000)).toEqual({
      all: [['Require', 'onvif-replay']],
      play: [
        ['Range', 'clock=20260102T040405.000Z-'],
        ['Scale', '4'],
      ],
    });
  });
});
