/**
 * The map's binary point feed over real HTTP (issue 15): GET
 * /walls/points.bin holds exactly the points of the caller's jurisdiction
 * (and of the registry's filter), with the positions and statuses the
 * registry has; so every cluster the page draws from it counts only those:
 * a township's clusters never count another township's points, at any zoom.
 * Refusals name the field; no session is a 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraPointView, Page } from '../../server/src/api/contract.ts';
import { STATUS_CODES, STATUS_OF_CODE, decodePointFeed, type PointColumns } from '../../server/src/api/point-feed.ts';
import { CLUSTER_MAX_ZOOM, PointIndex, type ClusterProps } from '../../client/src/map/pointIndex.ts';
import { createWallRepo } from '../../server/src/wall/repo.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
const tokens: Record<string, string> = {};

async function feed(username: string, query = ''): Promise<{ status: number; columns?: PointColumns; body?: any }> {
  const r = await fetch(`${t.api}/walls/points.bin${query ? `?${query}` : ''}`, {
    headers: tokens[username] ? { authorization: `Bearer ${tokens[username]}` } : {},
  });
  if (r.status !== 200) return { status: r.status, body: await r.json() };
  expect(r.headers.get('content-type')).toMatch(/^application\/vnd\.ccc\.points/);
  return { status: 200, columns: decodePointFeed(await r.arrayBuffer()) };
}

/** Every point GET /cameras lists for `username` and a filter (all pages). */
async function cameras(username: string, query = ''): Promise<CameraPointView[]> {
  const who = client(t.api, tokens[username]);
  const out: CameraPointView[] = [];
  let cursor: string | null = null;
  do {
    const r = await who.get(`/cameras?limit=500${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status, r.text).toBe(200);
    const page = r.json as Page<CameraPointView>;
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

const sorted = (ids: Iterable<number>) => [...ids].sort((a, b) => a - b);
const WORLD: [number, number, number, number] = [-180, -85, 180, 85];

beforeAll(async () => {
  t = await startTestServer({ cameras: 160 });
  for (const u of ['county', 'township1', 'township2']) tokens[u] = await t.login(u);
});
afterAll(async () => t?.close());

describe('GET /walls/points.bin', () => {
  it('holds every point of the county with the positions, networks and statuses the registry has', async () => {
    const { columns } = await feed('county');
    const all = await cameras('county');
    expect(columns!.count).toBe(all.length);
    const byId = new Map(all.map((c) => [c.id, c]));
    for (let i = 0; i < columns!.count; i++) {
      const c = byId.get(columns!.ids[i]!)!;
      expect(c, `point ${columns!.ids[i]}`).toBeDefined();
      expect(Math.abs(columns!.lon[i]! / 1e6 - c.position.lon)).toBeLessThanOrEqual(5e-7);
      expect(Math.abs(columns!.lat[i]! / 1e6 - c.position.lat)).toBeLessThanOrEqual(5e-7);
      expect(columns!.networks[columns!.network[i]!]).toBe(c.networkId);
      expect(columns!.status[i]).toBe(STATUS_CODES[c.status]);
    }
  });

  it("gives a township its own points only, so its clusters never count another township's, at any zoom", async () => {
    const county = (await feed('county')).columns!;
    const t1 = (await feed('township1')).columns!;
    const t2 = (await feed('township2')).columns!;
    const own1 = sorted((await cameras('township1')).map((c) => c.id));
    const own2 = sorted((await cameras('township2')).map((c) => c.id));
    expect(own1.length).toBeGreaterThan(5);
    expect(own2.length).toBeGreaterThan(5);
    expect(sorted(t1.ids)).toEqual(own1);
    expect(sorted(t2.ids)).toEqual(own2);
    expect(own1.filter((id) => own2.includes(id))).toEqual([]);
    // The clusters the page draws: at every zoom they add up to the township's own points, while the
    // county's clusters over the same places count every township's.
    const i1 = new PointIndex(t1);
    const ic = new PointIndex(county);
    for (let z = 0; z <= CLUSTER_MAX_ZOOM; z++) {
      const total = (features: ReturnType<PointIndex['view']>) =>
        features.reduce((n, f) => n + ('cluster' in f.properties ? (f.properties as ClusterProps).point_count : 1), 0);
      expect(total(i1.view(WORLD, z)), `zoom ${z}`).toBe(own1.length);
      expect(total(ic.view(WORLD, z)), `zoom ${z}`).toBe(county.count);
    }
    // Zoomed out, the whole county is one cluster for the county officer; the township's holds its points only.
    const [countyCluster] = ic.view(WORLD, 0);
    const [townCluster] = i1.view(WORLD, 0);
    expect((countyCluster!.properties as ClusterProps).point_count).toBe(county.count);
    expect((townCluster!.properties as ClusterProps).point_count).toBe(own1.length);
    expect(own1.length).toBeLessThan(county.count);
  });

  it("takes the registry's filters inside the jurisdiction, and refuses another township's unit naming org", async () => {
    const xueliang = (await feed('township1', 'network=xueliang')).columns!;
    expect(sorted(xueliang.ids)).toEqual(sorted((await cameras('township1', 'network=xueliang')).map((c) => c.id)));
    expect(xueliang.networks).toEqual(['xueliang']);
    const me = ((await client(t.api, tokens['township2']).get('/auth/me')).json as { orgUnitId: number }).orgUnitId;
    const refused = await feed('township1', `org=${me}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error.fields).toEqual([expect.objectContaining({ path: 'org' })]);
  });

  it.each([
    ['network=Tian Wang', 'network'],
    ['status=broken', 'status'],
    ['bbox=1,2,3,4', 'bbox'],
  ])('%s is a 400 naming %s', async (query, field) => {
    const r = await feed('county', query);
    expect(r.status).toBe(400);
    expect((r.body.error.fields as { path: string }[]).map((f) => f.path)).toContain(field);
  });

  it('is a 401 without a session', async () => {
    expect((await feed('nobody')).status).toBe(401);
  });

  it('follows the registry: a status change is in the next answer', async () => {
    const before = (await feed('township1')).columns!;
    const id = before.ids[0]!;
    const from = before.status[0]!;
    const to = from === STATUS_CODES.online ? 'offline' : 'online';
    await t.server.app.repos.cameras.setStatus(id, to, null, new Date().toISOString(), to === 'online');
    const after = (await feed('township1')).columns!;
    expect(after.status[[...after.ids].indexOf(id)]).toBe(STATUS_CODES[to]);
  });
});

