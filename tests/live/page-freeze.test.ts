/**
 * A page that stood still is not a frozen picture (issue 12, item 11): the players' watchdogs ask `tickClock`
 * whether their own tick came late before they blame the video.
 */
import { describe, expect, it } from 'vitest';
import { tickClock } from '../../client/src/live/pageFreeze.ts';

describe('tickClock', () => {
  it('ticks on time, or a little late, are not a freeze', () => {
    const c = tickClock(1_000);
    expect(c.lateBy(10_000)).toBe(0);
    expect(c.lateBy(11_000)).toBe(0);
    expect(c.lateBy(12_900)).toBe(0); // 1.9 s: a busy page, within the slack of two intervals
    expect(c.lateBy(15_900)).toBe(0); // exactly interval + slack
  });

  it('a tick held up by a blocked main thread reports how long the page stood still', () => {
    const c = tickClock(1_000);
    c.lateBy(0);
    c.lateBy(1_000);
    expect(c.lateBy(9_000)).toBe(7_000);
    // The next tick on time again is measured from the late one.
    expect(c.lateBy(10_000)).toBe(0);
  });

  it('the first tick has nothing to compare with', () => {
    expect(tickClock(250).lateBy(123_456)).toBe(0);
  });

  it('the slack is the caller’s: a 250 ms watchdog notices a 1 s freeze', () => {
    const c = tickClock(250);
    c.lateBy(0);
    expect(c.lateBy(1_000)).toBe(750);
  });
});
