/**
 * The live timeline without RTSP: frame numbers before its epoch. The epoch (frame 0) lies up to one GOP after
 * the process started, so a session that joins a young simulator gets negative frame numbers; they must still
 * map to a picture of the clip (at GOP 4 s a benchmark's first session lost its RTP session on them).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { prepareStream } from './h264.ts';
import { LiveTimeline, type LiveFrame } from './live.ts';
import type { StreamTicker } from './ticker.ts';

// SPS/PPS written by x264 for 1920x1080 baseline (as in h264.test.ts); slices are filler.
const SPS = Buffer.from('6742c028da01e0089f97011000000300100000030320f1832a', 'hex');
const PPS = Buffer.from('68ce3c80', 'hex');
const sc = Buffer.from([0, 0, 0, 1]);
const slice = (idr: boolean) => Buffer.concat([Buffer.from([idr ? 0x65 : 0x41, 0x88]), Buffer.alloc(30, 0xab)]);

afterEach(() => vi.restoreAllMocks());

describe('live timeline', () => {
  it('gives frames before its epoch a picture of the clip, keyframes where the GOP puts them', () => {
    // One GOP of 4 frames: IDR, P, P, P.
    const clip = prepareStream(
      Buffer.concat([sc, SPS, sc, PPS, sc, slice(true), ...[1, 2, 3].flatMap(() => [sc, slice(false)])]),
    );
    expect(clip.aus.map((a) => a.idr)).toEqual([true, false, false, false]);
    const ticker = { add: () => undefined, remove: () => undefined } as unknown as StreamTicker;
    const source = { tryAcquire: () => clip, acquire: () => Promise.resolve(clip), release: () => undefined };
    // A phase key whose epoch is a few frames after the process's start.
    const key = Array.from({ length: 50 }, (_, i) => `cam${i}/main`).find(
      (k) => new LiveTimeline({ fps: 25, gopFrames: 100, phaseKey: k, ticker, source }).epoch >= 400,
    )!;
    const timeline = new LiveTimeline({ fps: 25, gopFrames: 100, phaseKey: key, ticker, source });
    vi.spyOn(performance, 'now').mockReturnValue(0);
    const frames: LiveFrame[] = [];
    timeline.join({ frame: (f) => frames.push(f) }, true);
    timeline.pace(200);
    expect(frames.length).toBeGreaterThanOrEqual(4);
    expect(frames.every((f) => f.n < 0)).toBe(true);
    expect(frames.every((f) => f.live !== undefined)).toBe(true);
    // Frame n is clip position n mod 4: a keyframe every fourth frame, negative or not.
    expect(frames.map((f) => f.live!.idr)).toEqual(frames.map((f) => ((f.n % 4) + 4) % 4 === 0));
  });
});
