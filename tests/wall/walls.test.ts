/**
 * Wall screens over real HTTP: create, read, save layouts with optimistic
 * versions, strict validation naming each field, jurisdiction (a township
 * sees only its own screens, the county may look at a township's), the
 * compact point list, the 'wall:updated' push, and kiosk tokens that can only
 * look.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WallLayout, WallScreenView } from '../../server/src/api/contract.ts';
import { client, listenAs, settle, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let townships: { id: number; code: string }[] = [];
/** One camera id per township index. */
const cameraIn: number[] = [];
const as = async (u: string) => client(t.api, await t.login(u));

beforeAll(async () => {
  t = await startTestServer({ townships: 3, villages: 2, cameras: 60 });
  const admin = await as('admin');
  const orgs = (await admin.get('/org-units')).json as { id: number; code: string; level: string; parentId: number }[];
  townships = orgs.filter((o) => o.level === 'township').sort((a, b) => a.code.localeCompare(b.code));
  for (const tw of townships.slice(0, 2)) {
    const village = orgs.find((o) => o.parentId === tw.id)!.id;
    cameraIn.push((await admin.get(`/cameras?org=${village}&limit=1`)).json.items[0].id);
  }
});
afterAll(async () => t?.close());

const four = (tiles: (number | null)[]): WallLayout => ({ grid: '4', tiles, tour: null });

