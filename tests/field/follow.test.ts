/**
 * Issue 12, items 4 and 9, with real ffmpeg against two simulated cameras that demand a password: the relay
 * follows the registry — a new stream address while someone watches shows the other camera's picture on the
 * same ticket (the decoded resolution changes), a new password or RTSP transport restarts it at once (a
 * new ffmpeg; a wrong password makes the camera refuse it, the right one plays again; the new transport is the
 * one that carries the video), a deleted point's relay stops — and no process on the machine has the camera
 * password in its command line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import { ffmpegPidsMentioning } from '../../streams/src/test-support.ts';
import { client, firstVillage, listenAs, settle, startTestServer, type TestServer } from '../helpers/server.ts';
import { commandLinesContaining, playlist, probeSegment } from './support.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const PASSWORD = 'Follow-S3cret!pw';
let t: TestServer;
let sim: Simulator;
let block: LoopbackBlock;
let tech: ReturnType<typeof client>;
let techToken = '';
let pointId = 0;

beforeAll(async () => {
  block = await claimLoopbackBlock();
  // Camera 0 sends 320x180, camera 1 480x270: the picture a viewer sees tells which one plays.
  const specs = defaultCameraSpecs(2, { firstIp: block.host(1), seed: 44 }).map((c, i) => ({
    ...c,
    password: PASSWORD,
    clockOffsetSec: 0,
    streams: { main: i === 0 ? { width: 320, height: 180 } : { width: 480, height: 270 } },
  }));
  sim = await startSimulator({
    cameras: specs.map((c) => ({ ...c, streams: { main: { ...c.streams.main, fps: 10, bitrateKbps: 300 } } })),
    clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-sim-')),
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    clipMode: 'shared',
    rtspAuth: 'required',
  });
  t = await startTestServer({ relay: true, cameras: 4, overrides: { relay: { startTimeoutMs: 20_000 } } });
  techToken = await t.login('tech');
  tech = client(t.api, techToken);
  const r = await tech.post('/cameras', {
    name: '跟随登记的点位',
    networkId: 'xueliang',
    orgUnitId: await firstVillage(tech),
    position: { lon: 118.7, lat: 31 },
    mainStreamUri: sim.cameras[0]!.mainStreamUri,
    credentials: { username: sim.cameras[0]!.username, password: PASSWORD },
  });
  expect(r.status, r.text).toBe(201);
  pointId = r.json.id as number;
}, 60_000);

afterAll(async () => {
  await t?.close();
  await sim?.stop();
  await block?.release();
});

describe('the relay follows the registry', () => {
  let playlistUrl = '';

  it('plays a camera that demands a password; the password is in no process command line', async () => {
    const open = await tech.post(`/cameras/${pointId}/stream`, { quality: 'main' });
    expect(open.status, open.text).toBe(200);
    playlistUrl = open.json.playlistUrl as string;
    let segments: string[] = [];
    await expect
      .poll(async () => (segments = (await playlist(t.url, playlistUrl, techToken)).segments).length)
      .toBeGreaterThan(0);
    expect(await probeSegment(t.url, playlistUrl, segments.at(-1)!, techToken)).toMatchObject({
      width: 320,
      height: 180,
    });
    expect(ffmpegPidsMentioning(t.engine!.status(`${pointId}:main`)!.dir)).toHaveLength(1);
    expect(commandLinesContaining(PASSWORD)).toEqual([]);
  });

  it('a new stream address while watched: the same ticket shows the other camera at once', async () => {
    const events = await listenAs(t, 'tech', 'stream:state');
    const before = await playlist(t.url, playlistUrl, techToken);
    const point = (await tech.get(`/cameras/${pointId}`)).json;
    const patched = await tech.patch(`/cameras/${pointId}`, {
      mainStreamUri: sim.cameras[1]!.mainStreamUri,
      version: point.version,
    });
    expect(patched.status, patched.text).toBe(200);
    // The player keeps fetching the playlist it has; the newest segment soon holds the new picture.
    await expect
      .poll(
        async () => {
          const pl = await playlist(t.url, playlistUrl, techToken);
          const last = pl.segments.at(-1);
          return last ? (await probeSegment(t.url, playlistUrl, last, techToken)).width : 0;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(480);
    const after = await playlist(t.url, playlistUrl, techToken);
    // The media sequence moved on (a player keeps its place), with a discontinuity at the change.
    expect(after.sequence).toBeGreaterThanOrEqual(before.sequence);
    expect(after.text).toContain('#EXT-X-DISCONTINUITY');
    await settle([events.socket]);
    const mine = events.heard.filter((e) => e.cameraId === pointId);
    expect(mine.some((e) => e.state === 'starting' && e.reason === 'source changed')).toBe(true);
    expect(mine.map((e) => e.state)).not.toContain('stopped');
    expect(ffmpegPidsMentioning(t.engine!.status(`${pointId}:main`)!.dir)).toHaveLength(1);
    expect(commandLinesContaining(PASSWORD)).toEqual([]);
    events.socket.close();
  });

  /** The one ffmpeg of the watched stream. */
  const relayPid = () => {
    const pids = ffmpegPidsMentioning(t.engine!.status(`${pointId}:main`)!.dir);
    expect(pids).toHaveLength(1);
    return pids[0]!;
  };
  const patchPoint = async (patch: Record<string, unknown>) => {
    const point = (await tech.get(`/cameras/${pointId}`)).json;
    const r = await tech.patch(`/cameras/${pointId}`, { ...patch, version: point.version });
    expect(r.status, r.text).toBe(200);
  };
  /** Waits until the playlist lists a segment it did not list before `since`, and decodes it. */
  const nextNewSegment = async (since: string[]) => {
    let fresh: string | undefined;
    await expect
      .poll(
        async () => (fresh = (await playlist(t.url, playlistUrl, techToken)).segments.find((s) => !since.includes(s))),
        { timeout: 30_000, interval: 300 },
      )
      .toBeTruthy();
    return probeSegment(t.url, playlistUrl, fresh!, techToken);
  };

  it('a new password while watched restarts the relay: a wrong one is refused, the right one plays', async () => {
    const events = await listenAs(t, 'tech', 'stream:state');
    const key = `${pointId}:main`;
    // The last test ended on the new camera's picture; 'live' follows at the supervisor's next output check.
    await expect.poll(() => t.engine!.status(key)?.state, { timeout: 20_000 }).toBe('live');
    const oldPid = relayPid();
    // Only a relay started anew with the new password can fail on it: the running one is already in.
    await patchPoint({ credentials: { username: sim.cameras[1]!.username, password: 'Wrong-Password-1' } });
    await expect
      .poll(() => t.engine!.status(key), { timeout: 20_000 })
      .toMatchObject({ state: 'error', reason: expect.stringMatching(/authentication failed/) });
    expect(ffmpegPidsMentioning(t.engine!.status(key)!.dir)).not.toContain(oldPid);
    const during = (await playlist(t.url, playlistUrl, techToken)).segments;
    // The right password again: another relay starts on the same ticket and its video is the camera's.
    await patchPoint({ credentials: { username: sim.cameras[1]!.username, password: PASSWORD } });
    expect(await nextNewSegment(during)).toMatchObject({ status: 200, width: 480, height: 270 });
    await expect.poll(() => t.engine!.status(key)?.state).toBe('live');
    expect(relayPid()).not.toBe(oldPid);
    await settle([events.socket]);
    const mine = events.heard.filter((e) => e.cameraId === pointId);
    expect(mine.filter((e) => e.state === 'starting' && e.reason === 'source changed')).toHaveLength(2);
    expect(mine.map((e) => e.state)).not.toContain('stopped');
    expect(commandLinesContaining(PASSWORD)).toEqual([]);
    events.socket.close();
  });

  it('a new RTSP transport while watched restarts the relay over it (auto → udp → tcp)', async () => {
    const key = `${pointId}:main`;
    // 'auto' tries TCP first, and the simulator accepts it.
    await expect
      .poll(() => t.engine!.relay.status(key), { timeout: 20_000 })
      .toMatchObject({ state: 'live', transport: 'tcp' });
    for (const transport of ['udp', 'tcp'] as const) {
      const oldPid = relayPid();
      await patchPoint({ rtspTransport: transport });
      // Live again means output from the new process: a stream restarted in place starts over as 'starting'.
      await expect
        .poll(() => t.engine!.relay.status(key), { timeout: 20_000 })
        .toMatchObject({ state: 'live', transport });
      expect(relayPid()).not.toBe(oldPid);
      const now = (await playlist(t.url, playlistUrl, techToken)).segments;
      expect(await nextNewSegment(now)).toMatchObject({ status: 200, width: 480, height: 270 });
      await expect.poll(async () => (await tech.get(`/cameras/${pointId}`)).json.rtspTransportSeen).toBe(transport);
    }
  });

  it('deleting the watched point stops its relay: no ffmpeg, the playlist is gone', async () => {
    const dir = t.engine!.status(`${pointId}:main`)!.dir;
    const point = (await tech.get(`/cameras/${pointId}`)).json;
    expect((await tech.del(`/cameras/${pointId}?version=${point.version}`)).status).toBe(204);
    await expect.poll(() => ffmpegPidsMentioning(dir)).toEqual([]);
    expect((await playlist(t.url, playlistUrl, techToken)).status).toBe(404);
  });
});
