/**
 * Issue 12, item 1: a camera that offers RTSP over UDP only, served by GStreamer's RTSP server (software no
 * one on the team wrote). With the point's transport on 'auto' it plays (TCP refused, then UDP), UDP is
 * remembered, and the health check judges it online the same way. Forced to TCP, the refusal is the reason
 * everywhere, and a failed open counts no viewer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { gstRtspAvailable, startGstRtsp, type GstRtsp } from '../helpers/gst-rtsp.ts';
import { client, firstVillage, startTestServer, type TestServer } from '../helpers/server.ts';
import { playlist, probeSegment } from './support.ts';

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
    const streams = (await tech.get('/streams')).json as { cameraId: number; viewers: number; state: string }[];
    const mine = streams.find((s) => s.cameraId === id);
    expect(mine?.viewers ?? 0).toBe(0);
    expect(t.db.all('SELECT id FROM view_sessions WHERE camera_id = ?', [id])).toEqual([]);
    await t.server.app.health.sweep();
    const point = (await tech.get(`/cameras/${id}`)).json;
    expect(point.status).toBe('offline');
    expect(point.statusReason).toMatch(/refused RTSP over TCP \(461 Unsupported Transport\)/);
  });
});
