/**
 * Camera health against the simulator: real ONVIF and RTSP over loopback,
 * status judged by a received RTP video packet; transitions with flap
 * damping, history, Socket.IO push in scope, and the online rate.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type { CameraStatusEvent, OnlineRateReport } from '../../server/src/api/contract.ts';
import {
  client,
  firstVillage,
  listenAs,
  registerSimCamera,
  settle,
  startTestServer,
  type TestServer,
  type TypedSocket,
} from '../helpers/server.ts';

let t: TestServer;
let sim: Simulator;
/** Addresses of this run's own (issue 12): no demo and no other run answers on them. */
let block: LoopbackBlock;
let tech: ReturnType<typeof client>;
const ids: number[] = [];
const heard: { own: CameraStatusEvent[]; other: CameraStatusEvent[] } = { own: [], other: [] };
const sockets: TypedSocket[] = [];
const NORMAL = 0;
const STALLED = 1;
const WRONG_PASSWORD = 2;
const OFFLINE = 3;
const NO_ONVIF = 4;

const status = async (id: number) =>
  (await tech.get(`/cameras/${id}`)).json as { status: string; statusReason: string | null; lastSeenAt: string | null };

beforeAll(async () => {
  block = await claimLoopbackBlock();
  t = await startTestServer({
    cameras: 10,
    overrides: {
      health: { intervalSeconds: 0, concurrency: 8, timeoutMs: 2500, frameCheck: true, failuresBeforeOffline: 2 },
    },
  });
  const specs = defaultCameraSpecs(5, { firstIp: block.host(1), seed: 9 }).map((s, i) => ({
    ...s,
    clockOffsetSec: 0,
    faults:
      i === STALLED
        ? { stalledStream: true }
        : i === WRONG_PASSWORD
          ? { wrongPassword: true }
          : i === OFFLINE
            ? { offline: true }
            : {},
  }));
  sim = await startSimulator({
    cameras: specs,
    clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-sim-')),
    onvifPort: 8000,
    rtspPort: 8554,
    discovery: false,
    streamOverrides: { main: { width: 320, height: 180, fps: 10 }, sub: { width: 160, height: 90, fps: 10 } },
    // The cameras' own sub clips (what the sweep plays) encoded before it: a simulated camera without its
    // clip sends no video yet, and a sweep should judge cameras, not the simulator's encoder.
    prewarm: { stream: 'sub' },
  });
  for (const end = Date.now() + 60_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const s = sim.stats();
    if (s.prewarmQueued + s.prewarmRunning + s.ffmpegRunning === 0) break;
  }
  tech = client(t.api, await t.login('tech1'));
  const village = await firstVillage(tech);
  for (const [i, cam] of sim.cameras.entries()) {
    ids.push(
      await registerSimCamera(tech, cam, {
        name: `健康检查${i}`,
        orgUnitId: village,
        ptz: false,
        ...(i === NO_ONVIF ? { onvifUrl: null } : {}),
      }),
    );
  }
  const own = await listenAs(t, 'township1', 'camera:status');
  const other = await listenAs(t, 'township2', 'camera:status');
  heard.own = own.heard;
  heard.other = other.heard;
  sockets.push(own.socket, other.socket);
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await sim?.stop();
  await block?.release();
  await t?.close();
});

describe('health sweep', () => {
  it('judges each point by real video', async () => {
    const r = await t.server.app.health.sweep();
    expect(r.checked).toBeGreaterThanOrEqual(5);
    const normal = await status(ids[NORMAL]!);
    expect(normal.status, String(normal.statusReason)).toBe('online');
    expect(normal.lastSeenAt).not.toBeNull();
    const stalled = await status(ids[STALLED]!);
    expect(stalled.status).toBe('degraded');
    expect(stalled.statusReason).toMatch(/stalled/);
    expect(stalled.lastSeenAt).toBeNull();
    const wrong = await status(ids[WRONG_PASSWORD]!);
    expect(wrong.status).toBe('degraded');
    expect(wrong.statusReason).toMatch(/ONVIF answers, stream failed/);
    expect((await status(ids[OFFLINE]!)).status).toBe('offline');
    // Without an ONVIF address the stream alone decides.
    expect((await status(ids[NO_ONVIF]!)).status).toBe('online');
  }, 60_000);

  it('takes a camera offline only after two failed checks, and back online at once', async () => {
    await sim.setFaults(sim.cameras[NORMAL]!.code, { offline: true });
    await t.server.app.health.sweep();
    const first = await status(ids[NORMAL]!);
    expect(first.status).toBe('online');
    expect(first.statusReason).toMatch(/1\/2/);
    await t.server.app.health.sweep();
    expect((await status(ids[NORMAL]!)).status).toBe('offline');
    await sim.setFaults(sim.cameras[NORMAL]!.code, {});
    await t.server.app.health.sweep();
    expect((await status(ids[NORMAL]!)).status).toBe('online');
  }, 60_000);

  it('records transitions and pushes them to the township that owns the point only', async () => {
    const history = await t.store.all<{ from_status: string; to_status: string }>(
      'SELECT from_status, to_status FROM camera_status_events WHERE camera_id = ? ORDER BY id',
      [ids[NORMAL]!],
    );
    expect(history.map((h) => `${h.from_status}>${h.to_status}`)).toEqual([
      'unknown>online',
      'online>offline',
      'offline>online',
    ]);
    // A round trip on each socket after the sweeps: anything sent has arrived.
    await settle(sockets);
    expect(heard.own.filter((e) => e.id === ids[NORMAL]).map((e) => e.status)).toEqual(['online', 'offline', 'online']);
    // Township 2 hears only about its own points (the seeded demo points there go offline).
    expect(heard.other.filter((e) => ids.includes(e.id))).toEqual([]);
    const t2 = client(t.api, await t.login('township2'));
    for (const e of heard.other) expect((await t2.get(`/cameras/${e.id}`)).status).toBe(200);
  });

  it('reports the online rate per network and per unit', async () => {
    const report = (await tech.get('/health/online-rate')).json as OnlineRateReport;
    // tech1's township: the 5 simulated points plus the seeded demo points (never reachable: unknown or offline).
    const xl = report.byNetwork.find((n) => n.key === 'xueliang')!;
    expect(xl.online).toBe(2);
    expect(xl.degraded).toBe(2);
    expect(report.overall.online).toBe(2);
    expect(report.overall.rate).toBeCloseTo(2 / report.overall.total, 5);
    const village = report.byOrg.find((o) => o.online > 0)!;
    expect(village.online).toBe(2);
    const county = (await client(t.api, await t.login('county')).get('/health/online-rate')).json as OnlineRateReport;
    expect(county.overall.total).toBeGreaterThan(report.overall.total);
    expect(county.byOrg.length).toBe(3);
  });
});
