/**
 * Issue 12, item 1: a camera that offers RTSP over UDP only, served by GStreamer's RTSP server (software no
 * one on the team wrote). With the point's transport on 'auto' it plays (TCP refused, then UDP), UDP is
 * remembered, and the health check judges it online the same way. Forced to TCP, the refusal is the reason
 * everywhere, and a failed open counts no viewer — whether it waits for the playlist or, as the live socket's
 * tiles do, only for the relay to run — nor does a player that keeps fetching the playlist of a stream in error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { gstRtspAvailable, startGstRtsp, type GstRtsp } from '../helpers/gst-rtsp.ts';
import { client, firstVillage, startTestServer, type TestServer } from '../helpers/server.ts';
import { playlist, probeSegment } from './support.ts';

type StreamRow = { cameraId: number; viewers: number; state: string; reason: string | null };

const available = gstRtspAvailable();
let t: TestServer;
let block: LoopbackBlock;
let gst: GstRtsp;
let tech: ReturnType<typeof client>;
let techToken = '';
let village = 0;

const register = async (name: string, rtspTransport: 'auto' | 'tcp' | 'udp') => {
  const r = await tech.post('/cameras', {
    name,
    networkId: 'xueliang',
    orgUnitId: village,
    position: { lon: 118.7, lat: 31 },
    mainStreamUri: gst.url,
    rtspTransport,
  });
  expect(r.status, r.text).toBe(201);
  return r.json.id as number;
};

beforeAll(async () => {
  if (!available) return;
  block = await claimLoopbackBlock();
  gst = await startGstRtsp({ host: block.host(1), size: '320x180', udpOnly: true });
  t = await startTestServer({ relay: true, cameras: 4, overrides: { relay: { startTimeoutMs: 20_000 } } });
  techToken = await t.login('tech');
  tech = client(t.api, techToken);
  village = await firstVillage(tech);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await gst?.stop();
  await block?.release();
});

describe.skipIf(!available)('a camera that offers RTSP over UDP only (GStreamer)', () => {
  it("plays with the point on 'auto': TCP is refused, UDP works and is remembered", async () => {
    const id = await register('只支持UDP的摄像机', 'auto');
    const open = await tech.post(`/cameras/${id}/stream`, { quality: 'main' });
    expect(open.status, open.text).toBe(200);
    let segments: string[] = [];
    await expect
      .poll(async () => (segments = (await playlist(t.url, open.json.playlistUrl, techToken)).segments).length)
      .toBeGreaterThan(0);
    const video = await probeSegment(t.url, open.json.playlistUrl, segments.at(-1)!, techToken);
    expect(video).toMatchObject({ status: 200, codec: 'h264', width: 320, height: 180 });
    const point = await tech.get(`/cameras/${id}`);
    expect(point.json).toMatchObject({ rtspTransport: 'auto', rtspTransportSeen: 'udp' });
    // The viewer is counted, the stream runs.
    const streams = (await tech.get('/streams')).json as { cameraId: number; viewers: number; state: string }[];
    expect(streams.find((s) => s.cameraId === id)).toMatchObject({ viewers: 1 });
  });

  it('the health check probes the same way: online over UDP', async () => {
    const id = await register('健康检查只用UDP', 'auto');
    await t.server.app.health.sweep();
    const point = (await tech.get(`/cameras/${id}`)).json;
    expect(point).toMatchObject({ status: 'online', statusReason: null, rtspTransportSeen: 'udp' });
  });

  it('forced to TCP: the refusal is the reason, and the failed open counts no viewer', async () => {
    const id = await register('强制TCP', 'tcp');
    const open = await tech.post(`/cameras/${id}/stream`, { quality: 'main' });
    expect(open.status).toBe(502);
    expect(open.json.error.message).toMatch(/refused RTSP over TCP \(461 Unsupported Transport\)/);
    expect(open.json.error.messageCode).toBe('stream_failed');
    const streams = (await tech.get('/streams')).json as StreamRow[];
    const mine = streams.find((s) => s.cameraId === id);
    expect(mine?.viewers ?? 0).toBe(0);
    expect(await t.store.all('SELECT id FROM view_sessions WHERE camera_id = ?', [id])).toEqual([]);
    await t.server.app.health.sweep();
    const point = (await tech.get(`/cameras/${id}`)).json;
    expect(point.status).toBe('offline');
    expect(point.statusReason).toMatch(/refused RTSP over TCP \(461 Unsupported Transport\)/);
  });

  it("forced to TCP and opened as the live socket opens it (wait: 'running'): 502, no viewer", async () => {
    const id = await register('强制TCP·实时画面', 'tcp');
    const open = await tech.post(`/cameras/${id}/stream`, { quality: 'main', wait: 'running' });
    expect(open.status, open.text).toBe(502);
    expect(open.json.error.messageCode).toBe('stream_failed');
    expect(open.json.error.message).toMatch(/refused RTSP over TCP \(461 Unsupported Transport\)/);
    const mine = ((await tech.get('/streams')).json as StreamRow[]).find((s) => s.cameraId === id);
    expect(mine?.viewers ?? 0).toBe(0);
    expect(await t.store.all('SELECT id FROM view_sessions WHERE camera_id = ?', [id])).toEqual([]);
  });

  it('a player fetching the playlist of a stream in error counts no viewer', async () => {
    const id = await register('播放中改为TCP', 'auto');
    const open = await tech.post(`/cameras/${id}/stream`, { quality: 'main' });
    expect(open.status, open.text).toBe(200);
    const playlistUrl = open.json.playlistUrl as string;
    await expect.poll(async () => (await playlist(t.url, playlistUrl, techToken)).segments.length).toBeGreaterThan(0);
    let lastFetch = Date.now();
    const listed = async () => ((await tech.get('/streams')).json as StreamRow[]).find((s) => s.cameraId === id);
    await expect.poll(listed).toMatchObject({ state: 'live', viewers: 1 });
    // Forced to TCP while watched: the relay restarts and the camera refuses it, over and over.
    const point = (await tech.get(`/cameras/${id}`)).json;
    const patched = await tech.patch(`/cameras/${id}`, { rtspTransport: 'tcp', version: point.version });
    expect(patched.status, patched.text).toBe(200);
    await expect.poll(async () => (await listed())?.state, { timeout: 20_000 }).toBe('error');
    expect((await listed())?.reason).toMatch(/refused RTSP over TCP \(461 Unsupported Transport\)/);
    // Nobody watches a stream that shows nothing: the open session ended with it.
    expect(await listed()).toMatchObject({ state: 'error', viewers: 0 });
    // The player keeps asking (past the 5 s in which repeated requests are one), and is still no viewer.
    await new Promise((r) => setTimeout(r, Math.max(0, 5_300 - (Date.now() - lastFetch))));
    for (let i = 0; i < 3; i++) {
      await playlist(t.url, playlistUrl, techToken);
      lastFetch = Date.now();
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await listed()).toMatchObject({ state: 'error', viewers: 0 });
    expect(await t.store.all('SELECT id FROM view_sessions WHERE camera_id = ? AND ended_at IS NULL', [id])).toEqual(
      [],
    );
  });
});
