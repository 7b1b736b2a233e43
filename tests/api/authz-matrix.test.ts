/**
 * Jurisdiction is security: role × org unit × resource × action, over real
 * HTTP. Township users must neither read nor change another township's points,
 * and must not be able to tell whether they exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
const tokens = new Map<string, string>();
const USERS = ['admin', 'county', 'tech', 'viewer', 'township1', 'tech1', 'township2'] as const;
type U = (typeof USERS)[number];
/** Township index each user is confined to; null = whole county. */
const HOME: Record<U, 0 | 1 | null> = {
  admin: null,
  county: null,
  tech: null,
  viewer: null,
  township1: 0,
  tech1: 0,
  township2: 1,
};
const WRITERS = new Set<U>(['admin', 'tech', 'tech1']);
const EXPORTERS = new Set<U>(['admin', 'county', 'tech', 'township1', 'tech1', 'township2']);

let townships: { id: number; code: string }[] = [];
let villageOf: number[] = []; // a village id per township index
let villageCode: string[] = [];
const cameraIn: number[] = []; // one camera id per township index
let seq = 0;

const inScope = (u: U, ti: number) => HOME[u] === null || HOME[u] === ti;
const newCode = () => `349901001321${String(++seq).padStart(8, '0')}`;

beforeAll(async () => {
  t = await startTestServer({ townships: 3, villages: 2, cameras: 60 });
  for (const u of USERS) tokens.set(u, await t.login(u));
  const admin = client(t.api, tokens.get('admin'));
  const orgs = (await admin.get('/org-units')).json as {
    id: number;
    code: string;
    level: string;
    parentId: number | null;
  }[];
  townships = orgs.filter((o) => o.level === 'township').sort((a, b) => a.code.localeCompare(b.code));
  villageOf = townships.map((tw) => orgs.find((o) => o.parentId === tw.id)!.id);
  villageCode = townships.map((tw) => orgs.find((o) => o.parentId === tw.id)!.code);
  for (const v of villageOf) {
    const page = (await admin.get(`/cameras?org=${v}&limit=1`)).json;
    cameraIn.push(page.items[0].id);
  }
});
afterAll(async () => t?.close());

const asUser = (u: U) => client(t.api, tokens.get(u));
const body = (ti: number) => ({
  name: `矩阵测试点位${++seq}`,
  code: newCode(),
  networkId: 'xueliang',
  orgUnitId: villageOf[ti],
  position: { lon: 118.8, lat: 30.95 },
});

describe.each(USERS)('%s', (u) => {
  describe.each([0, 1])('township %i', (ti) => {
    const visible = () => inScope(u, ti);

    it('search lists the township only when in scope', async () => {
      const r = await asUser(u).get(`/cameras?limit=500`);
      expect(r.status).toBe(200);
      const ids = new Set((r.json.items as { id: number }[]).map((c) => c.id));
      expect(ids.has(cameraIn[ti]!)).toBe(visible());
    });

    it('org filter: 200 in scope, 403 outside', async () => {
      const r = await asUser(u).get(`/cameras?org=${townships[ti]!.id}`);
      expect(r.status).toBe(visible() ? 200 : 403);
    });

    it('get by id: 200 in scope, 404 (same as nonexistent) outside', async () => {
      const r = await asUser(u).get(`/cameras/${cameraIn[ti]}`);
      expect(r.status).toBe(visible() ? 200 : 404);
      if (!visible()) {
        const missing = await asUser(u).get(`/cameras/99999999`);
        expect(r.json).toEqual(missing.json);
      }
    });

    it('create', async () => {
      const r = await asUser(u).post('/cameras', body(ti));
      expect(r.status).toBe(WRITERS.has(u) ? (visible() ? 201 : 403) : 403);
    });

    it('update', async () => {
      const r = await asUser(u).patch(`/cameras/${cameraIn[ti]}`, { address: `改址${seq++}` });
      expect(r.status).toBe(WRITERS.has(u) ? (visible() ? 200 : 404) : 403);
    });

    it('moving an own point into this township', async () => {
      if (!WRITERS.has(u)) return;
      const home = HOME[u] ?? 0;
      const created = await asUser(u).post('/cameras', body(home));
      expect(created.status).toBe(201);
      const r = await asUser(u).patch(`/cameras/${created.json.id}`, { orgUnitId: villageOf[ti] });
      expect(r.status).toBe(visible() ? 200 : 403);
      const after = await client(t.api, tokens.get('admin')).get(`/cameras/${created.json.id}`);
      expect(after.json.orgUnitId).toBe(visible() ? villageOf[ti] : villageOf[home]);
    });

    it('delete', async () => {
      const admin = client(t.api, tokens.get('admin'));
      const victim = (await admin.post('/cameras', body(ti))).json.id as number;
      const r = await asUser(u).del(`/cameras/${victim}`);
      expect(r.status).toBe(WRITERS.has(u) ? (visible() ? 204 : 404) : 403);
      expect((await admin.get(`/cameras/${victim}`)).status).toBe(WRITERS.has(u) && visible() ? 404 : 200);
    });

    it('export contains the township only when in scope', async () => {
      const r = await asUser(u).get('/cameras/export.csv');
      expect(r.status).toBe(EXPORTERS.has(u) ? 200 : 403);
      if (r.status === 200) {
        expect(r.text.includes(`,${villageCode[ti]},`)).toBe(visible());
      }
    });

    it('import into the township is all-or-nothing and scoped', async () => {
      const admin = client(t.api, tokens.get('admin'));
      const before = (await admin.get('/cameras?limit=1&withTotal=1')).json.total as number;
      const csv = `name,network,org_unit,lon,lat\n导入点位${seq++},xueliang,${villageCode[ti]},118.8,30.95\n`;
      const r = await asUser(u).raw('POST', '/cameras/import', csv, 'text/csv');
      const allowed = WRITERS.has(u);
      expect(r.status).toBe(allowed ? (visible() ? 201 : 422) : 403);
      const after = (await admin.get('/cameras?limit=1&withTotal=1')).json.total as number;
      expect(after - before).toBe(allowed && visible() ? 1 : 0);
    });
  });

  it('audit log is for admins only', async () => {
    expect((await asUser(u).get('/audit')).status).toBe(u === 'admin' ? 200 : 403);
  });

  it('org tree shows only the own subtree', async () => {
    const r = await asUser(u).get('/org-units');
    expect(r.status).toBe(200);
    const ids = new Set((r.json as { id: number }[]).map((o) => o.id));
    for (const ti of [0, 1]) expect(ids.has(townships[ti]!.id)).toBe(inScope(u, ti));
  });
});

describe('without a session', () => {
  it.each([
    ['GET', '/cameras'],
    ['GET', '/cameras/1'],
    ['POST', '/cameras'],
    ['PATCH', '/cameras/1'],
    ['DELETE', '/cameras/1'],
    ['GET', '/cameras/export.csv'],
    ['GET', '/org-units'],
    ['GET', '/audit'],
    ['GET', '/auth/me'],
  ])('%s %s is 401', async (method, path) => {
    const res = await fetch(`${t.api}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(method === 'POST' || method === 'PATCH' ? { body: '{}' } : {}),
    });
    expect(res.status).toBe(401);
  });

  it('a forged or expired-looking token is 401', async () => {
    const r = await client(t.api, 'A'.repeat(43)).get('/cameras');
    expect(r.status).toBe(401);
  });
});
