/**
 * The wall's point GeoJSON with the registry's filters (issue 17): the
 * registry map draws every point of the selection, not the loaded page. The
 * features are exactly the points GET /cameras counts for the same filter,
 * inside the caller's jurisdiction; bad filters are 400s naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraPointView, OrgUnitView, Page } from '../../server/src/api/contract.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

interface Fc {
  features: { properties: { id: number; net: string; s: number } }[];
}

let t: TestServer;
let county: ReturnType<typeof client>;
let township1: ReturnType<typeof client>;
let units: OrgUnitView[] = [];
let t1 = 0;
let t2 = 0;

/** Ids of every point GET /cameras lists for a filter (all pages). */
async function cameraIds(who: ReturnType<typeof client>, query: string): Promise<number[]> {
  const ids: number[] = [];
  let cursor: string | null = null;
  do {
    const r = await who.get(`/cameras?limit=500${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status, r.text).toBe(200);
    const page = r.json as Page<CameraPointView>;
    ids.push(...page.items.map((c) => c.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids.sort((a, b) => a - b);
}

async function pointIds(who: ReturnType<typeof client>, query: string): Promise<number[]> {
  const r = await who.get(`/walls/points.geojson${query ? `?${query}` : ''}`);
  expect(r.status, r.text).toBe(200);
  return (JSON.parse(r.text) as Fc).features.map((f) => f.properties.id).sort((a, b) => a - b);
}

beforeAll(async () => {
  t = await startTestServer({ cameras: 120 });
  county = client(t.api, await t.login('county'));
  township1 = client(t.api, await t.login('township1'));
  units = (await county.get('/org-units')).json as OrgUnitView[];
  t1 = ((await township1.get('/auth/me')).json as { orgUnitId: number }).orgUnitId;
  const township2 = client(t.api, await t.login('township2'));
  t2 = ((await township2.get('/auth/me')).json as { orgUnitId: number }).orgUnitId;
});
afterAll(async () => t?.close());

describe('the registry filter on the point GeoJSON', () => {
  it.each([
    ['', 'everything'],
    ['network=tianwang', 'one network'],
    ['status=unknown', 'a status'],
    ['ptz=true', 'PTZ only'],
    [`q=${encodeURIComponent('村')}`, 'text'],
    ['network=xueliang&ptz=false', 'two filters'],
  ])('%s (%s): every point GET /cameras lists, no other', async (query) => {
    const expected = await cameraIds(county, query);
    expect(await pointIds(county, query)).toEqual(expected);
  });

  it('by org unit: the unit and everything under it', async () => {
    const village = units.find((u) => u.parentId === t1)!;
    expect(await pointIds(county, `org=${village.id}`)).toEqual(await cameraIds(county, `org=${village.id}`));
    expect(await pointIds(county, `org=${t1}`)).toEqual(await cameraIds(township1, ''));
  });

  it("a township gets only its own points, filtered or not, and another township's unit is refused naming org", async () => {
    const own = await cameraIds(township1, '');
    expect(await pointIds(township1, '')).toEqual(own);
    expect(await pointIds(township1, 'network=xueliang')).toEqual(await cameraIds(township1, 'network=xueliang'));
    for (const id of await pointIds(township1, `q=${encodeURIComponent('村')}`)) expect(own).toContain(id);
    const r = await township1.get(`/walls/points.geojson?org=${t2}`);
    expect(r.status).toBe(403);
    expect(r.json.error.fields).toEqual([expect.objectContaining({ path: 'org' })]);
  });

  it.each([
    ['network=Tian Wang', 'network'],
    ['status=broken', 'status'],
    ['ptz=maybe', 'ptz'],
    ['org=abc', 'org'],
    ['limit=5', 'limit'],
  ])('%s is a 400 naming %s', async (query, field) => {
    const r = await county.get(`/walls/points.geojson?${query}`);
    expect(r.status).toBe(400);
    expect((r.json.error.fields as { path: string }[]).map((f) => f.path)).toContain(field);
  });
});
