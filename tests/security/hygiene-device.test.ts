/**
 * A hostile ONVIF device: what it says about itself is bounded and cleaned by the text policy before
 * it is stored as a discovered device, pushed, or copied into a camera point on confirmation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveredDeviceView, ScanView } from '../../server/src/api/contract.ts';
import { client, firstVillage, startTestServer, type TestServer } from '../helpers/server.ts';
import { startFakeDevice, type FakeDevice } from './fake-onvif.ts';

let t: TestServer;
let tech: ReturnType<typeof client>;
let device: FakeDevice;

// What issue 11 found copied into a point: 300,000 characters with RLO, BEL and ESC.
const HOSTILE_MANUFACTURER = '\u202eHikvision\u0007\u001b[2J' + 'M'.repeat(300_000);
// Every character the policy forbids, in one string.
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

async function scan(c: ReturnType<typeof client>, address: string) {
  const r = await c.post('/discovery/scans', { mode: 'manual', address });
  expect(r.status).toBe(202);
  for (;;) {
    const s = await c.get(`/discovery/scans/${r.json.id}`);
    if (s.json.scan.status !== 'running') return s.json as { scan: ScanView; devices: DiscoveredDeviceView[] };
    await new Promise((res) => setTimeout(res, 50));
  }
}

beforeAll(async () => {
  t = await startTestServer({
    cameras: 4,
    overrides: { discovery: { probeTimeoutMs: 500, deviceTimeoutMs: 3000, multicastInterfaces: [] } },
  });
  tech = client(t.api, await t.login('tech'));
  device = await startFakeDevice({
    manufacturer: HOSTILE_MANUFACTURER,
    model: '\u200b\u200b\ufeff',
    firmware: 'V5.7\u2067.3\u2069\u0085',
    serial: 'SN\n\t123\u001b[0m',
    hardwareId: '\u0007'.repeat(1000),
    mac: '44-19-B6-00-00-01',
    profileName: '\u202e主码流\u0000',
    encoding: 'H264\u202e' + 'E'.repeat(5000),
    snapshotFault: '\u202eno\u0007 snapshot ' + 'R'.repeat(200_000),
  });
});
afterAll(async () => {
  await device?.close();
  await t?.close();
});

describe('a hostile device', () => {
  let found: DiscoveredDeviceView;

  beforeAll(async () => {
    const r = await scan(tech, device.address);
    expect(r.scan.status).toBe('done');
    expect(r.devices).toHaveLength(1);
    found = r.devices[0]!;
  });

  it('is interrogated: its identity is kept, cleaned and cut to 64 characters', () => {
    expect(found.status).toBe('new');
    expect(found.manufacturer).toMatch(/^Hikvision \[2JM+$/);
    expect(found.manufacturer!.length).toBe(64);
    expect(found.model).toBeNull(); // nothing visible
    expect(found.firmware).toBe('V5.7.3');
    expect(found.serial).toBe('SN 123 [0m');
    expect(found.mac).toBe('44:19:b6:00:00:01');
    expect(found.profiles[0]!.name).toBe('主码流');
    expect(found.profiles[0]!.encoding!.length).toBeLessThanOrEqual(16);
  });

  it('its fault reasons are cleaned and bounded too', () => {
    expect(found.reason).toMatch(/^no snapshot URI \(s:Receiver: no snapshot R+\)$/);
    expect(FORBIDDEN.test(found.reason!)).toBe(false);
    expect(found.reason!.length).toBeLessThanOrEqual(300);
  });

  it('nothing it said reaches the database unbounded or with forbidden characters', async () => {
    const rows = await t.store.all<Record<string, unknown>>('SELECT * FROM discovered_devices WHERE id = ?', [
      found.id,
    ]);
    for (const [col, v] of Object.entries(rows[0]!)) {
      if (typeof v !== 'string') continue;
      expect(FORBIDDEN.test(v), `discovered_devices.${col}`).toBe(false);
      expect(v.length, `discovered_devices.${col}`).toBeLessThan(4096);
    }
  });

  it('confirming it copies only the cleaned identity into the point', async () => {
    const r = await tech.post(`/discovery/devices/${found.id}/confirm`, {
      name: '敌意设备',
      networkId: 'xueliang',
      orgUnitId: await firstVillage(tech),
      position: { lon: 118.8, lat: 30.95 },
    });
    expect(r.status).toBe(201);
    expect(r.json.device).toEqual({
      manufacturer: found.manufacturer,
      model: null,
      serial: 'SN 123 [0m',
      mac: '44:19:b6:00:00:01',
    });
    const row = (await t.store.get<Record<string, string | null>>(
      'SELECT manufacturer, model, serial, mac FROM camera_points WHERE id = ?',
      [r.json.id],
    ))!;
    for (const [col, v] of Object.entries(row)) {
      if (v === null) continue;
      expect(FORBIDDEN.test(v), `camera_points.${col}`).toBe(false);
      expect(v.length, `camera_points.${col}`).toBeLessThanOrEqual(64);
    }
    expect((await tech.get(`/cameras/${r.json.id}`)).json.device.manufacturer).toBe(found.manufacturer);
  });

  it('a device row stored raw before the policy is cleaned on confirmation', async () => {
    const again = await scan(tech, device.address);
    // Registered now, so make a second, fresh device and spoil its stored row as an old server would have.
    expect(again.devices[0]!.status).toBe('registered');
    const other = await startFakeDevice({ serial: 'RAW-ROW-1', mac: '44:19:b6:00:00:02' });
    try {
      const fresh = (await scan(tech, other.address)).devices[0]!;
      expect(fresh.status).toBe('new');
      await t.store.run('UPDATE discovered_devices SET manufacturer = ?, model = ? WHERE id = ?', [
        HOSTILE_MANUFACTURER,
        '\u2066model\u2069\u0007',
        fresh.id,
      ]);
      const r = await tech.post(`/discovery/devices/${fresh.id}/confirm`, {
        name: '旧记录设备',
        networkId: 'xueliang',
        orgUnitId: await firstVillage(tech),
        position: { lon: 118.8, lat: 30.95 },
      });
      expect(r.status).toBe(201);
      expect(r.json.device.manufacturer).toMatch(/^Hikvision \[2JM+$/);
      expect(r.json.device.manufacturer.length).toBe(64);
      expect(r.json.device.model).toBe('model');
    } finally {
      await other.close();
    }
  });
});
