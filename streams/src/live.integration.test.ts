/**
 * The relay's live fMP4 output (issue 15) with real ffmpeg against the camera simulator: one ffmpeg feeds both
 * HLS and the live feed (one RTSP session per camera), a viewer gets the init segment and a keyframe first,
 * a later viewer starts at once from the cached GOP, the simulator's clock SEI survives the copy, and a
 * stopped stream ends its viewers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { CLOCK_SEI_UUID, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type { LiveFragment, LiveSink } from './live-feed.ts';
import { createHlsRelay, type HlsRelay } from './relay.ts';
import { FFMPEG, countingRunner, killLeftovers, smallSimOptions, waitFor } from './test-support.ts';

let sim: Simulator;
let block: LoopbackBlock;
let base: string;
let relay: HlsRelay;
const counting = countingRunner();

beforeAll(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'ccc-live-it-'));
  block = await claimLoopbackBlock();
  sim = await startSimulator(smallSimOptions(base, block));
  relay = createHlsRelay({
    ffmpegPath: FFMPEG,
    rootDir: path.join(base, 'hls'),
    runner: counting.runner,
    idleTimeoutMs: 120_000,
    killGraceMs: 2_000,
  });
}, 60_000);

afterAll(async () => {
  await relay?.close();
  await sim?.stop();
  await block?.release();
  killLeftovers(base);
  rmSync(base, { recursive: true, force: true });
});

function recorder() {
  const got: Array<{ kind: 'init'; codec: string | undefined } | { kind: 'fragment'; f: LiveFragment }> = [];
  const ended: string[] = [];
  const sink: LiveSink = {
    init: (_d, codec) => void got.push({ kind: 'init', codec }),
    fragment: (f) => void got.push({ kind: 'fragment', f }),
    buffered: () => 0,
    end: (r) => void ended.push(r),
  };
  return { sink, got, ended, frags: () => got.flatMap((g) => (g.kind === 'fragment' ? [g.f] : [])) };
}

describe('live fMP4 beside HLS', () => {
  it('one ffmpeg feeds HLS and the live feed; viewers start from a keyframe, warm ones at once', async () => {
    const key = 'live-1';
    await relay.acquire(key, { url: sim.cameras[0]!.mainStreamUri, codec: 'h264', audio: 'none' });
    const feed = relay.live(key)!;
    expect(feed).toBeDefined();
    expect(await feed.waitForInit(20_000)).toBe(true);
    expect(feed.codec).toMatch(/^avc1\.[0-9a-f]{6}$/);
    const first = recorder();
    feed.subscribe(first.sink);
    await waitFor('fragments', () => first.frags().length >= 25, 20_000);
    expect(first.got[0]!.kind).toBe('init');
    expect(first.frags()[0]!.keyframe).toBe(true);
    // 10 fps with 1 s GOPs: about one keyframe in ten fragments, i.e. a fragment per frame.
    const keys = first.frags().filter((f) => f.keyframe).length;
    expect(keys).toBeGreaterThanOrEqual(2);
    expect(keys).toBeLessThanOrEqual(4);
    // The simulator's wall clock travels in every picture (for glass-to-glass latency).
    expect(first.frags().every((f) => f.data.includes(CLOCK_SEI_UUID))).toBe(true);

    // A second viewer is served from memory: init and a keyframe before any new frame could have come.
    const warm = recorder();
    feed.subscribe(warm.sink);
    expect(warm.got[0]!.kind).toBe('init');
    expect(warm.frags().length).toBeGreaterThanOrEqual(1);
    expect(warm.frags()[0]!.keyframe).toBe(true);

    // HLS still works from the same process: one ffmpeg for this camera.
    await relay.waitForPlaylist(key, 20_000);
    expect(counting.spawnsFor('live-1').length).toBe(1);
    const args = counting.spawnsFor('live-1')[0]!.args;
    expect(args).toContain('pipe:3');
    expect(args.filter((a) => a === '-i')).toHaveLength(1);

    await relay.stop(key);
    expect(first.ended).toEqual(['stopped']);
    expect(relay.live(key)).toBeUndefined();
  }, 60_000);
});
