/** Camera-point API over real HTTP: CRUD, search, and every kind of bad input. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromWgs84 } from '../../server/src/geo/coords.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let tech: ReturnType<typeof client>;
let village = 0;
let n = 0;
const code = () => `34990100001319${String(++n).padStart(6, '0')}`;
const valid = () => ({
  name: `测试点位${++n}`,
  networkId: 'tianwang',
  orgUnitId: village,
  position: { lon: 118.81, lat: 30.96 },
});
const count = async () => (await tech.get('/cameras?limit=1&withTotal=true')).json.total as number;

beforeAll(async () => {
  t = await startTestServer({ cameras: 40 });
  tech = client(t.api, await t.login('tech'));
  const orgs = (await tech.get('/org-units')).json as { id: number; level: string }[];
  village = orgs.find((o) => o.level === 'village')!.id;
});
afterAll(async () => t?.close());

describe('create, read, update, delete', () => {
  it('creates a point and returns it without credentials', async () => {
    const r = await tech.post('/cameras', {
      ...valid(),
      code: code(),
      ptz: true,
      credentials: { username: 'admin', password: 's3cret!' },
      mainStreamUri: 'rtsp://10.0.0.5:554/Streaming/Channels/101',
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe(`/api/v1/cameras/${r.json.id}`);
    expect(r.json.hasCredentials).toBe(true);
    expect(r.json.ptz).toBe(true);
    expect(JSON.stringify(r.json)).not.toContain('s3cret');
    const got = await tech.get(`/cameras/${r.json.id}`);
    expect(got.json).toEqual(r.json);
  });

  it('stores credentials encrypted, never in clear', async () => {
    const r = await tech.post('/cameras', { ...valid(), credentials: { username: 'op', password: 'PlainTextPw123' } });
    const row = (await t.store.get<{ credentials_enc: string }>(
      'SELECT credentials_enc FROM camera_points WHERE id = ?',
      [r.json.id],
    ))!;
    expect(row.credentials_enc.startsWith('v1:')).toBe(true);
    expect(row.credentials_enc).not.toContain('PlainTextPw123');
    const dump = JSON.stringify(await t.store.all('SELECT * FROM camera_points WHERE id = ?', [r.json.id]));
    expect(dump).not.toContain('PlainTextPw123');
  });

  it('moves user:password out of a stream URI into sealed credentials', async () => {
    const r = await tech.post('/cameras', {
      ...valid(),
      mainStreamUri: 'rtsp://admin:hik12345@10.1.2.3:554/h264/ch1/main',
    });
    expect(r.status).toBe(201);
    expect(r.json.mainStreamUri).toBe('rtsp://10.1.2.3:554/h264/ch1/main');
    expect(r.json.hasCredentials).toBe(true);
    expect(JSON.stringify(await t.store.all('SELECT * FROM camera_points WHERE id = ?', [r.json.id]))).not.toContain(
      'hik12345',
    );
  });

  it('converts GCJ-02 and BD-09 input to WGS-84 and records the source', async () => {
    const wgs: [number, number] = [118.85, 30.9];
    for (const system of ['gcj02', 'bd09'] as const) {
      const [lon, lat] = fromWgs84(system, ...wgs);
      const r = await tech.post('/cameras', { ...valid(), position: { lon, lat, system } });
      expect(r.status).toBe(201);
      expect(r.json.coordSource).toBe(system);
      expect(r.json.position.lon).toBeCloseTo(wgs[0], 5);
      expect(r.json.position.lat).toBeCloseTo(wgs[1], 5);
      // The offset is real: the stored value is not the raw input.
      expect(Math.abs(r.json.position.lon - lon)).toBeGreaterThan(0.001);
    }
  });

  it('patches fields, keeps credentials unless told, detects stale versions', async () => {
    const c = (await tech.post('/cameras', { ...valid(), credentials: { username: 'a', password: 'b' } })).json;
    const p = await tech.patch(`/cameras/${c.id}`, { address: '新地址', version: c.version });
    expect(p.status).toBe(200);
    expect(p.json.address).toBe('新地址');
    expect(p.json.version).toBe(c.version + 1);
    expect(p.json.hasCredentials).toBe(true);
    const stale = await tech.patch(`/cameras/${c.id}`, { name: 'x', version: c.version });
    expect(stale.status).toBe(409);
    expect(stale.json.error.fields[0].path).toBe('version');
    const cleared = await tech.patch(`/cameras/${c.id}`, { credentials: null });
    expect(cleared.json.hasCredentials).toBe(false);
  });

  it('deletes', async () => {
    const c = (await tech.post('/cameras', valid())).json;
    expect((await tech.del(`/cameras/${c.id}`)).status).toBe(204);
    expect((await tech.get(`/cameras/${c.id}`)).status).toBe(404);
    expect((await tech.del(`/cameras/${c.id}`)).status).toBe(404);
  });
});

describe('search', () => {
  it('pages with a cursor through every point exactly once', async () => {
    const total = await count();
    const seen = new Set<number>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await tech.get(`/cameras?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      for (const c of r.json.items) {
        expect(seen.has(c.id)).toBe(false);
        seen.add(c.id);
      }
      cursor = r.json.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    expect(seen.size).toBe(total);
  });

  it('filters by text, network, status, ptz and bounding box', async () => {
    const c = (
      await tech.post('/cameras', {
        ...valid(),
        name: '独一无二的桥头点位',
        networkId: 'traffic',
        ptz: true,
        position: { lon: 100.5, lat: 20.5 },
      })
    ).json;
    const q = await tech.get(`/cameras?q=${encodeURIComponent('独一无二')}`);
    expect(q.json.items.map((x: { id: number }) => x.id)).toEqual([c.id]);
    const net = await tech.get('/cameras?network=traffic&limit=500');
    expect(net.json.items.every((x: { networkId: string }) => x.networkId === 'traffic')).toBe(true);
    expect(net.json.items.some((x: { id: number }) => x.id === c.id)).toBe(true);
    const ptz = await tech.get('/cameras?ptz=true&limit=500');
    expect(ptz.json.items.every((x: { ptz: boolean }) => x.ptz)).toBe(true);
    const box = await tech.get('/cameras?bbox=100,20,101,21');
    expect(box.json.items.map((x: { id: number }) => x.id)).toEqual([c.id]);
    const status = await tech.get('/cameras?status=online');
    expect(status.json.items).toEqual([]);
  });

  it('treats LIKE wildcards and SQL as plain text', async () => {
    expect((await tech.get(`/cameras?q=${encodeURIComponent('%')}`)).json.items).toEqual([]);
    expect((await tech.get(`/cameras?q=${encodeURIComponent("' OR 1=1 --")}`)).json.items).toEqual([]);
  });
});

describe('bad input gets a 4xx naming the field and writes nothing', () => {
  const cases: [string, unknown, number, string][] = [
    [
      'unknown field',
      { ...{ name: 'a', networkId: 'xueliang', orgUnitId: 0, position: { lon: 1, lat: 1 } }, colour: 'red' },
      400,
      'colour',
    ],
    ['wrong type', { name: 5 }, 400, 'name'],
    ['missing name', { name: undefined }, 400, 'name'],
    ['longitude out of range', { position: { lon: 181, lat: 30 } }, 400, 'position.lon'],
    ['latitude out of range', { position: { lon: 118, lat: -91 } }, 400, 'position.lat'],
    ['unknown coordinate system', { position: { lon: 118, lat: 30, system: 'utm' } }, 400, 'position.system'],
    ['the null position of a device without a fix', { position: { lon: 0, lat: 0 } }, 400, 'position'],
    [
      'a BD-09 corner that converts out of range',
      { position: { lon: -180, lat: -90, system: 'bd09' } },
      400,
      'position',
    ],
    ['short code', { code: '1234' }, 400, 'code'],
    ['stream URI with a shell trick', { mainStreamUri: 'rtsp://h/x -i /etc/passwd' }, 400, 'mainStreamUri'],
    ['file URI', { mainStreamUri: 'file:///etc/passwd' }, 400, 'mainStreamUri'],
    ['ONVIF URL not http', { onvifUrl: 'rtsp://h/onvif' }, 400, 'onvifUrl'],
    ['direction out of range', { direction: 400 }, 400, 'direction'],
    ['control characters in name', { name: 'a\u0000b' }, 400, 'name'],
    ['unknown network', { networkId: 'nope' }, 400, 'networkId'],
    ['nested unknown field', { credentials: { username: 'a', password: 'b', token: 'x' } }, 400, 'credentials.token'],
    ['prototype pollution key', JSON.parse('{"__proto__": {"admin": true}}'), 400, '__proto__'],
  ];
  it.each(cases)('%s', async (_label, patch, status, path) => {
    const before = await count();
    const r = await tech.post('/cameras', { ...valid(), ...(patch as object) });
    expect(r.status).toBe(status);
    expect(r.json.error.fields.map((f: { path: string }) => f.path)).toContain(path);
    expect(r.json.error.message).toContain(path);
    expect(await count()).toBe(before);
  });

  it('malformed JSON is 400 naming the body', async () => {
    const r = await tech.post('/cameras', '{"name": "a",');
    expect(r.status).toBe(400);
    expect(r.json.error.fields[0].path).toBe('body');
  });

  it('a body over the limit is 413', async () => {
    const r = await tech.post('/cameras', { ...valid(), address: 'x'.repeat(300 * 1024) });
    expect(r.status).toBe(413);
    expect(r.json.error.fields[0].path).toBe('body');
  });

  it('a non-JSON content type is 415', async () => {
    const r = await tech.raw('POST', '/cameras', 'name=a', 'application/x-www-form-urlencoded');
    expect(r.status).toBe(415);
  });

  it('a duplicate code is 409 and the first point is untouched', async () => {
    const c = code();
    expect((await tech.post('/cameras', { ...valid(), code: c })).status).toBe(201);
    const before = await count();
    const r = await tech.post('/cameras', { ...valid(), code: c });
    expect(r.status).toBe(409);
    expect(r.json.error.fields[0].path).toBe('code');
    expect(await count()).toBe(before);
  });

  it('SQL-looking strings are stored as text', async () => {
    const name = "Robert'); DROP TABLE camera_points;--";
    const r = await tech.post('/cameras', { ...valid(), name });
    expect(r.status).toBe(201);
    expect((await tech.get(`/cameras/${r.json.id}`)).json.name).toBe(name);
    expect(await count()).toBeGreaterThan(1);
  });

  it.each([
    ['limit', 'limit=100000'],
    ['bbox', 'bbox=1,2,3'],
    ['status', 'status=sleeping'],
    ['cursor', 'cursor=garbage'],
    ['sort', 'sort=name'],
    ['q', `q=${'x'.repeat(200)}`],
    ['q', 'q=a&q=b'],
  ])('query parameter %s', async (path, qs) => {
    const r = await tech.get(`/cameras?${qs}`);
    expect(r.status).toBe(400);
    expect(r.json.error.fields.map((f: { path: string }) => f.path)).toContain(path);
  });

  it('a bad id is 400, not a crash', async () => {
    expect((await tech.get('/cameras/abc')).status).toBe(400);
    expect((await tech.get('/cameras/1e999')).status).toBe(400);
  });

  it('the server is still healthy after all of it', async () => {
    expect((await fetch(`${t.api}/health/ready`)).status).toBe(200);
  });
});

describe('the rest of the surface', () => {
  it('serves an OpenAPI document that describes the camera input', async () => {
    const r = await fetch(`${t.api}/openapi.json`);
    const doc = (await r.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties?: object }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/cameras', '/cameras/{id}', '/cameras/import', '/auth/login']),
    );
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/alerts/ingest', '/alerts', '/alerts/{id}/ack', '/alert-sources', '/cameras/{id}/ptz']),
    );
    expect(Object.keys(doc.components.schemas.AlertIngest!.properties!)).toEqual(
      expect.arrayContaining(['type', 'level', 'position', 'cameraId']),
    );
    expect(Object.keys(doc.components.schemas.CameraPointInput!.properties!)).toEqual(
      expect.arrayContaining(['name', 'position', 'credentials']),
    );
  });

  it('lists networks with counts, and unknown API routes are JSON 404s', async () => {
    const nets = (await tech.get('/networks')).json as { id: string; cameraCount: number }[];
    expect(nets.map((x) => x.id)).toEqual(
      expect.arrayContaining(['xueliang', 'tianwang', 'traffic', 'urban', 'huiyan']),
    );
    const r = await tech.get('/nope');
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('not_found');
  });

  it('records edits in the audit log with who and from where', async () => {
    const admin = client(t.api, await t.login('admin'));
    const c = (await tech.post('/cameras', valid())).json;
    const log = (await admin.get('/audit?action=camera.create')).json.items as {
      targetId: string;
      username: string;
      ip: string;
    }[];
    const entry = log.find((e) => e.targetId === String(c.id));
    expect(entry?.username).toBe('tech');
    expect(entry?.ip).toMatch(/127\.0\.0\.1/);
  });
});

describe('delete with a version', () => {
  it('refuses a stale version with 409 and keeps the point', async () => {
    const c = (await tech.post('/cameras', valid())).json;
    await tech.patch(`/cameras/${c.id}`, { address: '改了' });
    const r = await tech.del(`/cameras/${c.id}?version=${c.version}`);
    expect(r.status).toBe(409);
    expect((await tech.get(`/cameras/${c.id}`)).status).toBe(200);
    expect((await tech.del(`/cameras/${c.id}?version=${c.version + 1}`)).status).toBe(204);
  });
});
