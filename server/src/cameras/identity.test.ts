/**
 * Device identity (issue 12, item 3) in the camera repository: a registered point is the same device as one a
 * scan found by the WS-Discovery endpoint reference first, then the MAC, then the serial together with make
 * and model; a serial alone never makes two devices one, and a placeholder serial (00000000 and the like)
 * never does at all. tests/field/discovery.test.ts covers twins that differ by MAC against the simulator.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_NETWORKS, createNetworkRepo } from './networks.ts';
import { createCameraRepo, isPlaceholderSerial, type CameraRepo, type DeviceIdentity } from './repo.ts';
import { migrate } from '../db/migrations.ts';
import { openSqlite } from '../db/sqlite.ts';
import { sqliteStore } from '../db/store.ts';
import { demoCameraFields, seedOrgTree } from '../demo/seed.ts';
import { createOrgRepo } from '../org/repo.ts';
import { WHOLE_REGISTRY } from '../org/scope.ts';

const HIK = { manufacturer: 'Hikvision', model: 'DS-2CD2T47G2-L' };

describe('isPlaceholderSerial', () => {
  it.each([
    '00000000',
    '0000000000000000',
    '0',
    '',
    '   ',
    'FFFFFFFF',
    'aaaa',
    '123',
    '123456789',
    '1234567890',
    '0123456789',
    'unknown',
    'UNKNOWN',
    'N/A',
    'na',
    'none',
    'null',
    'default',
    'SerialNumber',
    'serial',
    'SN',
    'xxxx',
    ' 00000000 ',
  ])('%j names no device', (s) => {
    expect(isPlaceholderSerial(s)).toBe(true);
  });

  it.each(['DS-2CD2T47G2-L20231010AACHE12345678', 'F12345678', '4L0A1B2C', '00000001', 'AB12'])(
    '%j is a serial',
    (s) => {
      expect(isPlaceholderSerial(s)).toBe(false);
    },
  );
});

describe('findSameDevice', () => {
  let cameras: CameraRepo;
  /** Ids of six registered points, each at its own ONVIF address (documentation addresses: no network here). */
  let ids: number[];
  const onvifOf = (i: number) => `http://192.0.2.${i + 1}:8000/onvif/device_service`;
  /** A device a scan found at an address no point has. */
  const found = (d: Partial<DeviceIdentity> & { onvifUrl?: string }) => ({
    endpoint: null,
    serial: null,
    mac: null,
    manufacturer: null,
    model: null,
    onvifUrl: 'http://192.0.2.200:80/onvif/device_service',
    ...d,
  });
  const register = (i: number, d: Partial<DeviceIdentity>) =>
    cameras.setDevice(ids[i]!, { manufacturer: null, model: null, serial: null, mac: null, endpoint: null, ...d });

  beforeEach(async () => {
    const db = openSqlite(':memory:');
    const now = () => new Date();
    migrate(db, now);
    const store = sqliteStore(db);
    const orgs = createOrgRepo(store, now);
    await orgs.load();
    await createNetworkRepo(store).sync([...BUILTIN_NETWORKS]);
    cameras = createCameraRepo(store, now);
    const { villages } = await seedOrgTree(orgs, {
      seed: 1,
      townships: 1,
      villagesPerTownship: 1,
      cameras: 0,
      center: [118.8, 30.95],
    });
    await cameras.insertMany(demoCameraFields(villages, 6, 1, null, 0, (i) => `192.0.2.${i + 1}`));
    ids = (await cameras.search(WHOLE_REGISTRY, {}, 0, 10)).rows.map((c) => c.id);
    expect(ids).toHaveLength(6);
    expect((await cameras.byId(WHOLE_REGISTRY, ids[0]!))!.onvifUrl).toBe(onvifOf(0));
  });

  describe('placeholder serials', () => {
    it('a real serial with the same make and model is the same device (the rule the placeholder is kept from)', async () => {
      await register(0, { ...HIK, serial: 'DS-2CD2T47G2-L20231010AACHE12345678' });
      expect(await cameras.findSameDevice(found({ ...HIK, serial: 'DS-2CD2T47G2-L20231010AACHE12345678' }))).toBe(
        ids[0],
      );
    });

    it.each(['00000000', '0000000000', 'unknown', 'N/A', '123456789', 'FFFFFFFF'])(
      'two devices reporting %j with the same make and model are two devices',
      async (serial) => {
        await register(0, { ...HIK, serial });
        await register(1, { ...HIK, serial });
        expect(await cameras.findSameDevice(found({ ...HIK, serial }))).toBeUndefined();
      },
    );

    it('a placeholder serial does not stop the MAC or the endpoint reference from telling the device', async () => {
      await register(0, { ...HIK, serial: '00000000', mac: 'a4:14:37:00:00:01' });
      await register(1, { ...HIK, serial: '00000000', endpoint: 'urn:uuid:11111111-2222-4333-a444-555555555555' });
      expect(await cameras.findSameDevice(found({ ...HIK, serial: '00000000', mac: 'a4:14:37:00:00:01' }))).toBe(
        ids[0],
      );
      expect(
        await cameras.findSameDevice(
          found({ ...HIK, serial: '00000000', endpoint: 'urn:uuid:11111111-2222-4333-a444-555555555555' }),
        ),
      ).toBe(ids[1]);
    });
  });

  describe('a serial alone', () => {
    it('never makes two devices one: another model, another make, or no make and model at all', async () => {
      await register(0, { ...HIK, serial: 'F12345678' });
      expect(
        await cameras.findSameDevice(found({ ...HIK, model: 'DS-2DE4425IW-DE', serial: 'F12345678' })),
      ).toBeUndefined();
      expect(
        await cameras.findSameDevice(found({ ...HIK, manufacturer: 'Dahua', serial: 'F12345678' })),
      ).toBeUndefined();
      expect(await cameras.findSameDevice(found({ serial: 'F12345678' }))).toBeUndefined();
    });

    it('with make and model, not when both devices have known MACs that differ', async () => {
      await register(0, { ...HIK, serial: 'F12345678', mac: 'a4:14:37:00:00:01' });
      expect(
        await cameras.findSameDevice(found({ ...HIK, serial: 'F12345678', mac: 'a4:14:37:00:00:02' })),
      ).toBeUndefined();
    });
  });

  describe('the endpoint reference comes first, then the MAC, then the serial with make and model', () => {
    const A = 'urn:uuid:aaaaaaaa-0000-4000-a000-000000000001';
    const B = 'urn:uuid:bbbbbbbb-0000-4000-a000-000000000002';
    const MAC_ONLY = 'a4:14:37:00:00:03';
    const SERIAL_ONLY = 'F10000004';
    beforeEach(async () => {
      await register(0, { ...HIK, serial: 'F10000001', mac: 'a4:14:37:00:00:01', endpoint: A });
      await register(1, { ...HIK, serial: 'F10000002', mac: 'a4:14:37:00:00:02', endpoint: B });
      // Points whose devices were known by less: a MAC only, a serial with make and model only, nothing (5).
      await register(2, { mac: MAC_ONLY });
      await register(3, { ...HIK, serial: SERIAL_ONLY });
    });

    it('the endpoint reference over the MAC, the serial and the address that another point matches', async () => {
      expect(
        await cameras.findSameDevice(
          found({ ...HIK, endpoint: B, mac: MAC_ONLY, serial: SERIAL_ONLY, onvifUrl: onvifOf(5) }),
        ),
      ).toBe(ids[1]);
    });

    it("the endpoint reference over another registered device's MAC and serial", async () => {
      expect(
        await cameras.findSameDevice(found({ ...HIK, endpoint: B, mac: 'a4:14:37:00:00:01', serial: 'F10000001' })),
      ).toBe(ids[1]);
    });

    it('without an endpoint reference, the MAC over the serial and the address', async () => {
      expect(
        await cameras.findSameDevice(found({ ...HIK, mac: MAC_ONLY, serial: SERIAL_ONLY, onvifUrl: onvifOf(5) })),
      ).toBe(ids[2]);
      expect(await cameras.findSameDevice(found({ ...HIK, mac: 'a4:14:37:00:00:02', serial: 'F10000001' }))).toBe(
        ids[1],
      );
    });

    it('without endpoint or MAC, the serial with make and model over the address', async () => {
      expect(await cameras.findSameDevice(found({ ...HIK, serial: SERIAL_ONLY, onvifUrl: onvifOf(5) }))).toBe(ids[3]);
      expect(await cameras.findSameDevice(found({ onvifUrl: onvifOf(5) }))).toBe(ids[5]);
    });

    it("a known endpoint reference that differs is another device, even with A's MAC, serial and address", async () => {
      const C = 'urn:uuid:cccccccc-0000-4000-a000-000000000003';
      expect(await cameras.findSameDevice(found({ endpoint: C, mac: 'a4:14:37:00:00:01' }))).toBeUndefined();
      expect(await cameras.findSameDevice(found({ ...HIK, endpoint: C, serial: 'F10000001' }))).toBeUndefined();
      expect(await cameras.findSameDevice(found({ endpoint: C, onvifUrl: onvifOf(0) }))).toBeUndefined();
    });
  });
});