describe('the kept feed (server/src/wall/feed-cache.ts)', () => {
  /** Feeds served from the kept feed and read, so far (the server's ccc_point_feeds_total). */
  const served = async () => {
    const values = (await t.server.app.metrics.pointFeeds.get()).values;
    const of = (source: string) => values.find((v) => v.labels['source'] === source)?.value ?? 0;
    return { cache: of('cache'), read: of('read') };
  };
  const sqlite = process.env['CCC_STORAGE__DRIVER'] !== 'postgres';
  const lonOf = (c: PointColumns, id: number) => c.lon[[...c.ids].indexOf(id)];

  it('answers every change of a point, and nothing rolled back, on either engine; SQLite keeps it in between', async () => {
    const first = (await feed('county')).columns!;
    const start = await served();
    // Unchanged: the same answer (kept on SQLite).
    expect((await feed('county')).columns!.count).toBe(first.count);
    // A health sweep writing a status as it was changes nothing either.
    await t.store.run('UPDATE camera_points SET status = status, status_reason = status_reason');
    expect(sorted((await feed('county')).columns!.ids)).toEqual(sorted(first.ids));
    const kept = await served();
    if (sqlite) expect(kept).toEqual({ cache: start.cache + 2, read: start.read });
    else expect(kept).toEqual(start); // PostgreSQL reads it each time (no version kept)

    // A status changes (as all day long): the kept points, with every status as the registry has it now.
    const flip = first.ids[3]!;
    const was = first.status[3]!;
    const to = was === STATUS_CODES.online ? 'offline' : 'online';
    await t.server.app.repos.cameras.setStatus(flip, to, null, new Date().toISOString(), to === 'online');
    const now = (await feed('county')).columns!;
    const registry = new Map((await cameras('county')).map((c) => [c.id, STATUS_CODES[c.status]]));
    expect(registry.get(flip)).toBe(STATUS_CODES[to]);
    for (let i = 0; i < now.count; i++) expect(now.status[i], `point ${now.ids[i]}`).toBe(registry.get(now.ids[i]!));
    if (sqlite) expect((await served()).cache).toBe(kept.cache + 1);
    await t.server.app.repos.cameras.setStatus(flip, STATUS_OF_CODE[was]!, null, new Date().toISOString(), false);

    // A rolled-back move is not in the answer.
    const id = first.ids[0]!;
    await expect(
      t.store.transaction(async () => {
        await t.store.run('UPDATE camera_points SET lon = lon + 0.01 WHERE id = ?', [id]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(lonOf((await feed('county')).columns!, id)).toBe(lonOf(first, id));
    if (sqlite) expect((await served()).cache).toBe(kept.cache + 2);

    // A committed move, a new point and a removed one: each in the next answer.
    await t.store.run('UPDATE camera_points SET lon = lon + 0.01 WHERE id = ?', [id]);
    expect(lonOf((await feed('county')).columns!, id)).toBe(lonOf(first, id)! + 10_000);
    const tech = client(t.api, await t.login('tech'));
    const village = (await cameras('county'))[0]!.orgUnitId;
    const copy = {
      name: '缓存测试点位',
      networkId: 'tianwang',
      orgUnitId: village,
      position: { lon: 118.81, lat: 30.96 },
    };
    const made = await tech.post('/cameras', copy);
    expect(made.status, made.text).toBe(201);
    expect([...(await feed('county')).columns!.ids]).toContain(made.json.id);
    expect((await tech.del(`/cameras/${made.json.id}`)).status).toBe(204);
    expect([...(await feed('county')).columns!.ids]).not.toContain(made.json.id);
    // A township still gets its own points only, after the county's feed was kept.
    const own = (await feed('township1')).columns!;
    const mine = await cameras('township1');
    expect(sorted(own.ids)).toEqual(sorted(mine.map((c) => c.id)));
    await t.store.run('UPDATE camera_points SET lon = lon - 0.01 WHERE id = ?', [id]);
  });
});

describe('the wall feed read in chunks (the event loop free between them)', () => {
  const sortRows = (rows: unknown[][]) => rows.map((r) => JSON.stringify(r)).sort();
  const pathOf = (level: string) => t.server.app.repos.orgs.all().find((u) => u.level === level)!.path;

  it('reads exactly the rows of the one-piece read, each once, pausing after every full chunk', async () => {
    const walls = createWallRepo(t.server.app.store, () => new Date());
    for (const path of [pathOf('county'), pathOf('township')]) {
      let pauses = 0;
      const chunked = await walls.pointFeedRowsChunked(path, 7, () => {
        pauses++;
        return Promise.resolve();
      });
      const whole = await walls.pointFeedRows(path);
      expect(whole.length).toBeGreaterThan(14);
      expect(sortRows(chunked)).toEqual(sortRows(whole));
      expect(pauses).toBe(Math.floor(whole.length / 7));
    }
  });

  it('keeps a point moved between two chunks once', async () => {
    const walls = createWallRepo(t.server.app.store, () => new Date());
    const county = pathOf('county');
    const whole = await walls.pointFeedRows(county);
    const paths = await t.store.rows('SELECT id, org_path FROM camera_points ORDER BY org_path, id');
    const [firstId, firstPath] = paths[0]!;
    const lastPath = paths[paths.length - 1]![1]!;
    let moved = false;
    try {
      const chunked = await walls.pointFeedRowsChunked(county, 5, async () => {
        // Read in the first chunk, then moved past the cursor: the next chunks meet it again.
        if (!moved) await t.store.run('UPDATE camera_points SET org_path = ? WHERE id = ?', [lastPath, firstId!]);
        moved = true;
      });
      const ids = chunked.map((r) => Number(r[0]));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(whole.length);
    } finally {
      await t.store.run('UPDATE camera_points SET org_path = ? WHERE id = ?', [firstPath!, firstId!]);
    }
  });
});
