/**
 * Issue 13, registry text search on both engines. On PostgreSQL a term of two or more characters is first
 * narrowed through the index of character pairs (migration 19: a GIN index over every pair of neighbouring
 * characters of the search text) and then confirmed by the substring test (server/src/cameras/repo.ts).
 *
 * - The same answers as a plain substring test over every point, on SQLite and on PostgreSQL: terms of one,
 *   two and more characters, Chinese and Latin, a code, upper case, a term whose pairs all occur in a point
 *   but not together (`aba` in `abba`), and terms found nowhere.
 * - On PostgreSQL the planner takes a selective term through the index of character pairs (EXPLAIN), as the
 *   repository writes the query (after VACUUM: rows still in the index's pending list make it look dear).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cameraFilterSql, searchText, type CameraFields } from '../../server/src/cameras/repo.ts';
import { demoCameraFields } from '../../server/src/demo/seed.ts';
import { WHOLE_REGISTRY } from '../../server/src/org/scope.ts';
import { serviceAvailable } from '../alerts/services.ts';
import { createPostgresDatabase, startTestServer, type TestServer } from '../helpers/server.ts';

const havePostgres = await serviceAvailable('PostgreSQL', '127.0.0.1', 5432);

const TERMS = ['村', '路口', '李家村', '学校门口', '球机', '3499', 'ABBA', 'aba', 'bb', '不存在', 'zz'];

interface Engine {
  name: string;
  start(): Promise<{ t: TestServer; drop(): Promise<void> }>;
}
const engines: Engine[] = [
  {
    name: 'SQLite',
    async start() {
      const dir = mkdtempSync(path.join(tmpdir(), 'ccc-search-'));
      const t = await startTestServer({ cameras: 0, sqlitePath: path.join(dir, 'ccc.db') });
      return { t, drop: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
if (havePostgres)
  engines.push({
    name: 'PostgreSQL',
    async start() {
      const db = await createPostgresDatabase();
      const t = await startTestServer({ cameras: 0, shared: { postgresUrl: db.url, drop: db.drop } });
      return { t, drop: db.drop };
    },
  });

describe.each(engines)('registry text search on $name', (engine) => {
  let t: TestServer;
  let drop: () => Promise<void>;
  let all: { id: number; text: string }[];

  beforeAll(async () => {
    ({ t, drop } = await engine.start());
    const { orgs, cameras } = t.server.app.repos;
    const villages = orgs.all().filter((u) => u.level === 'village');
    const rows: CameraFields[] = demoCameraFields(villages, 3000, 7, null);
    // A point whose name holds every pair of `aba` (ab, ba) but not `aba`: only the substring test tells.
    rows.push({ ...rows[0]!, code: 'ABBA-0001', name: 'Abba 路 口', address: null });
    await cameras.insertMany(rows);
    if (t.store.dialect === 'postgres') await t.store.exec('VACUUM ANALYZE camera_points');
    const found = await cameras.search(WHOLE_REGISTRY, {}, 0, 10_000);
    all = found.rows.map((c) => ({ id: c.id, text: searchText(c) }));
    expect(all).toHaveLength(3001);
  });
  afterAll(async () => {
    await t?.close();
    await drop?.();
  });

  it.each(TERMS)('finds exactly the points that hold %s', async (term) => {
    const expected = all.filter((p) => p.text.includes(term.toLowerCase())).map((p) => p.id);
    const { rows, total } = await t.server.app.repos.cameras.search(WHOLE_REGISTRY, { q: term }, 0, 10_000, true);
    expect(rows.map((c) => c.id)).toEqual(expected);
    expect(total).toBe(expected.length);
  });

  // SQLite has no such index: it scans the narrow (org_path, search_text, …) index.
  if (engine.name === 'PostgreSQL')
    it('takes a selective term through the index of character pairs', async () => {
      const w = cameraFilterSql(t.store, WHOLE_REGISTRY, { q: 'abba' });
      const plan = await t.store.all<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT id FROM camera_points WHERE ${w.sql} ORDER BY id`,
        w.params,
      );
      expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Bitmap Index Scan on camera_points_search_pairs/);
    });
});
