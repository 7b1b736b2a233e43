/**
 * Issue 12, items 2 and 3, against simulated ONVIF devices found by a real scan:
 *
 * - A device behind NAT reports its streams on an address the platform cannot reach: they are rebased to the
 *   address that answered (the reported ones kept), the point plays, and confirm says so; with rebasing off
 *   the addresses are kept and confirm warns that the platform may not reach them.
 * - Two different devices with one serial (same make and model, as NVR-fronting proxies and placeholder
 *   serials give) are two devices: both confirm.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveredDeviceView, ScanView } from '../../server/src/api/contract.ts';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import { client, firstVillage, startTestServer, type TestServer } from '../helpers/server.ts';
import { playlist } from './support.ts';

const PASSWORD = 'Scan-Pass1!';
let sim: Simulator;
let block: LoopbackBlock;
const servers: TestServer[] = [];

const NAT = 0;
const TWIN_A = 1;
const TWIN_B = 2;

beforeAll(async () => {
  block = await claimLoopbackBlock();
  const specs = defaultCameraSpecs(3, { firstIp: block.host(1), seed: 66 });
  sim = await startSimulator({
    cameras: specs.map((c, i) => ({
      ...c,
      password: PASSWORD,
      clockOffsetSec: 0,
      // Behind NAT: it names an address of its own private network (here: a silent one of this test's block).
      ...(i === NAT ? { advertisedHost: block.host(250) } : {}),
      // Same make, model and serial as TWIN_A; its own MAC and endpoint reference.
      ...(i === TWIN_B
        ? { manufacturer: specs[TWIN_A]!.manufacturer, model: specs[TWIN_A]!.model, serial: specs[TWIN_A]!.serial }
        : {}),
    })),
    clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-sim-')),
    onvifPort: 0,
    rtspPort: 0,
    clipMode: 'shared',
    streamOverrides: { main: { width: 320, height: 180, fps: 10, bitrateKbps: 300 } },
  });
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.close();
  await sim?.stop();
  await block?.release();
});

async function server(rebase: boolean) {
  const t = await startTestServer({
    relay: rebase,
    cameras: 2,
    overrides: {
      discovery: { probeTimeoutMs: 700, deviceTimeoutMs: 2000, rebaseStreamHosts: rebase },
      relay: { startTimeoutMs: 20_000 },
    },
  });
  servers.push(t);
  const token = await t.login('tech');
  return { t, token, tech: client(t.api, token) };
}

async function scan(tech: ReturnType<typeof client>): Promise<DiscoveredDeviceView[]> {
  const r = await tech.post('/discovery/scans', {
    mode: 'unicast',
    ranges: [`${block.prefix}.1-${block.prefix}.3`],
    credentials: [{ username: 'admin', password: PASSWORD }],
  });
  expect(r.status, r.text).toBe(202);
  let done: { scan: ScanView; devices: DiscoveredDeviceView[] } | undefined;
  await expect
    .poll(async () => (done = (await tech.get(`/discovery/scans/${r.json.id}`)).json).scan.status, { timeout: 30_000 })
    .toBe('done');
  return done!.devices;
}

const confirm = async (tech: ReturnType<typeof client>, d: DiscoveredDeviceView, name: string) =>
  tech.post(`/discovery/devices/${d.id}/confirm`, {
    name,
    networkId: 'xueliang',
    orgUnitId: await firstVillage(tech),
    position: { lon: 118.7, lat: 31 },
  });

describe('devices as they are in the field', { timeout: 90_000 }, () => {
  it('streams reported behind NAT are rebased to the address that answered, kept, said on confirm, and play', async () => {
    const { t, token, tech } = await server(true);
    const devices = await scan(tech);
    const nat = devices.find((d) => d.host === block.host(1))!;
    expect(nat.status).toBe('new');
    expect(new URL(nat.mainStreamUri!).hostname).toBe(block.host(1));
    expect(new URL(nat.snapshotUri!).hostname).toBe(block.host(1));
    expect(new URL(nat.reportedUris!.mainStreamUri!).hostname).toBe(block.host(250));
    expect(nat.reasonParts?.map((p) => p.code)).toContain('uri_host_rebased');
    const c = await confirm(tech, nat, '端口映射后的摄像机');
    expect(c.status, c.text).toBe(201);
    expect(c.json.warnings).toEqual([
      expect.objectContaining({ code: 'uri_host_rebased', params: { reported: block.host(250), host: block.host(1) } }),
    ]);
    expect(new URL(c.json.mainStreamUri).hostname).toBe(block.host(1));
    const open = await tech.post(`/cameras/${c.json.id}/stream`, { quality: 'main' });
    expect(open.status, open.text).toBe(200);
    await expect
      .poll(async () => (await playlist(t.url, open.json.playlistUrl, token)).segments.length)
      .toBeGreaterThan(0);
  });

  it('with rebasing off the reported addresses are kept, and confirm warns that the platform may not reach them', async () => {
    const { tech } = await server(false);
    const nat = (await scan(tech)).find((d) => d.host === block.host(1))!;
    expect(new URL(nat.mainStreamUri!).hostname).toBe(block.host(250));
    const c = await confirm(tech, nat, '未改写地址的摄像机');
    expect(c.status, c.text).toBe(201);
    expect(c.json.warnings?.[0]).toMatchObject({ code: 'uri_host_differs' });
  });

  it('two devices with one serial are two devices: both are new, both confirm, a rescan tells them apart', async () => {
    const { tech } = await server(false);
    const devices = await scan(tech);
    const a = devices.find((d) => d.host === block.host(TWIN_A + 1))!;
    const b = devices.find((d) => d.host === block.host(TWIN_B + 1))!;
    expect(a.serial).toBe(b.serial);
    expect(a.mac).not.toBe(b.mac);
    expect([a.status, b.status]).toEqual(['new', 'new']);
    expect((await confirm(tech, a, '同序列号甲')).status).toBe(201);
    const again = await scan(tech);
    expect(again.find((d) => d.host === block.host(TWIN_A + 1))!.status).toBe('registered');
    const b2 = again.find((d) => d.host === block.host(TWIN_B + 1))!;
    expect(b2.status).toBe('new');
    const second = await confirm(tech, b2, '同序列号乙');
    expect(second.status, second.text).toBe(201);
    // And the same device is still one: its own rescan says registered, confirm refuses.
    const third = await scan(tech);
    const b3 = third.find((d) => d.host === block.host(TWIN_B + 1))!;
    expect(b3.status).toBe('registered');
    expect((await confirm(tech, b3, '重复')).status).toBe(409);
  });
});
