/**
 * Issue 11: storm folding is keyed by source, type and place (same camera, or
 * within `alerts.foldDistanceMeters`), stays inside its time window, and
 * never reopens a closed alert: a repeat after closing is a new alert linked
 * to the old one. Time is a fake clock the test moves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertView } from '../../server/src/api/contract.ts';
import { loadConfig } from '../../server/src/config/load.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';
import { centre, deviceKey, ingest, offset, places, type Places } from '../alerts/places.ts';

let now = Date.parse('2025-03-01T08:00:00Z');
const clock = { now: () => new Date(now) };
let t: TestServer;
let p: Places;
let key = '';
let windowSeconds = 0;
let foldMetres = 0;
let township1: ReturnType<typeof client>;
let township2: ReturnType<typeof client>;

beforeAll(async () => {
  t = await startTestServer({ townships: 3, villages: 2, cameras: 0, clock });
  p = places(t);
  key = await deviceKey(t, '县AI分析盒', p.county.id);
  const { alerts } = loadConfig({ profile: 'test', env: {} });
  windowSeconds = alerts.stormWindowSeconds;
  foldMetres = (alerts as { foldDistanceMeters?: number }).foldDistanceMeters ?? NaN;
  township1 = client(t.api, await t.login('township1'));
  township2 = client(t.api, await t.login('township2'));
});

afterAll(async () => {
  await t?.close();
});

/** A fresh stretch of time, so one test's alerts are out of the next one's window. */
const nextHour = () => {
  now += 3_600_000;
};
const at = (pt: [number, number]) => ({ lon: pt[0], lat: pt[1] });

describe('folding is keyed by place', () => {
  it('keeps two townships apart: each sees its own alert', async () => {
    nextHour();
    const chengguan = p.villagesOf(p.townships[0]!)[0]!;
    const donghu = p.villagesOf(p.townships[1]!)[0]!;
    const a = await ingest(t, key, { type: 'intrusion', level: 'orange', position: at(centre(chengguan)) });
    const b = await ingest(t, key, { type: 'intrusion', level: 'orange', position: at(centre(donghu)) });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.json.id).not.toBe(a.json.id);
    expect(a.json.orgUnitId).toBe(chengguan.id);
    expect(b.json.orgUnitId).toBe(donghu.id);
    expect((await township2.get(`/alerts/${b.json.id}`)).json).toMatchObject({ count: 1, orgUnitId: donghu.id });
    expect((await township1.get(`/alerts/${a.json.id}`)).json.count).toBe(1);
  });

  it('keeps two townships apart even a few metres either side of their border', async () => {
    nextHour();
    const box = (u: (typeof p.townships)[number]) => {
      const ring = (u.boundary as { coordinates: number[][][] }).coordinates[0]!;
      const xs = ring.map((c) => c[0]!);
      const ys = ring.map((c) => c[1]!);
      return { minX: Math.min(...xs), maxX: Math.max(...xs), minY: Math.min(...ys), maxY: Math.max(...ys) };
    };
    const [west, east] = [box(p.townships[0]!), box(p.townships[1]!)];
    // The demo county puts 城关镇 and 东湖街道 side by side, west and east.
    expect(west.maxX).toBeCloseTo(east.minX, 9);
    const border: [number, number] = [west.maxX, (Math.max(west.minY, east.minY) + Math.min(west.maxY, east.maxY)) / 2];
    const a = await ingest(t, key, { type: 'fire', level: 'orange', position: at(offset(border, 0, -30)) });
    const b = await ingest(t, key, { type: 'fire', level: 'orange', position: at(offset(border, 0, 30)) });
    expect([a.status, b.status]).toEqual([201, 201]);
    const path = (id: number) => t.server.app.repos.orgs.byId(id)!.path;
    expect(path(a.json.orgUnitId).startsWith(p.townships[0]!.path)).toBe(true);
    expect(path(b.json.orgUnitId).startsWith(p.townships[1]!.path)).toBe(true);
  });

  it('folds repeats within the configured distance, not beyond it', async () => {
    nextHour();
    expect(foldMetres).toBe(200);
    const here = centre(p.villagesOf(p.townships[0]!)[1]!);
    const first = await ingest(t, key, { type: 'fire', level: 'yellow', position: at(here) });
    const near = await ingest(t, key, { type: 'fire', level: 'red', position: at(offset(here, 50, 50)) });
    // 150 m north and 150 m east: 212 m away, just past the distance.
    const far = await ingest(t, key, { type: 'fire', level: 'yellow', position: at(offset(here, 150, 150)) });
    expect(first.status).toBe(201);
    expect(near.status).toBe(200);
    expect(near.json).toMatchObject({ id: first.json.id, count: 2, level: 'red' });
    expect(far.status).toBe(201);
    expect(far.json.id).not.toBe(first.json.id);
  });

  it('folds repeats of one camera', async () => {
    nextHour();
    const v = p.villagesOf(p.townships[0]!)[0]!;
    const admin = client(t.api, await t.login('admin'));
    const cam = await admin.post('/cameras', {
      name: '折叠测试球机',
      networkId: 'tianwang',
      orgUnitId: v.id,
      position: at(centre(v)),
    });
    expect(cam.status).toBe(201);
    const a = await ingest(t, key, { type: 'tamper', level: 'orange', cameraId: cam.json.id });
    const b = await ingest(t, key, { type: 'tamper', level: 'orange', cameraId: cam.json.id });
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(b.json).toMatchObject({ id: a.json.id, count: 2 });
  });
});

