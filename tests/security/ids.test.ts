/**
 * Issue 11, holes 1 and 2, and the wall-layout part of 8: ids are never
 * reused; a kiosk account belongs to its screen by a column, never by its
 * name; a layout holds only cameras of the screen's own jurisdiction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let dongHu: number;
let chengGuan: number;

beforeAll(async () => {
  t = await startTestServer();
  dongHu = (await client(t.api, await t.login('township2')).get('/auth/me')).json.orgUnitId;
  chengGuan = (await client(t.api, await t.login('township1')).get('/auth/me')).json.orgUnitId;
});
afterAll(async () => {
  await t?.close();
});

const four = (tiles: (number | null)[]) => ({ grid: '4', tiles, tour: null });

describe('ids are never reused', () => {
  it('a deleted highest camera id is not handed to the next point', async () => {
    const tech = client(t.api, await t.login('tech'));
    const body = (name: string) => ({
      name,
      networkId: 'xueliang',
      orgUnitId: chengGuan,
      position: { lon: 118.7, lat: 31 },
    });
    const a = await tech.post('/cameras', body('将被删除的点位'));
    expect(a.status).toBe(201);
    expect((await tech.del(`/cameras/${a.json.id}`)).status).toBe(204);
    const b = await tech.post('/cameras', body('后来的点位'));
    expect(b.status).toBe(201);
    expect(b.json.id).toBeGreaterThan(a.json.id);
    // The old id stays gone.
    expect((await tech.get(`/cameras/${a.json.id}`)).status).toBe(404);
  });

  it('a township kiosk never adopts the county’s deleted screen’s account, nor a look-alike user', async () => {
    const county = client(t.api, await t.login('county'));
    const old = (await county.post('/walls', { name: '县中心临时屏' })).json;
    const oldKiosk = (await county.post(`/walls/${old.id}/kiosk-token`)).json;
    expect((await client(t.api).post('/walls/kiosk', { token: oldKiosk.token })).status).toBe(200);
    expect((await county.del(`/walls/${old.id}`)).status).toBe(204);
    // An admin makes a user carrying the name the old scheme would look up for the next screen.
    const admin = client(t.api, await t.login('admin'));
    for (const n of [old.id + 1, old.id + 2]) {
      const made = await admin.post('/users', {
        username: `kiosk-screen-${n}`,
        displayName: '同名账号',
        password: 'Lookalike@2026',
        role: 'county_officer',
        orgUnitId: (await admin.get('/auth/me')).json.orgUnitId,
      });
      expect(made.status).toBe(201);
    }

    const t1 = client(t.api, await t.login('township1'));
    const mine = (await t1.post('/walls', { name: '城关镇新屏' })).json;
    expect(mine.id).toBeGreaterThan(old.id);
    const issued = (await t1.post(`/walls/${mine.id}/kiosk-token`)).json;
    const signedIn = await client(t.api).post('/walls/kiosk', { token: issued.token });
    expect(signedIn.status).toBe(200);
    const kiosk = client(t.api, signedIn.json.token);
    const me = (await kiosk.get('/auth/me')).json;
    expect(me.orgUnitId).toBe(chengGuan);
    expect(me.role).toBe('viewer');
    // Another township's points stay invisible to it.
    const other = await kiosk.get(`/cameras?org=${dongHu}`);
    expect(other.status, other.text).toBe(403);
    // The deleted screen's token signs nothing in any more.
    expect((await client(t.api).post('/walls/kiosk', { token: oldKiosk.token })).status).toBe(401);
  });
});

describe('a layout holds only the screen’s own cameras', () => {
  it('the county cannot put another township’s camera on a township wall', async () => {
    const t1 = client(t.api, await t.login('township1'));
    const screen = (await t1.post('/walls', { name: '城关镇布局屏' })).json;
    const theirs = (await client(t.api, await t.login('township2')).get('/cameras?limit=1')).json.items[0].id;
    const ours = (await t1.get('/cameras?limit=1')).json.items[0].id;
    const county = client(t.api, await t.login('county'));
    const bad = await county.put(`/walls/${screen.id}/layout`, {
      version: screen.version,
      layout: four([ours, theirs, null, null]),
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields).toEqual([
      expect.objectContaining({ path: 'layout.tiles.1', message: expect.stringContaining('jurisdiction') }),
    ]);
    // Nothing was saved.
    expect((await t1.get(`/walls/${screen.id}`)).json.version).toBe(screen.version);
    const good = await county.put(`/walls/${screen.id}/layout`, {
      version: screen.version,
      layout: four([ours, null, null, null]),
    });
    expect(good.status).toBe(200);
    // Creating a township screen with a foreign layout is refused too.
    const made = await county.post('/walls', {
      name: '越界屏',
      orgUnitId: chengGuan,
      layout: four([theirs, null, null, null]),
    });
    expect(made.status).toBe(400);
  });
});
