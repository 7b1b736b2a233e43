/**
 * The relay with real ffmpeg against the camera simulator's RTSP over loopback: first playlist, decodable
 * H.264 segments, one process per stream, snapshot, idle stop, crash recovery, stale output, unreachable source.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type { RelayInput } from './args.ts';
import { createHlsRelay, type HlsRelay, type RelayStateEvent } from './relay.ts';
import {
  FFMPEG,
  countingRunner,
  ffmpegPidsMentioning,
  isAlive,
  killLeftovers,
  probeVideo,
  smallSimOptions,
  waitFor,
} from './test-support.ts';

let sim: Simulator;
let block: LoopbackBlock;
let base: string;
let root: string;
let relay: HlsRelay;
const counting = countingRunner();
const events: RelayStateEvent[] = [];
const relays: HlsRelay[] = [];

const cam = (i: number): RelayInput => ({ url: sim.cameras[i]!.mainStreamUri, codec: 'h264', audio: 'none' });
const eventsOf = (key: string) => events.filter((e) => e.key === key);

beforeAll(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'ccc-relay-it-'));
  root = path.join(base, 'hls');
  // Addresses no demo and no other run uses (issue 12).
  block = await claimLoopbackBlock();
  sim = await startSimulator(smallSimOptions(base, block, 4));
  relay = createHlsRelay({
    ffmpegPath: FFMPEG,
    rootDir: root,
    runner: counting.runner,
    segmentSeconds: 1,
    listSize: 4,
    idleTimeoutMs: 120_000,
    killGraceMs: 2_000,
  });
  relays.push(relay);
  relay.on('state', (e) => events.push(e));
});

afterAll(async () => {
  await Promise.all(relays.map((r) => r.stopAll()));
  const leftovers = killLeftovers(base);
  await sim?.stop();
  await block?.release();
  rmSync(base, { recursive: true, force: true });
  expect(leftovers, 'ffmpeg left running after the tests').toEqual([]);
});

describe('HLS relay with real ffmpeg', () => {
  it('starts on acquire; the playlist lists a segment ffprobe decodes as H.264', async () => {
    const session = await relay.acquire('cam0', cam(0));
    const pl = await relay.waitForPlaylist('cam0', 20_000);
    expect(pl.segments.length).toBeGreaterThan(0);
    const video = await probeVideo(path.join(session.dir, pl.segments[0]!.uri));
    expect(video).toMatchObject({ codec: 'h264', width: 320, height: 180 });
    expect(video.frames).toBeGreaterThan(0);
    // The first segment can be out before ffmpeg's first progress report: wait for a rate to be known.
    const live = await waitFor(
      'live with a frame rate',
      () => {
        const s = relay.status('cam0');
        return s?.state === 'live' && (s.fps ?? 0) > 0 && s;
      },
      5_000,
    );
    expect(live).toMatchObject({ transcode: false, restarts: 0 });
    expect(live.fps).toBeGreaterThan(5);
    await waitFor('a bitrate', () => relay.status('cam0')?.bitrateKbps, 5_000);
  });

  it('two viewers share one ffmpeg (counted by PID)', async () => {
    const a = await relay.acquire('cam0', cam(0));
    const b = await relay.acquire('cam0', cam(0));
    expect(a.dir).toBe(b.dir);
    expect(counting.spawnsFor(a.dir)).toHaveLength(1);
    const pid = relay.status('cam0')!.pid!;
    expect(ffmpegPidsMentioning(a.dir)).toEqual([pid]);
  });

  it('takes a JPEG snapshot of the newest segment', async () => {
    const jpeg = await relay.snapshot('cam0');
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(jpeg.length).toBeGreaterThan(1_000);
  });

  it('recovers from a crash: kill -9 → reconnecting → live, with a new process', async () => {
    const before = relay.status('cam0')!;
    const n = eventsOf('cam0').length;
    process.kill(before.pid!, 'SIGKILL');
    await waitFor(
      'reconnecting',
      () =>
        eventsOf('cam0')
          .slice(n)
          .find((e) => e.state === 'reconnecting'),
      5_000,
    );
    await waitFor(
      'live again',
      () =>
        eventsOf('cam0')
          .slice(n)
          .find((e) => e.state === 'live'),
      15_000,
    );
    const after = relay.status('cam0')!;
    expect(after.pid).not.toBe(before.pid);
    expect(after.restarts).toBe(1);
    expect(isAlive(before.pid!)).toBe(false);
    expect(ffmpegPidsMentioning(relay.status('cam0')!.dir)).toEqual([after.pid]);
    // The player's media sequence moves on across the restart.
    const pl = await relay.waitForPlaylist('cam0', 5_000);
    expect(pl.mediaSequence).toBeGreaterThan(0);
  });

  it('restarts a stream whose output went stale, and is live again when the camera recovers', async () => {
    await relay.acquire('cam1', cam(1));
    await relay.waitForPlaylist('cam1', 20_000);
    await waitFor('live', () => relay.status('cam1')?.state === 'live', 5_000);
    const n = eventsOf('cam1').length;
    await sim.setFaults(sim.cameras[1]!.code, { stalledStream: true });
    const dead = await waitFor(
      'reconnecting',
      () =>
        eventsOf('cam1')
          .slice(n)
          .find((e) => e.state === 'reconnecting'),
      15_000,
    );
    // The watchdog (no new segment for 6 s) usually wins; ffmpeg's own 5 s socket timeout may end it first.
    expect(dead.reason).toMatch(/^stale output|^ffmpeg (exited|killed)/);
    await sim.setFaults(sim.cameras[1]!.code, {});
    await waitFor(
      'live again',
      () =>
        eventsOf('cam1')
          .slice(n)
          .find((e) => e.state === 'live'),
      30_000,
    );
    expect(counting.spawnsFor(relay.status('cam1')!.dir).filter((s) => !s.exited)).toHaveLength(1);
    await relay.stop('cam1');
  });

  it('an unreachable source is an error with the reason, retried with backoff, never two processes', async () => {
    const input: RelayInput = {
      url: `rtsp://${block.host(250)}:9/Streaming/Channels/101`,
      codec: 'h264',
      audio: 'none',
    };
    const s = await relay.acquire('dead', input);
    await expect(relay.waitForPlaylist('dead', 10_000)).rejects.toThrow(/connection refused/i);
    // Attempts at 0, 0.5, 1.5 and 3.5 s.
    await waitFor('4 attempts', () => counting.spawnsFor(s.dir).length >= 4, 10_000);
    const spawns = counting.spawnsFor(s.dir);
    expect(spawns.filter((x) => !x.exited).length).toBeLessThanOrEqual(1);
    expect(relay.status('dead')).toMatchObject({
      state: 'error',
      reason: expect.stringMatching(/connection refused/i),
    });
    expect(relay.status('dead')!.restarts).toBeGreaterThanOrEqual(3);
    expect(relay.status('dead')!.stderr.length).toBeGreaterThan(0);
    await relay.stop('dead');
    expect(ffmpegPidsMentioning(s.dir)).toEqual([]);
  });

  it('a new source while watched restarts in place: the picture changes, the playlist goes on', async () => {
    const session = await relay.acquire('cam3', cam(3));
    const before = await relay.waitForPlaylist('cam3', 20_000);
    expect(await probeVideo(path.join(session.dir, before.segments.at(-1)!.uri))).toMatchObject({ width: 320 });
    // The sub stream of the same camera is 640x360: a new address.
    await relay.acquire('cam3', { ...cam(3), url: sim.cameras[3]!.subStreamUri });
    const changed = await waitFor(
      'a segment of the new source',
      () => {
        const st = relay.status('cam3');
        return st?.state === 'live' && st.restarts >= 0 && st;
      },
      20_000,
    );
    expect(changed.source).toBe(sim.cameras[3]!.subStreamUri);
    const after = await waitFor(
      'the new picture in the playlist',
      () => {
        const pl =
          existsSync(path.join(session.dir, 'index.m3u8')) &&
          readFileSync(path.join(session.dir, 'index.m3u8'), 'utf8');
        return pl && pl.includes('#EXT-X-DISCONTINUITY') && pl;
      },
      20_000,
    );
    const last = after.trim().split('\n').at(-1)!;
    expect(await probeVideo(path.join(session.dir, last))).toMatchObject({ codec: 'h264', width: 640, height: 360 });
    // One process for the stream, and the numbering only moved forward.
    expect(counting.spawnsFor(session.dir).filter((x) => !x.exited)).toHaveLength(1);
    await relay.stop('cam3');
  });

  it('stops a stream nobody watches: process killed, directory deleted', async () => {
    const idle = createHlsRelay({
      ffmpegPath: FFMPEG,
      rootDir: path.join(base, 'hls-idle'),
      segmentSeconds: 1,
      listSize: 4,
      idleTimeoutMs: 1_500,
    });
    relays.push(idle);
    const stopped: RelayStateEvent[] = [];
    idle.on('state', (e) => e.state === 'stopped' && stopped.push(e));
    const s = await idle.acquire('cam2', cam(2));
    await idle.waitForPlaylist('cam2', 20_000);
    const pid = idle.status('cam2')!.pid!;
    expect(isAlive(pid)).toBe(true);
    await waitFor('idle stop', () => stopped.length > 0, 10_000);
    expect(existsSync(s.dir)).toBe(false);
    expect(isAlive(pid)).toBe(false);
    expect(idle.list()).toEqual([]);
  });
});
