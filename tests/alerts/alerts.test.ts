/**
 * Geotagged alerts over real HTTP and Socket.IO: device keys, validation,
 * coordinate conversion, org unit by boundary, storm folding, linkage,
 * jurisdiction-scoped push, replay after a disconnect, actions, and camera
 * offline turned into an alert.
 */
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertView, ClientToServerEvents, ServerToClientEvents } from '../../server/src/api/contract.ts';
import { wgs84ToGcj02 } from '../../server/src/geo/coords.ts';
import type { OrgUnit } from '../../server/src/org/repo.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

type Sock = Socket<ServerToClientEvents, ClientToServerEvents>;
type Heard = { kind: 'new' | 'updated'; alert: AlertView }[];

let t: TestServer;
let admin: ReturnType<typeof client>;
let township1: ReturnType<typeof client>;
let township2: ReturnType<typeof client>;
let tech1: ReturnType<typeof client>;
let townships: OrgUnit[] = [];
const villagesOf = new Map<number, OrgUnit[]>();
const keys = { county: '', t1: '', limited: '' };
const heard: Record<'t1' | 't2' | 'county', Heard> = { t1: [], t2: [], county: [] };
const sockets: Record<string, Sock> = {};

/** Centre of a village's box boundary. */
const centre = (u: OrgUnit): [number, number] => {
  const ring = (u.boundary as { coordinates: number[][][] }).coordinates[0]!;
  const [x0, y0] = ring[0]!;
  const [x1, y1] = ring[2]!;
  return [(x0! + x1!) / 2, (y0! + y1!) / 2];
};
/** A point `north`/`east` metres away. */
const offset = (p: [number, number], north: number, east: number): [number, number] => [
  p[0] + east / (111_320 * Math.cos((p[1] * Math.PI) / 180)),
  p[1] + north / 111_320,
];

