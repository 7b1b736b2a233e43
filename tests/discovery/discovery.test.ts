/**
 * Discovery against the simulator over real sockets: unicast WS-Discovery,
 * interrogation, authentication with clock skew, every fault mode, dedup on
 * rescan, confirmation into the registry, scope and bad input.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type {
  ClientToServerEvents,
  DiscoveredDeviceView,
  ScanView,
  ServerToClientEvents,
} from '../../server/src/api/contract.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'Sim@2026pw';
let t: TestServer;
let sim: Simulator;
/** Addresses of this run's own (issue 12): no demo and no other run answers on them. */
let block: LoopbackBlock;
/** Blocks of this run's own where nothing answers (claimed by the tests that scan them). */
const silent: LoopbackBlock[] = [];
let tech: ReturnType<typeof client>;
let socket: Socket<ServerToClientEvents, ClientToServerEvents>;
const events: { progress: ScanView[]; devices: DiscoveredDeviceView[] } = { progress: [], devices: [] };

// Camera roles by index; the simulator puts camera i at <block>.(i + 1).
const NORMAL = 0;
const SKEWED = 1;
const WRONG_PASSWORD = 2;
const OFFLINE = 3;
const SLOW = 4;
const MALFORMED = 5;
const PTZ = 6;
const host = (i: number) => block.host(i + 1);

