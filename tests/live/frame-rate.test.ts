/** The badge's frame rate is frames per second of media time (client/src/live/frameRate.ts, issue 17). */
import { describe, expect, it } from 'vitest';
import { FrameRateMeter } from '../../client/src/live/frameRate.ts';

/** Readings a player takes once a wall-clock second: `perSecond` frames per media second, media advancing `speed`× per reading. */
function feed(meter: FrameRateMeter, perSecond: number, speed: number, readings: number, from = { frames: 0, t: 0 }) {
  let rate: number | null = null;
  for (let i = 0; i <= readings; i++) {
    const t = from.t + i * speed;
    rate = meter.sample(Math.floor(from.frames + t * perSecond), t);
  }
  return rate;
}

describe('frame rate from the stream’s timestamps', () => {
  it.each([
    [15, 1],
    [25, 1],
    // hls.js catching up at 1.1×, or a burst after a stall: media time runs fast, the rate stays the camera's.
    [25, 1.1],
    [15, 2.5],
    [12, 0.8],
  ])('reads %s fps when media advances %s× the wall clock', (fps, speed) => {
    const rate = feed(new FrameRateMeter(), fps, speed, 6);
    expect(Math.round(rate!)).toBe(Math.round(fps));
  });

  it('says nothing until it has seen enough media time', () => {
    const m = new FrameRateMeter();
    expect(m.sample(0, 10)).toBeNull();
    expect(m.sample(15, 11)).toBeNull();
    expect(m.sample(37, 12.5)).not.toBeNull();
  });

  it('starts again when the source changes (frames or time go back), and holds while paused', () => {
    const m = new FrameRateMeter();
    feed(m, 25, 1, 6);
    expect(m.sample(3, 0.2)).toBeNull();
    const rate = feed(m, 15, 1, 6, { frames: 3, t: 0.2 });
    expect(Math.round(rate!)).toBe(15);
    expect(Math.round(m.sample(Math.floor(3 + 6.2 * 15), 6.2)!)).toBe(15);
  });
});