const ingest = (key: string | null, body: unknown) =>
  fetch(`${t.api}/alerts/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { 'x-device-key': key }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const ingestJson = async (key: string, body: unknown) => {
  const res = await ingest(key, body);
  return { status: res.status, json: (await res.json()) as AlertView & { error?: { fields?: { path: string }[] } } };
};

async function connect(name: keyof typeof heard, user: string): Promise<Sock> {
  const s: Sock = io(t.url, { auth: { token: await t.login(user) }, transports: ['websocket'] });
  s.on('alert:new', (alert) => heard[name].push({ kind: 'new', alert }));
  s.on('alert:updated', (alert) => heard[name].push({ kind: 'updated', alert }));
  await new Promise((r) => s.once('connect', () => r(null)));
  sockets[name] = s;
  return s;
}
/** A round trip on every socket: whatever was sent before has arrived. */
const settle = () =>
  Promise.all(
    Object.values(sockets).map((s) => (s.connected ? new Promise((r) => s.emit('session:whoami', r)) : null)),
  );

beforeAll(async () => {
  t = await startTestServer({ townships: 3, villages: 2, cameras: 0 });
  admin = client(t.api, await t.login('admin'));
  township1 = client(t.api, await t.login('township1'));
  township2 = client(t.api, await t.login('township2'));
  tech1 = client(t.api, await t.login('tech1'));
  const all = t.server.app.repos.orgs.all();
  townships = all.filter((u) => u.level === 'township').sort((a, b) => a.id - b.id);
  for (const tw of townships)
    villagesOf.set(
      tw.id,
      all.filter((u) => u.parentId === tw.id && u.level === 'village'),
    );
  const county = all.find((u) => u.parentId === null)!;
  const mk = async (name: string, orgUnitId: number, rateLimitPerMinute?: number) => {
    const r = await admin.post('/alert-sources', {
      name,
      orgUnitId,
      ...(rateLimitPerMinute ? { rateLimitPerMinute } : {}),
    });
    expect(r.status).toBe(201);
    expect(r.json.key).toEqual(expect.any(String));
    return r.json.key as string;
  };
  keys.county = await mk('县AI分析盒', county.id, 10_000);
  keys.t1 = await mk('城关小学一键报警柱', townships[0]!.id);
  keys.limited = await mk('限流测试', county.id, 3);
  await connect('t1', 'township1');
  await connect('t2', 'township2');
  await connect('county', 'county');
}, 60_000);

afterAll(async () => {
  for (const s of Object.values(sockets)) s.close();
  await t?.close();
});

describe('device keys and input', () => {
  it('stores only the key hash and never lists the key', async () => {
    const list = await admin.get('/alert-sources');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.json)).not.toContain(keys.county);
    const hashes = await t.store.all<{ key_hash: string }>('SELECT key_hash FROM alert_sources');
    expect(hashes.every((h) => /^[0-9a-f]{64}$/.test(h.key_hash))).toBe(true);
    expect((await township1.post('/alert-sources', { name: 'x', orgUnitId: townships[0]!.id })).status).toBe(403);
  });

  it('answers 401 without a key and with a wrong one', async () => {
    const body = { type: 'alarm_button', level: 'red', position: { lon: 118.8, lat: 30.95 } };
    expect((await ingest(null, body)).status).toBe(401);
    expect((await ingest('not-a-key', body)).status).toBe(401);
  });

  it('answers 429 with Retry-After past the per-source rate limit', async () => {
    const body = { type: 'motion', level: 'blue', position: { lon: 118.8, lat: 30.95 } };
    for (let i = 0; i < 3; i++) expect((await ingest(keys.limited, body)).status).toBeLessThan(300);
    const res = await ingest(keys.limited, body);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('rejects bad input with 400 naming each field', async () => {
    const r = await ingestJson(keys.county, {
      type: 'bogus',
      level: 'purple',
      position: { lon: 200, lat: 0, system: 'mars' },
      extra: 1,
    });
    expect(r.status).toBe(400);
    const paths = r.json.error!.fields!.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['type', 'level', 'position.lon', 'position.system', 'extra']));
    const nowhere = await ingestJson(keys.county, { type: 'fire', level: 'red' });
    expect(nowhere.status).toBe(400);
    expect(nowhere.json.error!.fields!.map((f) => f.path)).toContain('position');
    const big = await ingest(keys.county, { type: 'fire', level: 'red', description: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
  });

  it('refuses a camera outside the source jurisdiction with 403', async () => {
    const v2 = villagesOf.get(townships[1]!.id)![0]!;
    const [lon, lat] = centre(v2);
    const cam = await admin.post('/cameras', {
      name: '东湖路口',
      networkId: 'tianwang',
      orgUnitId: v2.id,
      position: { lon, lat },
    });
    expect(cam.status).toBe(201);
    const r = await ingestJson(keys.t1, { type: 'tamper', level: 'orange', cameraId: cam.json.id });
    expect(r.status).toBe(403);
    expect(r.json.error!.fields!.map((f) => f.path)).toEqual(['cameraId']);
  });
});

describe('place', () => {
  it('converts GCJ-02 to WGS-84 and finds the village by its boundary', async () => {
    const v = villagesOf.get(townships[1]!.id)![1]!;
    const p = centre(v);
    const [glon, glat] = wgs84ToGcj02(p[0], p[1]);
    const r = await ingestJson(keys.county, {
      type: 'fire',
      level: 'orange',
      position: { lon: glon, lat: glat, system: 'gcj02' },
    });
    expect(r.status).toBe(201);
    expect(r.json.position.lon).toBeCloseTo(p[0], 5);
    expect(r.json.position.lat).toBeCloseTo(p[1], 5);
    expect(r.json.coordSource).toBe('gcj02');
    expect(r.json.orgUnitId).toBe(v.id);
  });

  it('falls back to the nearest village outside every boundary', async () => {
    const v = villagesOf.get(townships[0]!.id)![0]!;
    const county = t.server.app.repos.orgs.all().find((u) => u.parentId === null)!;
    const ring = (county.boundary as { coordinates: number[][][] }).coordinates[0]!;
    const minLon = Math.min(...ring.map((c) => c[0]!));
    const [, lat] = centre(v);
    const r = await ingestJson(keys.county, { type: 'crowd', level: 'blue', position: { lon: minLon - 0.05, lat } });
    expect(r.status).toBe(201);
    expect(t.server.app.repos.orgs.byId(r.json.orgUnitId)!.level).toBe('village');
  });
});

describe('storm control and push', () => {
  it('pushes an alert to its township and the county only', async () => {
    const v = villagesOf.get(townships[0]!.id)![0]!;
    const r = await ingestJson(keys.t1, {
      type: 'alarm_button',
      level: 'red',
      position: { lon: centre(v)[0], lat: centre(v)[1] },
    });
    expect(r.status).toBe(201);
    await settle();
    const id = r.json.id;
    expect(heard.t1.filter((h) => h.alert.id === id).map((h) => h.kind)).toEqual(['new']);
    expect(heard.county.filter((h) => h.alert.id === id).map((h) => h.kind)).toEqual(['new']);
    expect(heard.t2.filter((h) => h.alert.id === id)).toEqual([]);
    // Township 2 hears only alerts of its own township.
    for (const h of heard.t2) expect(h.alert.orgUnitId).not.toBe(v.id);
  });

  it('folds 100 repeats of one source and type into one alert with a count', async () => {
    const v = villagesOf.get(townships[0]!.id)![1]!;
    const body = { type: 'intrusion', level: 'yellow', position: { lon: centre(v)[0], lat: centre(v)[1] } };
    const ids = new Set<number>();
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await ingestJson(keys.county, body);
      statuses.push(r.status);
      ids.add(r.json.id);
    }
    expect(ids.size).toBe(1);
    expect(statuses.filter((s) => s === 201).length).toBe(1);
    const [id] = [...ids];
    const one = await township1.get(`/alerts/${id}`);
    expect(one.json.count).toBe(100);
    await settle();
    const mine = heard.t1.filter((h) => h.alert.id === id);
    expect(mine.filter((h) => h.kind === 'new').length).toBe(1);
    expect(mine.filter((h) => h.kind === 'updated').length).toBe(99);
    expect(mine[mine.length - 1]!.alert.count).toBe(100);
  });

  it('lets a reconnecting client replay what it missed from a cursor', async () => {
    await settle();
    const cursor = Math.max(0, ...heard.t1.map((h) => h.alert.seq));
    sockets.t1!.disconnect();
    const v = villagesOf.get(townships[0]!.id)![0]!;
    const missed = await ingestJson(keys.t1, {
      type: 'fire',
      level: 'red',
      position: { lon: centre(v)[0], lat: centre(v)[1] },
    });
    expect(missed.status).toBe(201);
    sockets.t1!.connect();
    await new Promise((r) => sockets.t1!.once('connect', () => r(null)));
    const page = await township1.get(`/alerts?since=${cursor}`);
    expect(page.status).toBe(200);
    expect((page.json.items as AlertView[]).map((a) => a.id)).toContain(missed.json.id);
    const other = await township2.get('/alerts?since=0&limit=1000');
    expect((other.json.items as AlertView[]).map((a) => a.id)).not.toContain(missed.json.id);
    // Cursor pagination walks everything exactly once.
    const seen: number[] = [];
    let since = 0;
    for (;;) {
      const p = await township1.get(`/alerts?since=${since}&limit=2`);
      seen.push(...(p.json.items as AlertView[]).map((a) => a.id));
      if (!p.json.nextCursor) break;
      since = Number(p.json.nextCursor);
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toContain(missed.json.id);
  });
});

describe('linkage', () => {
  it('links covering cameras first, then omnidirectional ones, nearest first, within the radius', async () => {
    const v = villagesOf.get(townships[0]!.id)![1]!;
    const p = offset(centre(v), 2000, 0);
    const cam = async (name: string, at: [number, number], extra: Record<string, unknown>) => {
      const r = await tech1.post('/cameras', {
        name,
        networkId: 'xueliang',
        orgUnitId: v.id,
        position: { lon: at[0], lat: at[1] },
        ...extra,
      });
      expect(r.status, r.text).toBe(201);
      return r.json.id as number;
    };
    const looksAtIt = await cam('北侧朝南', offset(p, 100, 0), { direction: 180, fov: 60 });
    const looksAway = await cam('东侧朝东', offset(p, 0, 50), { direction: 90, fov: 60 });
    const omniFar = await cam('西侧无朝向', offset(p, 0, -200), {});
    const ptz = await cam('南侧球机', offset(p, -250, 0), { direction: 0, ptz: true });
    const omniNear = await cam('北侧无朝向', offset(p, 30, 0), {});
    const tooFar = await cam('远处朝南', offset(p, 400, 0), { direction: 180, fov: 60 });
    const r = await ingestJson(keys.t1, { type: 'line_crossing', level: 'red', position: { lon: p[0], lat: p[1] } });
    expect(r.status).toBe(201);
    expect(r.json.linkedCameraIds).toEqual([looksAtIt, ptz, omniNear, omniFar]);
    expect(r.json.linkedCameraIds).not.toContain(looksAway);
    expect(r.json.linkedCameraIds).not.toContain(tooFar);
  });
});

describe('actions', () => {
  it('acknowledges, marks false alarm, refuses invalid transitions, keeps history', async () => {
    const v = villagesOf.get(townships[0]!.id)![0]!;
    const a = await ingestJson(keys.t1, {
      type: 'crowd',
      level: 'orange',
      position: { lon: centre(v)[0], lat: centre(v)[1] },
    });
    const id = a.json.id;
    expect((await township1.post(`/alerts/${id}/ack`, { note: '已查看' })).status).toBe(200);
    expect((await township1.post(`/alerts/${id}/ack`, {})).status).toBe(409);
    const fa = await township1.post(`/alerts/${id}/false-alarm`, { note: '误报：树影' });
    expect(fa.status).toBe(200);
    expect(fa.json.status).toBe('false_alarm');
    expect((await township1.post(`/alerts/${id}/close`)).status).toBe(409);
    expect((await township1.post(`/alerts/${id}/ack`, { bogus: 1 })).status).toBe(400);
    const detail = await township1.get(`/alerts/${id}`);
    expect(detail.json.history.map((h: { action: string; note: string | null }) => [h.action, h.note])).toEqual([
      ['created', null],
      ['acknowledged', '已查看'],
      ['false_alarm', '误报：树影'],
    ]);
    const audit = await t.store.all<{ action: string; outcome: string }>(
      "SELECT action, outcome FROM audit_log WHERE action LIKE 'alert.%' AND target_id = ?",
      [String(id)],
    );
    expect(audit.map((e) => `${e.action}:${e.outcome}`)).toEqual(
      expect.arrayContaining(['alert.ack:ok', 'alert.ack:failed', 'alert.false-alarm:ok']),
    );
  });

  it('answers 404 outside the jurisdiction', async () => {
    const v = villagesOf.get(townships[0]!.id)![0]!;
    const a = await ingestJson(keys.t1, {
      type: 'tamper',
      level: 'blue',
      position: { lon: centre(v)[0], lat: centre(v)[1] },
    });
    expect((await township2.get(`/alerts/${a.json.id}`)).status).toBe(404);
    expect((await township2.post(`/alerts/${a.json.id}/ack`, {})).status).toBe(404);
    expect((await township1.get(`/alerts/${a.json.id}`)).status).toBe(200);
  });

  it('takes manual reports only inside the officer jurisdiction', async () => {
    const own = villagesOf.get(townships[0]!.id)![0]!;
    const other = villagesOf.get(townships[1]!.id)![0]!;
    const ok = await township1.post('/alerts', {
      level: 'yellow',
      title: '网格员上报：道路积水',
      position: { lon: centre(own)[0], lat: centre(own)[1] },
    });
    expect(ok.status).toBe(201);
    expect(ok.json.source.kind).toBe('manual');
    expect(ok.json.orgUnitId).toBe(own.id);
    const bad = await township1.post('/alerts', {
      level: 'yellow',
      title: '越界上报',
      position: { lon: centre(other)[0], lat: centre(other)[1] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields[0].path).toBe('position');
    expect((await client(t.api, await t.login('viewer')).post('/alerts', { level: 'red', title: 'x' })).status).toBe(
      403,
    );
  });
});

describe('camera offline', () => {
  // A closed alert is never reopened (issue 11): each outage after the camera came back is a new
  // alert naming the one before.
  it('raises one alert per outage of a flapping camera, each linked to the last, and closes it when the camera is back', async () => {
    const v = villagesOf.get(townships[0]!.id)![0]!;
    const cam = await tech1.post('/cameras', {
      name: '健康离线测试',
      networkId: 'xueliang',
      orgUnitId: v.id,
      position: { lon: centre(v)[0], lat: centre(v)[1] },
    });
    const id = cam.json.id as number;
    const status = (from: 'online' | 'offline', to: 'online' | 'offline') =>
      t.server.app.bus.emit('camera.status', {
        id,
        orgPath: v.path,
        from,
        to,
        reason: to === 'offline' ? 'RTSP timeout' : null,
        at: new Date().toISOString(),
        lastSeenAt: null,
      });
    for (let i = 0; i < 3; i++) {
      status('online', 'offline');
      status('offline', 'online');
    }
    status('online', 'offline');
    // The alerts module handles a point's status changes in order, after the event (on the store's time).
    await t.server.app.alerts.settled();
    const page = await township1.get('/alerts?since=0&limit=1000');
    const mine = (page.json.items as AlertView[]).filter((a) => a.type === 'camera_offline' && a.cameraId === id);
    expect(mine.map((a) => a.status)).toEqual(['closed', 'closed', 'closed', 'new']);
    expect(mine.map((a) => a.count)).toEqual([1, 1, 1, 1]);
    expect(mine.map((a) => a.previousAlertId)).toEqual([undefined, ...mine.slice(0, 3).map((a) => a.id)]);
    expect(mine[3]!.level).toBe('yellow');
    status('offline', 'online');
    await t.server.app.alerts.settled();
    expect((await township1.get(`/alerts/${mine[3]!.id}`)).json.status).toBe('closed');
    await settle();
    expect(heard.t1.filter((h) => h.alert.cameraId === id && h.kind === 'new').length).toBe(4);
    expect(heard.t2.filter((h) => h.alert.cameraId === id)).toEqual([]);
  });
});