describe('folding keeps to its time window', () => {
  it('folds just inside the window and raises a new alert once the clock moves past it', async () => {
    nextHour();
    expect(windowSeconds).toBeGreaterThan(1);
    const here = centre(p.villagesOf(p.townships[2]!)[0]!);
    const body = { type: 'crowd', level: 'blue', position: at(here) };
    const first = await ingest(t, key, body);
    now += (windowSeconds - 1) * 1000;
    const inside = await ingest(t, key, body);
    expect(inside.status).toBe(200);
    expect(inside.json.id).toBe(first.json.id);
    // The window runs from the last report: move past it.
    now += (windowSeconds + 1) * 1000;
    const after = await ingest(t, key, body);
    expect(after.status).toBe(201);
    expect(after.json.id).not.toBe(first.json.id);
    expect(after.json.count).toBe(1);
    expect((await township1.get('/alerts?since=0&limit=1000')).status).toBe(200);
  });
});

describe('an acknowledged alert is still open', () => {
  it('folds a repeat into it (count + 1, still acknowledged), not into a new alert', async () => {
    nextHour();
    const here = centre(p.villagesOf(p.townships[1]!)[1]!);
    const body = { type: 'crowd', level: 'yellow', position: at(here) };
    const first = await ingest(t, key, body);
    expect(first.status).toBe(201);
    expect((await township2.post(`/alerts/${first.json.id}/ack`, { note: '已查看' })).status).toBe(200);
    now += 10_000;
    const again = await ingest(t, key, body);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ id: first.json.id, count: 2, status: 'acknowledged' });
  });
});

describe('a closed alert is never reopened by a repeat', () => {
  it('raises a new alert linked to the closed one, and leaves the closed one closed', async () => {
    nextHour();
    const here = centre(p.villagesOf(p.townships[0]!)[1]!);
    const body = { type: 'alarm_button', level: 'red', position: at(here) };
    const first = await ingest(t, key, body);
    expect((await township1.post(`/alerts/${first.json.id}/close`, { note: '已处置' })).status).toBe(200);
    now += 10_000;
    const again = await ingest(t, key, body);
    expect(again.status).toBe(201);
    expect(again.json.id).not.toBe(first.json.id);
    expect(again.json.previousAlertId).toBe(first.json.id);
    const view = (await township1.get(`/alerts/${again.json.id}`)).json as AlertView;
    expect(view.previousAlertId).toBe(first.json.id);
    const old = (await township1.get(`/alerts/${first.json.id}`)).json as AlertView & { history: { action: string }[] };
    expect(old.status).toBe('closed');
    expect(old.count).toBe(1);
    expect(old.history.map((h) => h.action)).not.toContain('reopened');
    // The next repeat folds into the new, open alert.
    const third = await ingest(t, key, body);
    expect(third.status).toBe(200);
    expect(third.json).toMatchObject({ id: again.json.id, count: 2 });
  });

  it('a camera that goes offline again after coming back gets a new alert linked to the closed one', async () => {
    nextHour();
    const v = p.villagesOf(p.townships[0]!)[0]!;
    const tech1 = client(t.api, await t.login('tech1'));
    const cam = await tech1.post('/cameras', {
      name: '离线重开测试',
      networkId: 'xueliang',
      orgUnitId: v.id,
      position: at(offset(centre(v), 300, 300)),
    });
    expect(cam.status).toBe(201);
    const id = cam.json.id as number;
    const status = (from: 'online' | 'offline', to: 'online' | 'offline') =>
      t.server.app.bus.emit('camera.status', {
        id,
        orgPath: v.path,
        from,
        to,
        reason: to === 'offline' ? 'RTSP timeout' : null,
        at: clock.now().toISOString(),
        lastSeenAt: null,
      });
    status('online', 'offline');
    status('offline', 'online');
    now += 5_000;
    status('online', 'offline');
    // The alerts module handles a point's status changes in order, after the event (on the store's time).
    await t.server.app.alerts.settled();
    const items = (await township1.get('/alerts?since=0&limit=1000')).json.items as AlertView[];
    const latest = new Map<number, AlertView>();
    for (const a of items) if (a.type === 'camera_offline' && a.cameraId === id) latest.set(a.id, a);
    const mine = [...latest.values()].sort((a, b) => a.id - b.id);
    expect(mine.map((a) => a.status)).toEqual(['closed', 'new']);
    expect(mine[1]!.previousAlertId).toBe(mine[0]!.id);
    expect(mine.map((a) => a.count)).toEqual([1, 1]);
  });
});
