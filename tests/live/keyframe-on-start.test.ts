/**
 * A cold stream asks its camera for a keyframe (issue 15): once the camera answers the relay's PLAY, the server
 * sends ONVIF SetSynchronizationPoint on the profile being played, so the first picture is an IDR inserted then,
 * not the camera's next scheduled one (up to a GOP later: 2–4 s on real cameras, 8 s here). Real server, real
 * ffmpeg, the simulator's ONVIF and RTSP. Compared by the simulator's frame numbers (clock SEI in every
 * picture), never by how long anything took.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { readClockSei, type Simulator } from '../../scripts/sim/index.ts';
import { client, firstVillage, registerSimCamera, startTestServer, type TestServer } from '../helpers/server.ts';
import { startPlaybackSimulator } from '../helpers/sim.ts';

const FFMPEG = '/usr/bin/ffmpeg';
const GOP_SEC = 8;
const FPS = 10;
const dir = mkdtempSync(path.join(tmpdir(), 'ccc-kf-'));
let block: LoopbackBlock;
let sim: Simulator;
let asking: TestServer;
let silent: TestServer;

beforeAll(async () => {
  block = await claimLoopbackBlock();
  sim = await startPlaybackSimulator({
    count: 2,
    seed: 71,
    block,
    dir,
    spec: (s) => ({ ...s, faults: {}, keyframeIntervalSec: GOP_SEC }),
  });
  asking = await startTestServer({ relay: true, cameras: 4 });
  // Without the keyframe request the first attempts fail for want of a picture size (no SPS before the camera's
  // next keyframe, up to 8 s away): the open waits through them, for longer than the default 8 s.
  silent = await startTestServer({
    relay: true,
    cameras: 4,
    overrides: { relay: { keyframeOnStart: false, startTimeoutMs: 20_000 } },
  });
}, 120_000);

afterAll(async () => {
  await asking?.close();
  await silent?.close();
  await sim?.stop();
  block?.release();
  rmSync(dir, { recursive: true, force: true });
});

/** Frame number (clock SEI) of the first picture of the first HLS segment of a freshly started stream. */
async function firstFrameOfColdStream(
  ts: TestServer,
  camera: number,
): Promise<{ first: number; sent: number; firstSegmentSec: number }> {
  const tech = client(ts.api, await ts.login('tech1'));
  const cam = sim.cameras[camera]!;
  const id = await registerSimCamera(tech, cam, { name: `关键帧${camera}`, orgUnitId: await firstVillage(tech) });
  const timeline = sim.timeline(cam.code, 'sub');
  const gop = GOP_SEC * FPS;
  // Open just after a scheduled keyframe: the next one is most of a GOP away.
  for (;;) {
    const phase = timeline.frameAt(performance.now()) % gop;
    if (phase >= 2 && phase <= 6) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const sent = timeline.frameAt(performance.now());
  const token = await ts.login('township1');
  const r = await client(ts.api, token).post(`/cameras/${id}/stream`, { quality: 'sub', wait: 'running' });
  expect(r.status, r.text).toBe(200);
  const playlistUrl = r.json.playlistUrl as string;
  let name: string | undefined;
  let firstSegmentSec = NaN;
  for (let i = 0; i < 400 && !name; i++) {
    const p = await fetch(`${ts.url}${playlistUrl}`, { headers: { authorization: `Bearer ${token}` } });
    const m = /^#EXTINF:([\d.]+),?\s*\n(seg_\d+\.ts)$/m.exec(await p.text());
    name = m?.[2];
    firstSegmentSec = Number(m?.[1]);
    if (!name) await new Promise((res) => setTimeout(res, 100));
  }
  expect(name, 'a first segment').toBeDefined();
  const seg = await fetch(`${ts.url}${playlistUrl.replace(/index\.m3u8$/, '')}${name}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(seg.status).toBe(200);
  const file = path.join(dir, `${camera}.ts`);
  writeFileSync(file, Buffer.from(await seg.arrayBuffer()));
  const annexB = execFileSync(FFMPEG, ['-v', 'fatal', '-i', file, '-c:v', 'copy', '-f', 'h264', '-']);
  for (let at = annexB.indexOf(Buffer.from([0, 0, 1])); at >= 0; at = annexB.indexOf(Buffer.from([0, 0, 1]), at + 3)) {
    const end = annexB.indexOf(Buffer.from([0, 0, 1]), at + 3);
    let nal = annexB.subarray(at + 3, end < 0 ? annexB.length : end);
    if (nal[nal.length - 1] === 0) nal = nal.subarray(0, nal.length - 1);
    const c = readClockSei(nal);
    if (c) return { first: c.frame, sent, firstSegmentSec };
  }
  throw new Error('no clock SEI in the first segment');
}

describe('a cold stream asks its camera for a keyframe', () => {
  it('plays from an IDR asked for at PLAY, long before the camera’s next scheduled keyframe', async () => {
    const before = sim.stats().syncPoints;
    const { first, sent, firstSegmentSec } = await firstFrameOfColdStream(asking, 0);
    const scheduled = (Math.floor(sent / (GOP_SEC * FPS)) + 1) * GOP_SEC * FPS;
    expect(first).toBeGreaterThan(sent);
    expect(first).toBeLessThan(scheduled);
    // Asked again a segment later (1 s): the first segment closes then, not at the camera's next keyframe.
    expect(sim.stats().syncPoints).toBeGreaterThanOrEqual(before + 2);
    expect(firstSegmentSec).toBeLessThan(GOP_SEC / 2);
  }, 90_000);

  it('without it (relay.keyframeOnStart: false) the first picture is the camera’s next scheduled keyframe', async () => {
    const before = sim.stats().syncPoints;
    const { first, sent, firstSegmentSec } = await firstFrameOfColdStream(silent, 1);
    expect(firstSegmentSec).toBeGreaterThan(GOP_SEC / 2);
    const scheduled = (Math.floor(sent / (GOP_SEC * FPS)) + 1) * GOP_SEC * FPS;
    expect(first).toBe(scheduled);
    expect(sim.stats().syncPoints).toBe(before);
  }, 90_000);
});