describe('wall screens', () => {
  it('creates, reads, saves a layout with its version and deletes', async () => {
    const county = await as('county');
    const created = await county.post('/walls', { name: '主屏一' });
    expect(created.status, created.text).toBe(201);
    const screen = created.json as WallScreenView;
    expect(screen.layout).toEqual({ grid: '4', tiles: [null, null, null, null], tour: null });
    expect(screen.version).toBe(1);
    expect(created.headers.get('location')).toBe(`/api/v1/walls/${screen.id}`);

    const layout: WallLayout = {
      grid: '1+5',
      tiles: [cameraIn[0]!, null, cameraIn[1]!, null, null, null],
      tour: { cameraIds: [cameraIn[0]!, cameraIn[1]!], intervalSec: 10 },
    };
    const saved = await county.put(`/walls/${screen.id}/layout`, { version: 1, layout });
    expect(saved.status, saved.text).toBe(200);
    expect(saved.json).toMatchObject({ id: screen.id, version: 2, layout });
    expect((await county.get(`/walls/${screen.id}`)).json).toMatchObject({ version: 2, layout });
    expect(((await county.get('/walls')).json as WallScreenView[]).map((s) => s.id)).toContain(screen.id);

    // A second window saving with the version it loaded loses: 409 names the version.
    const stale = await county.put(`/walls/${screen.id}/layout`, {
      version: 1,
      layout: four([null, null, null, null]),
    });
    expect(stale.status).toBe(409);
    expect(stale.json.error.fields).toMatchObject([{ path: 'version', message: 'stale; the current version is 2' }]);

    expect((await county.del(`/walls/${screen.id}`)).status).toBe(204);
    expect((await county.get(`/walls/${screen.id}`)).status).toBe(404);
  });

  it.each([
    [{ version: 1, layout: { grid: '5', tiles: [], tour: null } }, 'layout.grid'],
    [{ version: 1, layout: { grid: '4', tiles: [null], tour: null } }, 'layout.tiles'],
    [{ version: 1, layout: { grid: '4', tiles: [null, null, null, -3], tour: null } }, 'layout.tiles.3'],
    [{ version: 1, layout: { grid: '4', tiles: [null, null, null, 'x'], tour: null } }, 'layout.tiles.3'],
    [{ version: 1, layout: { grid: '4', tiles: [null, null, null, 99999], tour: null } }, 'layout.tiles.3'],
    [
      { version: 1, layout: { grid: '1', tiles: [null], tour: { cameraIds: [1], intervalSec: 2 } } },
      'layout.tour.intervalSec',
    ],
    [
      {
        version: 1,
        layout: {
          grid: '1',
          tiles: [null],
          tour: { cameraIds: Array.from({ length: 257 }, () => 1), intervalSec: 10 },
        },
      },
      'layout.tour.cameraIds',
    ],
    [{ version: 1, layout: { grid: '1', tiles: [null], tour: null, colour: 'red' } }, 'layout.colour'],
    [{ version: 0, layout: { grid: '1', tiles: [null], tour: null } }, 'version'],
    [{ layout: { grid: '1', tiles: [null], tour: null } }, 'version'],
  ])('refuses a bad layout %j naming %s', async (body, path) => {
    const county = await as('county');
    const screen = (await county.post('/walls', { name: '校验屏' })).json as WallScreenView;
    const r = await county.put(`/walls/${screen.id}/layout`, body);
    expect(r.status, r.text).toBe(400);
    expect(r.json.error.code).toBe('validation_failed');
    expect(r.json.error.fields.map((f: { path: string }) => f.path)).toContain(path);
  });

  it('refuses bad screens at creation, naming the field', async () => {
    const county = await as('county');
    const noName = await county.post('/walls', {});
    expect(noName.status).toBe(400);
    expect(noName.json.error.fields[0].path).toBe('name');
    const t1 = await as('township1');
    const elsewhere = await t1.post('/walls', { name: '越权屏', orgUnitId: townships[1]!.id });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.json.error.fields[0].path).toBe('orgUnitId');
  });

  it('keeps each township to its own screens; the county looks at a township’s', async () => {
    const t1 = await as('township1');
    const t2 = await as('township2');
    const county = await as('county');
    const mine = (await t1.post('/walls', { name: '城关镇大屏', layout: four([cameraIn[0]!, null, null, null]) }))
      .json as WallScreenView;
    expect(mine.orgUnitId).toBe(townships[0]!.id);

    // Another township: the screen does not exist for it, whatever it tries.
    expect((await t2.get(`/walls/${mine.id}`)).status).toBe(404);
    expect((await t2.get(`/walls/${99_999}`)).status).toBe(404);
    expect(
      (await t2.put(`/walls/${mine.id}/layout`, { version: 1, layout: four([null, null, null, null]) })).status,
    ).toBe(404);
    expect((await t2.del(`/walls/${mine.id}`)).status).toBe(404);
    expect((await t2.post(`/walls/${mine.id}/kiosk-token`)).status).toBe(404);
    expect(((await t2.get('/walls')).json as WallScreenView[]).some((s) => s.id === mine.id)).toBe(false);
    expect((await t2.get(`/walls?orgUnitId=${townships[0]!.id}`)).status).toBe(404);
    // Nor may it put another township's camera on its own screen.
    const own = (await t2.post('/walls', { name: '东湖大屏' })).json as WallScreenView;
    const foreign = await t2.put(`/walls/${own.id}/layout`, {
      version: 1,
      layout: four([null, cameraIn[0]!, null, null]),
    });
    expect(foreign.status).toBe(400);
    expect(foreign.json.error.fields).toMatchObject([
      { path: 'layout.tiles.1', message: `camera ${cameraIn[0]} not found` },
    ]);

    // The county asks for the lower level's view (调阅).
    const listed = (await county.get(`/walls?orgUnitId=${townships[0]!.id}`)).json as WallScreenView[];
    expect(listed.map((s) => s.id)).toContain(mine.id);
    expect(listed.every((s) => s.orgUnitId === townships[0]!.id)).toBe(true);
    expect((await county.get(`/walls/${mine.id}`)).json.layout.tiles[0]).toBe(cameraIn[0]);
    // Viewers read but do not write.
    const viewer = await as('viewer');
    expect((await viewer.get(`/walls/${mine.id}`)).status).toBe(200);
    expect(
      (await viewer.put(`/walls/${mine.id}/layout`, { version: 1, layout: four([null, null, null, null]) })).status,
    ).toBe(403);
    expect((await viewer.post('/walls', { name: '观看者' })).status).toBe(403);
  });

  it('lists every point of the jurisdiction, compactly, and only those', async () => {
    const county = await as('county');
    const all = (await county.get('/walls/points')).json.points as unknown[][];
    expect(all.length).toBe(60);
    const [id, lon, lat, network, status, , , ptz, orgUnitId, name] = all[0]!;
    expect(typeof id).toBe('number');
    expect(typeof lon).toBe('number');
    expect(typeof lat).toBe('number');
    expect(typeof network).toBe('string');
    expect(['unknown', 'online', 'offline', 'degraded']).toContain(status);
    expect([0, 1]).toContain(ptz);
    expect(typeof orgUnitId).toBe('number');
    expect(typeof name).toBe('string');
    const t1 = (await (await as('township1')).get('/walls/points')).json.points as unknown[][];
    expect(t1.length).toBeGreaterThan(0);
    expect(t1.length).toBeLessThan(60);
    expect(t1.some((p) => p[0] === cameraIn[1])).toBe(false);
  });

  it('gives the same points as GeoJSON for the map worker, scoped the same way', async () => {
    type Geo = {
      type: string;
      features: {
        geometry: { coordinates: number[] };
        properties: { id: number; net: string; s: number; on: number };
      }[];
    };
    const county = (await (await as('county')).get('/walls/points.geojson')).json as Geo;
    expect(county.type).toBe('FeatureCollection');
    expect(county.features).toHaveLength(60);
    const compact = (await (await as('county')).get('/walls/points')).json.points as unknown[][];
    const first = county.features.find((f) => f.properties.id === compact[0]![0])!;
    // Rounded to 6 decimals (about 0.1 m) to keep the payload small.
    expect(first.geometry.coordinates[0]).toBeCloseTo(compact[0]![1] as number, 6);
    expect(first.geometry.coordinates[1]).toBeCloseTo(compact[0]![2] as number, 6);
    expect(first.properties.net).toBe(compact[0]![3]);
    expect(first.properties.on).toBe(compact[0]![4] === 'online' ? 1 : 0);
    expect([0, 1, 2, 3]).toContain(first.properties.s);
    const t1 = (await (await as('township1')).get('/walls/points.geojson')).json as Geo;
    const t1Compact = (await (await as('township1')).get('/walls/points')).json.points as unknown[][];
    expect(t1.features.map((f) => f.properties.id).sort()).toEqual(t1Compact.map((p) => p[0]).sort());
    expect(t1.features.some((f) => f.properties.id === cameraIn[1])).toBe(false);
    expect((await client(t.api).get('/walls/points.geojson')).status).toBe(401);
  });

  it("pushes 'wall:updated' to the screen's unit and above, not to another township", async () => {
    const t1 = await as('township1');
    const screen = (await t1.post('/walls', { name: '推送屏' })).json as WallScreenView;
    const own = await listenAs(t, 'township1', 'wall:updated');
    const county = await listenAs(t, 'county', 'wall:updated');
    const other = await listenAs(t, 'township2', 'wall:updated');
    try {
      const r = await t1.put(`/walls/${screen.id}/layout`, {
        version: 1,
        layout: four([cameraIn[0]!, null, null, null]),
      });
      expect(r.status).toBe(200);
      await settle([own.socket, county.socket, other.socket]);
      expect(own.heard.map((s) => s.id)).toEqual([screen.id]);
      expect(own.heard[0]!.version).toBe(2);
      expect(county.heard.map((s) => s.id)).toEqual([screen.id]);
      expect(other.heard).toEqual([]);
    } finally {
      for (const l of [own, county, other]) l.socket.disconnect();
    }
  });
});