async function waitScan(id: number, timeoutMs = 20_000): Promise<{ scan: ScanView; devices: DiscoveredDeviceView[] }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await tech.get(`/discovery/scans/${id}`);
    if (r.json.scan.status !== 'running') return r.json;
    if (Date.now() > until) throw new Error(`scan ${id} still running`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

beforeAll(async () => {
  block = await claimLoopbackBlock();
  t = await startTestServer({
    overrides: {
      discovery: {
        probeTimeoutMs: 700,
        deviceTimeoutMs: 1200,
        concurrency: 8,
        multicastInterfaces: [],
        maxHostsPerScan: 2048,
        probeRatePerSecond: 500,
      },
    },
  });
  const specs = defaultCameraSpecs(8, { firstIp: block.host(1), seed: 5 }).map((s, i) => ({
    ...s,
    password: PASSWORD,
    clockOffsetSec: i === SKEWED ? 3600 : 0,
    ptz: i === PTZ,
    faults:
      i === WRONG_PASSWORD
        ? { wrongPassword: true }
        : i === OFFLINE
          ? { offline: true }
          : i === SLOW
            ? { slowRepliesMs: 5000 }
            : i === MALFORMED
              ? { malformedXml: true }
              : {},
  }));
  sim = await startSimulator({
    cameras: specs,
    clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-sim-')),
    onvifPort: 8000,
    rtspPort: 8554,
  });
  const token = await t.login('tech');
  tech = client(t.api, token);
  socket = io(t.url, { auth: { token }, transports: ['websocket'] });
  socket.on('scan:progress', (s) => events.progress.push(s));
  socket.on('scan:device', (d) => events.devices.push(d));
  await new Promise((r) => socket.once('connect', () => r(null)));
});

afterAll(async () => {
  socket?.close();
  await sim?.stop();
  await block?.release();
  await t?.close();
  await Promise.all(silent.map((b) => b.release()));
});

describe('unicast scan', () => {
  let result: { scan: ScanView; devices: DiscoveredDeviceView[] };
  const byHost = (i: number) => result.devices.find((d) => d.host === host(i));

  beforeAll(async () => {
    const r = await tech.post('/discovery/scans', {
      mode: 'unicast',
      ranges: [`${block.prefix}.0/28`],
      credentials: [
        { username: 'admin', password: 'not-it' },
        { username: 'admin', password: PASSWORD },
      ],
    });
    expect(r.status).toBe(202);
    result = await waitScan(r.json.id);
  });

  it('probes every address and finds every camera that is on', () => {
    expect(result.scan).toMatchObject({ status: 'done', total: 14, probed: 14 });
    // The offline camera does not answer; everything else does.
    expect(result.devices.map((d) => d.host).sort()).toEqual([0, 1, 2, 4, 5, 6, 7].map(host).sort());
    expect(result.scan.found).toBe(7);
    expect(result.scan.interrogated).toBe(7);
  });

  it('reads make, model, serial, MAC, profiles and stream URIs', () => {
    const spec = sim.cameras[NORMAL]!;
    const d = byHost(NORMAL)!;
    expect(d).toMatchObject({
      status: 'new',
      manufacturer: spec.manufacturer,
      model: spec.model,
      serial: spec.serial,
      mac: spec.mac.toLowerCase(),
      mainStreamUri: spec.mainStreamUri,
      subStreamUri: spec.subStreamUri,
      credentialsOk: true,
      ptz: false,
    });
    expect(d.xaddr).toBe(spec.deviceServiceUrl);
    expect(d.profiles).toHaveLength(2);
    expect(d.profiles[0]).toMatchObject({
      encoding: 'H264',
      width: spec.resolvedStreams.main.width,
      height: spec.resolvedStreams.main.height,
    });
    expect(d.snapshotUri?.startsWith(`http://${host(NORMAL)}:8000/`)).toBe(true);
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it('authenticates a camera whose clock is an hour fast, using its own time', () => {
    const d = byHost(SKEWED)!;
    expect(d.status).toBe('new');
    expect(d.clockOffsetMs! / 1000).toBeGreaterThan(3590);
    expect(d.clockOffsetMs! / 1000).toBeLessThan(3610);
  });

  it('reports each fault with a status and a reason, and the scan goes on', () => {
    expect(byHost(WRONG_PASSWORD)).toMatchObject({ status: 'auth_failed', credentialsOk: false });
    expect(byHost(SLOW)!.status).toBe('unreachable');
    expect(byHost(SLOW)!.reason).toMatch(/within/);
    expect(byHost(MALFORMED)!.status).toBe('error');
    expect(byHost(MALFORMED)!.reason).toMatch(/XML/i);
    expect(byHost(PTZ)!.ptz).toBe(true);
  });

  it('pushed progress and each device over Socket.IO', () => {
    const mine = events.progress.filter((p) => p.id === result.scan.id);
    expect(mine.length).toBeGreaterThan(1);
    expect(mine[mine.length - 1]!.status).toBe('done');
    expect(events.devices.filter((d) => d.scanId === result.scan.id)).toHaveLength(7);
  });

  it('confirms a device into a camera point with sealed credentials, once', async () => {
    const orgs = (await tech.get('/org-units')).json as { id: number; level: string }[];
    const village = orgs.find((o) => o.level === 'village')!.id;
    const d = byHost(NORMAL)!;
    const r = await tech.post(`/discovery/devices/${d.id}/confirm`, {
      name: '发现的点位',
      networkId: 'xueliang',
      orgUnitId: village,
      position: { lon: 118.7, lat: 31.0, system: 'gcj02' },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      onvifUrl: d.xaddr,
      mainStreamUri: d.mainStreamUri,
      subStreamUri: d.subStreamUri,
      hasCredentials: true,
      coordSource: 'gcj02',
    });
    expect(r.json.device).toMatchObject({ serial: d.serial, mac: d.mac });
    const again = await tech.post(`/discovery/devices/${d.id}/confirm`, {
      name: 'x',
      networkId: 'xueliang',
      orgUnitId: village,
      position: { lon: 118.7, lat: 31 },
    });
    expect(again.status).toBe(409);
    const failed = byHost(WRONG_PASSWORD)!;
    expect(
      (
        await tech.post(`/discovery/devices/${failed.id}/confirm`, {
          name: 'x',
          networkId: 'xueliang',
          orgUnitId: village,
          position: { lon: 118.7, lat: 31 },
        })
      ).status,
    ).toBe(409);
  });

  it('marks the confirmed device as registered on a rescan', async () => {
    const r = await tech.post('/discovery/scans', {
      mode: 'manual',
      address: `${host(NORMAL)}:8000`,
      credentials: [{ username: 'admin', password: PASSWORD }],
    });
    const again = await waitScan(r.json.id);
    expect(again.devices).toHaveLength(1);
    expect(again.devices[0]).toMatchObject({ status: 'registered' });
    expect(again.devices[0]!.cameraId).toBeGreaterThan(0);
  });
});

describe('manual add', () => {
  it('calls an address where nothing answers unreachable', async () => {
    const r = await tech.post('/discovery/scans', { mode: 'manual', address: host(OFFLINE) + ':8000' });
    const res = await waitScan(r.json.id);
    expect(res.devices[0]).toMatchObject({ status: 'unreachable', host: host(OFFLINE) });
  });

  it('finds a camera by its device-service URL when credentials are right', async () => {
    const r = await tech.post('/discovery/scans', {
      mode: 'manual',
      address: sim.cameras[7]!.deviceServiceUrl,
      credentials: [{ username: 'admin', password: PASSWORD }],
    });
    const res = await waitScan(r.json.id);
    expect(res.devices[0]).toMatchObject({ status: 'new', serial: sim.cameras[7]!.serial });
  });
});

describe('jobs, scope and bad input', () => {
  it('cancels a running scan', async () => {
    // Four blocks of this run's own, 1,016 addresses at 500 probes a second: two seconds, long enough to cancel
    // midway, and no demo or other run can answer on them.
    silent.push(...(await Promise.all([1, 2, 3, 4].map(() => claimLoopbackBlock()))));
    const r = await tech.post('/discovery/scans', { mode: 'unicast', ranges: silent.map((b) => b.cidr) });
    expect(r.status).toBe(202);
    await new Promise((res) => setTimeout(res, 100));
    expect((await tech.post(`/discovery/scans/${r.json.id}/cancel`)).status).toBe(200);
    const done = await waitScan(r.json.id);
    expect(done.scan.status).toBe('cancelled');
    expect(done.scan.probed).toBeLessThan(done.scan.total);
  });

  it('keeps a township technician to its own scans and org units', async () => {
    const tech1 = client(t.api, await t.login('tech1'));
    const county = (await tech.get('/discovery/scans')).json as ScanView[];
    expect(county.length).toBeGreaterThan(0);
    expect((await tech1.get('/discovery/scans')).json).toEqual([]);
    expect((await tech1.get(`/discovery/scans/${county[0]!.id}`)).status).toBe(404);
    const r = await tech1.post('/discovery/scans', {
      mode: 'manual',
      address: sim.cameras[PTZ]!.deviceServiceUrl,
      credentials: [{ username: 'admin', password: PASSWORD }],
    });
    const res = await (async () => {
      for (;;) {
        const s = await tech1.get(`/discovery/scans/${r.json.id}`);
        if (s.json.scan.status !== 'running') return s.json as { devices: DiscoveredDeviceView[] };
        await new Promise((x) => setTimeout(x, 100));
      }
    })();
    const all = (await tech.get('/org-units')).json as { id: number; level: string; parentId: number }[];
    const mine = (await tech1.get('/org-units')).json as { id: number }[];
    const foreign = all.find((o) => o.level === 'village' && !mine.some((m) => m.id === o.id))!;
    const c = await tech1.post(`/discovery/devices/${res.devices[0]!.id}/confirm`, {
      name: 'x',
      networkId: 'tianwang',
      orgUnitId: foreign.id,
      position: { lon: 118.7, lat: 31 },
    });
    expect(c.status).toBe(403);
  });

  it.each([
    [{ mode: 'unicast', ranges: ['10.0.0.0/4'] }, 'ranges.0'],
    [{ mode: 'unicast', ranges: ['127.0.0.0/8'] }, 'ranges.0'],
    [{ mode: 'unicast', ranges: [] }, 'ranges'],
    [{ mode: 'unicast', ranges: ['127.0.50.1'], wsdPorts: [70000] }, 'wsdPorts.0'],
    [{ mode: 'multicast', interface: '192.0.2.1' }, 'interface'],
    [{ mode: 'manual', address: 'http://' }, 'address'],
    [{ mode: 'teleport' }, 'mode'],
    [
      { mode: 'manual', address: '127.0.50.1', credentials: [{ username: 'a', password: 'b', extra: 1 }] },
      'credentials.0.extra',
    ],
  ])('rejects %j naming %s', async (body, field) => {
    const r = await tech.post('/discovery/scans', body);
    expect(r.status).toBe(400);
    expect(r.json.error.fields.map((f: { path: string }) => f.path)).toContain(field);
  });

  it('is for technicians and admins only', async () => {
    const viewer = client(t.api, await t.login('viewer'));
    expect((await viewer.post('/discovery/scans', { mode: 'manual', address: '127.0.50.1' })).status).toBe(403);
    expect((await viewer.get('/discovery/scans')).status).toBe(403);
  });
});
