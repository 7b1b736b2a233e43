/**
 * Jurisdiction is security: every demo user against orders, uploads,
 * statistics and wall pushes in two townships. Each cell is a real request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkOrderView } from '../../server/src/api/contract.ts';
import type { OrgUnit } from '../../server/src/org/repo.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

const USERS = ['admin', 'county', 'tech', 'viewer', 'township1', 'tech1', 'township2'] as const;
type User = (typeof USERS)[number];
type Town = 'T1' | 'T2';

let t: TestServer;
const api = {} as Record<User, ReturnType<typeof client>>;
const towns = {} as Record<Town, OrgUnit>;
const villages = {} as Record<Town, OrgUnit>;
const cameraIn = {} as Record<Town, number>;

/** The township operator that owns each town, and the other one. */
const ownerOf: Record<Town, User> = { T1: 'township1', T2: 'township2' };
const county = ['admin', 'county'] as const;

/** An order in `town`, assigned to the township (its step is to sign). */
async function freshOrder(town: Town): Promise<WorkOrderView> {
  const r = await api.county.post('/orders', { title: `矩阵 ${town}`, level: 'orange', orgUnitId: villages[town].id });
  expect(r.status).toBe(201);
  expect(r.json.assigneeOrgUnitId).toBe(towns[town].id);
  return r.json as WorkOrderView;
}

beforeAll(async () => {
  t = await startTestServer({ townships: 2, villages: 1, cameras: 20 });
  for (const u of USERS) api[u] = client(t.api, await t.login(u));
  const all = t.server.app.repos.orgs.all();
  const [a, b] = all.filter((u) => u.level === 'township').sort((x, y) => x.id - y.id) as [OrgUnit, OrgUnit];
  towns.T1 = a;
  towns.T2 = b;
  villages.T1 = all.find((u) => u.parentId === a.id)!;
  villages.T2 = all.find((u) => u.parentId === b.id)!;
  for (const town of ['T1', 'T2'] as const) {
    const cams = (await api[ownerOf[town]].get('/cameras?limit=1')).json.items as { id: number }[];
    cameraIn[town] = cams[0]!.id;
  }
}, 60_000);
afterAll(async () => {
  await t?.close();
});

function expected(user: User, town: Town, op: 'read' | 'sign' | 'create' | 'stats' | 'push' | 'upload'): number {
  const owner = ownerOf[town];
  // tech1 is a technician of township 1: it sees that town, but technicians take no part in orders.
  const sameTown = user === owner || (user === 'tech1' && town === 'T1');
  const seesTown = (county as readonly string[]).includes(user) || user === 'tech' || user === 'viewer' || sameTown;
  switch (op) {
    case 'read':
      if (user === 'tech' || user === 'tech1') return 403;
      return seesTown ? 200 : 404;
    case 'sign':
      if (user === 'tech' || user === 'tech1' || user === 'viewer') return 403;
      if (!seesTown) return 404;
      return user === owner ? 200 : 403;
    case 'upload':
      if (user === 'tech' || user === 'tech1' || user === 'viewer') return 403;
      return seesTown ? 201 : 404;
    case 'create':
      if (user === 'tech' || user === 'tech1' || user === 'viewer') return 403;
      return seesTown ? 201 : 403;
    case 'stats':
      if (user === 'tech' || user === 'tech1') return 403;
      return seesTown ? 200 : 404;
    case 'push':
      if (user === 'tech' || user === 'tech1' || user === 'viewer') return 403;
      if (user === owner) return 400; // a push goes to a lower level, not one's own
      return seesTown ? 201 : 403;
  }
}

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]);

describe.each(['T1', 'T2'] as const)('orders in %s', (town) => {
  it.each(USERS)('%s', async (user) => {
    const c = api[user];
    const o = await freshOrder(town);
    const got: Record<string, number> = {};
    const want: Record<string, number> = {};
    got.read = (await c.get(`/orders/${o.id}`)).status;
    want.read = expected(user, town, 'read');
    const listed = await c.get('/orders?limit=500');
    got.list =
      listed.status === 200 && listed.json.items.some((x: WorkOrderView) => x.id === o.id)
        ? 200
        : listed.status === 200
          ? 404
          : listed.status;
    want.list = want.read;
    got.upload = (await c.raw('POST', `/orders/${o.id}/attachments`, JPEG, 'image/jpeg')).status;
    want.upload = expected(user, town, 'upload');
    got.create = (
      await c.post('/orders', { title: 'x', level: 'blue', orgUnitId: villages[town].id, assignTo: 'hold' })
    ).status;
    want.create = expected(user, town, 'create');
    got.stats = (await c.get(`/orders/stats?orgUnitId=${towns[town].id}`)).status;
    want.stats = expected(user, town, 'stats');
    got.push = (await c.post('/wall-pushes', { targetOrgUnitId: towns[town].id, cameraIds: [cameraIn[town]] })).status;
    want.push = expected(user, town, 'push');
    const before = (await api.county.get(`/orders/${o.id}`)).json as WorkOrderView;
    got.sign = (await c.post(`/orders/${o.id}/sign`)).status;
    want.sign = expected(user, town, 'sign');
    expect(got).toEqual(want);
    // A refused step leaves the order exactly as it was.
    const after = (await api.county.get(`/orders/${o.id}`)).json as WorkOrderView;
    if (got.sign !== 200) expect(after.version).toBe(before.version);
    else expect(after.state).toBe('signed');
  });
});