describe('API description', () => {
  it('describes the wall endpoints', async () => {
    const doc = (await client(t.api).get('/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/walls/{id}/layout'] ?? {})).toEqual(['put']);
    expect(doc.paths['/walls/points']?.['get']).toBeDefined();
    expect(doc.paths['/walls/kiosk/{token}']?.['get']).toBeDefined();
  });
});

describe('kiosk tokens', () => {
  it('sign a screen in with viewing rights only, and can be revoked', async () => {
    const t1 = await as('township1');
    const screen = (await t1.post('/walls', { name: '无人值守屏', layout: four([cameraIn[0]!, null, null, null]) }))
      .json as WallScreenView;
    const issued = await t1.post(`/walls/${screen.id}/kiosk-token`);
    expect(issued.status, issued.text).toBe(201);
    const { token, url } = issued.json as { token: string; url: string };
    expect(url).toBe(`/api/v1/walls/kiosk/${token}`);

    // Opening the URL signs the browser in and lands on the screen.
    const open = await fetch(`${t.url}${url}`, { redirect: 'manual' });
    expect(open.status).toBe(303);
    expect(open.headers.get('location')).toBe(`/wall/${screen.id}?kiosk=1`);
    const cookie = open.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    const session = /^[^=]+=([^;]+)/.exec(cookie)![1]!;
    const kiosk = client(t.api, session);
    const me = (await kiosk.get('/auth/me')).json;
    expect(me.role).toBe('viewer');
    expect(me.orgUnitId).toBe(townships[0]!.id);
    expect(me.permissions).not.toContain('wall.write');
    expect(me.permissions).not.toContain('camera.control');
    // It can look…
    expect((await kiosk.get(`/walls/${screen.id}`)).status).toBe(200);
    expect((await kiosk.get('/walls/points')).status).toBe(200);
    // …but not change the wall, turn a dome or mint more tokens.
    expect(
      (await kiosk.put(`/walls/${screen.id}/layout`, { version: 1, layout: four([null, null, null, null]) })).status,
    ).toBe(403);
    expect((await kiosk.post(`/cameras/${cameraIn[0]}/ptz`, { action: 'stop' })).status).toBe(403);
    expect((await kiosk.post(`/walls/${screen.id}/kiosk-token`)).status).toBe(403);
    expect((await kiosk.post('/walls', { name: 'x' })).status).toBe(403);
    // Password login is impossible for the kiosk account.
    const pw = await fetch(`${t.api}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: me.username, password: '!kiosk' }),
    });
    expect(pw.status).toBe(401);
    // The JSON variant for scripted kiosks.
    const posted = await client(t.api).post('/walls/kiosk', { token });
    expect(posted.status).toBe(200);
    expect(posted.json.screenId).toBe(screen.id);

    // Revoked: the sessions end and the token no longer works.
    expect((await t1.del(`/walls/${screen.id}/kiosk-token`)).status).toBe(204);
    expect((await kiosk.get('/auth/me')).status).toBe(401);
    expect((await client(t.api, posted.json.token).get('/auth/me')).status).toBe(401);
    expect((await fetch(`${t.url}${url}`, { redirect: 'manual' })).status).toBe(401);
    expect((await client(t.api).post('/walls/kiosk', { token: 'x' })).json.error.fields[0].path).toBe('token');
  });
});
