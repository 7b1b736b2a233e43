/**
 * The map's search box over real HTTP (issue 17): org units, camera points by
 * name or code, and mounting addresses; bad input named; and jurisdiction: a
 * township never finds another township's units, points or addresses, by any
 * word (every point name of township 2 is tried from township 1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraPointView, OrgUnitView, Page, PlaceSearchResult } from '../../server/src/api/contract.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let county: ReturnType<typeof client>;
let township1: ReturnType<typeof client>;
let township2: ReturnType<typeof client>;
let t1Unit: OrgUnitView;
let t2Unit: OrgUnitView;
let t2Points: CameraPointView[] = [];
const made: Record<string, CameraPointView> = {};

const search = async (who: ReturnType<typeof client>, q: string, extra = '') => {
  const r = await who.get(`/search?q=${encodeURIComponent(q)}${extra}`);
  expect(r.status, r.text).toBe(200);
  return r.json as PlaceSearchResult[];
};

beforeAll(async () => {
  t = await startTestServer({ cameras: 60 });
  const tech = client(t.api, await t.login('tech'));
  county = client(t.api, await t.login('county'));
  township1 = client(t.api, await t.login('township1'));
  township2 = client(t.api, await t.login('township2'));
  const units = (await county.get('/org-units')).json as OrgUnitView[];
  const me = async (c: ReturnType<typeof client>) =>
    ((await c.get('/auth/me')).json as { orgUnitId: number }).orgUnitId;
  const t1Id = await me(township1);
  const t2Id = await me(township2);
  t1Unit = units.find((u) => u.id === t1Id)!;
  t2Unit = units.find((u) => u.id === t2Id)!;
  const village = (unit: OrgUnitView) => units.find((u) => u.parentId === unit.id)!;
  const add = async (key: string, unit: OrgUnitView, name: string, address: string, code?: string) => {
    const r = await tech.post('/cameras', {
      name,
      networkId: 'xueliang',
      orgUnitId: village(unit).id,
      position: { lon: 118.81, lat: 30.96 },
      address,
      ...(code ? { code } : {}),
    });
    expect(r.status, r.text).toBe(201);
    made[key] = r.json as CameraPointView;
  };
  await add('t1school', t1Unit, '王庄村学校门口', '城关镇王庄路18号', '11010500001329000001');
  await add('t1school2', t1Unit, '王庄村学校操场', '城关镇王庄路18号');
  await add('t2school', t2Unit, '东湖学校门口', '东湖街道湖滨路18号', '11010500001329000002');
  t2Points = ((await county.get(`/cameras?org=${t2Unit.id}&limit=500`)).json as Page<CameraPointView>).items;
});
afterAll(async () => t?.close());

describe('what it finds', () => {
  it('camera points by name, names that start with the words first', async () => {
    const hits = await search(county, '学校');
    const cams = hits.filter((h) => h.kind === 'camera').map((h) => h.id);
    expect(cams).toEqual(expect.arrayContaining([made['t1school']!.id, made['t1school2']!.id, made['t2school']!.id]));
    // Names that start with the words come before names that only hold them.
    const ranked = (await search(county, '王庄村学校')).filter((h) => h.kind === 'camera').map((h) => h.name);
    expect(ranked.slice(0, 2).sort()).toEqual(['王庄村学校操场', '王庄村学校门口']);
    const exact = await search(county, '东湖学校');
    expect(exact.find((h) => h.kind === 'camera')).toMatchObject({
      id: made['t2school']!.id,
      name: '东湖学校门口',
      position: { lon: 118.81, lat: 30.96 },
      bbox: null,
    });
  });

  it('by code', async () => {
    const hits = await search(county, '11010500001329000002');
    expect(hits.filter((h) => h.kind === 'camera').map((h) => h.id)).toEqual([made['t2school']!.id]);
  });

  it('addresses, once each however many points share them', async () => {
    const hits = (await search(county, '王庄路')).filter((h) => h.kind === 'address');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ name: '城关镇王庄路18号', bbox: null });
  });

  it('org units with their extent, to fit the map to', async () => {
    const hits = (await search(county, t2Unit.name)).filter((h) => h.kind === 'org');
    expect(hits[0]).toMatchObject({ id: t2Unit.id, name: t2Unit.name });
    const [w, s, e, n] = hits[0]!.bbox!;
    expect(w).toBeLessThan(e);
    expect(s).toBeLessThan(n);
  });

  it('at most `limit` hits', async () => {
    expect((await search(county, '村', '&limit=4')).length).toBeLessThanOrEqual(4);
  });
});

describe('jurisdiction', () => {
  it("a township never finds another township's units, points or addresses", async () => {
    const t2CameraIds = new Set(t2Points.map((p) => p.id));
    const units = (await county.get('/org-units')).json as OrgUnitView[];
    const t1Units = new Set([t1Unit.id, ...units.filter((u) => u.parentId === t1Unit.id).map((u) => u.id)]);
    expect(t2CameraIds.size).toBeGreaterThan(5);
    const leaks: string[] = [];
    const words = [...new Set([...t2Points.map((p) => p.name), '学校', '18号', '湖滨路', t2Unit.name, '村'])];
    for (const q of words) {
      for (const h of await search(township1, q, '&limit=50')) {
        if (h.kind !== 'org' && t2CameraIds.has(h.id)) leaks.push(`${q} → point ${h.id}`);
        if (h.kind === 'org' && !t1Units.has(h.id)) leaks.push(`${q} → unit ${h.id}`);
      }
    }
    expect(leaks).toEqual([]);
    // …while township 2 does find them, so the words were good ones.
    expect((await search(township2, '东湖学校')).some((h) => h.id === made['t2school']!.id)).toBe(true);
    expect((await search(township1, '学校')).map((h) => h.id)).not.toContain(made['t2school']!.id);
    expect((await search(township1, '湖滨路')).length).toBe(0);
  });
});

describe('bad input is a 400 naming the field', () => {
  it.each([
    ['', 'q'],
    ['?q=', 'q'],
    ['?q=%20%20', 'q'],
    [`?q=${'长'.repeat(51)}`, 'q'],
    ['?q=a&limit=0', 'limit'],
    ['?q=a&limit=51', 'limit'],
    ['?q=a&near=1', 'near'],
    ['?q=%E2%80%AEabc', 'q'],
  ])('/search%s', async (query, field) => {
    const r = await county.get(`/search${query}`);
    expect(r.status).toBe(400);
    expect((r.json.error.fields as { path: string }[]).map((f) => f.path)).toContain(field);
  });

  it('401 without a session', async () => {
    expect((await client(t.api).get('/search?q=a')).status).toBe(401);
  });
});
