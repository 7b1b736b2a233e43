/**
 * Issue 11: a device key raises alerts only inside its own jurisdiction, and
 * positions are checked as strictly on ingestion as on point registration.
 * Refusals store nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertView } from '../../server/src/api/contract.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';
import { alertCount, centre, deviceKey, fieldPaths, ingest, places, type Places } from '../alerts/places.ts';

let t: TestServer;
let p: Places;
const keys = { county: '', chengguan: '', village: '' };

beforeAll(async () => {
  t = await startTestServer({ townships: 3, villages: 2, cameras: 0 });
  p = places(t);
  keys.county = await deviceKey(t, '县AI分析盒', p.county.id);
  keys.chengguan = await deviceKey(t, '城关镇AI分析盒', p.townships[0]!.id);
  keys.village = await deviceKey(t, '村一键报警柱', p.villagesOf(p.townships[0]!)[0]!.id);
});

afterAll(async () => {
  await t?.close();
});

describe('a device key raises alerts only in its own jurisdiction', () => {
  it('refuses a position in another township with 403 naming position, and stores nothing', async () => {
    const donghu = p.villagesOf(p.townships[1]!)[0]!;
    const [lon, lat] = centre(donghu);
    const before = await alertCount(t);
    const r = await ingest(t, keys.chengguan, { type: 'fire', level: 'red', position: { lon, lat } });
    expect(r.status).toBe(403);
    expect(fieldPaths(r)).toEqual(['position']);
    expect(await alertCount(t)).toBe(before);
    const township2 = client(t.api, await t.login('township2'));
    expect((await township2.get('/alerts?since=0&limit=1000')).json.items).toEqual([]);
  });

  it('refuses a sibling village for a village key', async () => {
    const [, sibling] = p.villagesOf(p.townships[0]!);
    const [lon, lat] = centre(sibling!);
    const r = await ingest(t, keys.village, { type: 'alarm_button', level: 'red', position: { lon, lat } });
    expect(r.status).toBe(403);
    expect(fieldPaths(r)).toEqual(['position']);
  });

  it('refuses a camera of another township with 403 naming cameraId, like a camera that does not exist', async () => {
    const admin = client(t.api, await t.login('admin'));
    const donghu = p.villagesOf(p.townships[1]!)[0]!;
    const [lon, lat] = centre(donghu);
    const cam = await admin.post('/cameras', {
      name: '东湖路口',
      networkId: 'tianwang',
      orgUnitId: donghu.id,
      position: { lon, lat },
    });
    expect(cam.status).toBe(201);
    const before = await alertCount(t);
    const elsewhere = await ingest(t, keys.chengguan, { type: 'tamper', level: 'orange', cameraId: cam.json.id });
    const missing = await ingest(t, keys.chengguan, { type: 'tamper', level: 'orange', cameraId: 999_999 });
    expect(elsewhere.status).toBe(403);
    expect(fieldPaths(elsewhere)).toEqual(['cameraId']);
    expect({ status: missing.status, json: missing.json }).toEqual({ status: elsewhere.status, json: elsewhere.json });
    expect(await alertCount(t)).toBe(before);
  });

  it('refuses an own camera with a position placed in another township', async () => {
    const admin = client(t.api, await t.login('admin'));
    const own = p.villagesOf(p.townships[0]!)[0]!;
    const cam = await admin.post('/cameras', {
      name: '城关路口',
      networkId: 'tianwang',
      orgUnitId: own.id,
      position: { lon: centre(own)[0], lat: centre(own)[1] },
    });
    expect(cam.status).toBe(201);
    const [lon, lat] = centre(p.villagesOf(p.townships[1]!)[0]!);
    const r = await ingest(t, keys.chengguan, {
      type: 'intrusion',
      level: 'orange',
      cameraId: cam.json.id,
      position: { lon, lat },
    });
    expect(r.status).toBe(403);
    expect(fieldPaths(r)).toEqual(['position']);
  });

  it('accepts places inside the jurisdiction, and the county key anywhere in the county', async () => {
    const own = p.villagesOf(p.townships[0]!)[1]!;
    const mine = await ingest(t, keys.chengguan, {
      type: 'crowd',
      level: 'yellow',
      position: { lon: centre(own)[0], lat: centre(own)[1] },
    });
    expect(mine.status).toBe(201);
    expect(mine.json.orgUnitId).toBe(own.id);
    const township1 = client(t.api, await t.login('township1'));
    expect((await township1.get(`/alerts/${mine.json.id}`)).status).toBe(200);
    const donghu = p.villagesOf(p.townships[1]!)[1]!;
    const county = await ingest(t, keys.county, {
      type: 'crowd',
      level: 'yellow',
      position: { lon: centre(donghu)[0], lat: centre(donghu)[1] },
    });
    expect(county.status).toBe(201);
    expect(county.json.orgUnitId).toBe(donghu.id);
  });
});

describe('positions are checked as strictly as point registration', () => {
  it.each([
    ['the null position 0,0 (a device without a fix)', { lon: 0, lat: 0 }],
    ['0,0 labelled GCJ-02', { lon: 0, lat: 0, system: 'gcj02' }],
    ['BD-09 -180,-90 (out of range once converted)', { lon: -180, lat: -90, system: 'bd09' }],
  ])('refuses %s with 400 naming position, on ingestion and on a manual report', async (_what, position) => {
    const before = await alertCount(t);
    const r = await ingest(t, keys.county, { type: 'fire', level: 'red', position });
    expect(r.status).toBe(400);
    expect(fieldPaths(r)).toContain('position');
    const county = client(t.api, await t.login('county'));
    const report = await county.post('/alerts', { level: 'red', title: '上报', position });
    expect(report.status).toBe(400);
    expect(report.json.error.fields.map((f: { path: string }) => f.path)).toContain('position');
    expect(await alertCount(t)).toBe(before);
  });

  it('still takes BD-09 and GCJ-02 positions inside the county', async () => {
    const v = p.villagesOf(p.townships[2]!)[0]!;
    const [lon, lat] = centre(v);
    const r = await ingest(t, keys.county, { type: 'other', level: 'blue', position: { lon, lat, system: 'gcj02' } });
    expect(r.status).toBe(201);
    expect((r.json as AlertView).coordSource).toBe('gcj02');
  });
});
