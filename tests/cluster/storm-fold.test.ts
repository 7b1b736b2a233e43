/**
 * Storm folding across instances (issue 13): two servers on one database (a SQLite file, or under test:pg a
 * PostgreSQL database) take the same device's repeats at the same moment. Each report looks for the open
 * alert of its storm key and folds into it, or writes a new one: without a lock held across the look and the
 * write, PostgreSQL's READ COMMITTED lets several reports on both instances find none and write one each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, sharedDatabase, startTestServer, type SharedDatabase, type TestServer } from '../helpers/server.ts';

let shared: SharedDatabase;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  shared = await sharedDatabase();
  a = await startTestServer({ townships: 2, villages: 1, cameras: 0, shared });
  b = await startTestServer({ townships: 2, villages: 1, cameras: 0, shared });
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await shared?.drop();
});

describe('one storm, two instances', () => {
  it('folds 40 simultaneous repeats sent to both instances into one alert counting 40', async () => {
    const admin = client(a.api, await a.login('admin'));
    const county = a.server.app.repos.orgs.all().find((u) => u.parentId === null)!;
    const source = await admin.post('/alert-sources', {
      name: '跨实例风暴测试',
      orgUnitId: county.id,
      rateLimitPerMinute: 10_000,
    });
    expect(source.status).toBe(201);
    const village = a.server.app.repos.orgs.all().find((u) => u.level === 'village')!;
    const ring = (village.boundary as { coordinates: number[][][] }).coordinates[0]!;
    const position = { lon: (ring[0]![0]! + ring[2]![0]!) / 2, lat: (ring[0]![1]! + ring[2]![1]!) / 2 };
    const answers = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const r = await fetch(`${(i % 2 ? b : a).api}/alerts/ingest`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-device-key': source.json.key as string },
          body: JSON.stringify({ type: 'intrusion', level: 'yellow', position }),
        });
        return { status: r.status, id: ((await r.json()) as { id: number }).id };
      }),
    );
    expect(answers.map((r) => r.status).sort((x, y) => x - y)).toEqual([...Array<number>(39).fill(200), 201]);
    expect(new Set(answers.map((r) => r.id)).size).toBe(1);
    const alert = await admin.get(`/alerts/${answers[0]!.id}`);
    expect(alert.json.count).toBe(40);
    const rows = await a.store.all("SELECT id FROM alerts WHERE type = 'intrusion'");
    expect(rows).toHaveLength(1);
  });
});
