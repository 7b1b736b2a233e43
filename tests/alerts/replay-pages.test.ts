/**
 * Issue 13: replay pages shared between consoles. After `realtime:resync` every console of an instance asks
 * for the same pages at once; GET /alerts reads and serialises a page once for the requests for the same
 * full page of the same jurisdiction within a second (server/src/alerts/service.ts, listJson).
 *
 * - A full page (more changes follow it) is read once and given as it was to the next requests for a second.
 * - A last page is read every time: a console given an old one would stop short of alerts it never saw
 *   (the suite's Redis-outage test lost alerts so while last pages were shared too).
 * - Another jurisdiction asking for the same page numbers gets its own read, with only its own alerts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertView } from '../../server/src/api/contract.ts';
import type { OrgUnit } from '../../server/src/org/repo.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
const keys: string[] = [];
let townships: OrgUnit[] = [];
let reads = 0;

const centre = (u: OrgUnit) => {
  const ring = (u.boundary as { coordinates: number[][][] }).coordinates[0]!;
  return { lon: (ring[0]![0]! + ring[2]![0]!) / 2, lat: (ring[0]![1]! + ring[2]![1]!) / 2 };
};
const ingest = async (k: number, title: string) => {
  const village = t.server.app.repos.orgs.all().find((u) => u.parentId === townships[k]!.id)!;
  const res = await fetch(`${t.api}/alerts/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-device-key': keys[k]! },
    body: JSON.stringify({ type: 'intrusion', level: 'red', title, position: centre(village) }),
  });
  expect(res.status).toBe(201);
};

beforeAll(async () => {
  t = await startTestServer({
    townships: 2,
    villages: 1,
    cameras: 0,
    clock,
    // Every report an alert of its own (no folding of repeats at one place).
    overrides: { alerts: { stormWindowSeconds: 0 } },
  });
  const admin = client(t.api, await t.login('admin'));
  townships = t.server.app.repos.orgs
    .all()
    .filter((u) => u.level === 'township')
    .sort((a, b) => a.id - b.id);
  for (const tw of townships) {
    const r = await admin.post('/alert-sources', { name: `回放 ${tw.name}`, orgUnitId: tw.id });
    expect(r.status, r.text).toBe(201);
    keys.push(r.json.key as string);
  }
  // Counts the reads of alert changes (the replay's query) on the server's own store.
  const all = t.store.all.bind(t.store);
  t.store.all = ((sql: string, params?: readonly unknown[]) => {
    if (/FROM alerts WHERE org_path >= \? AND org_path < \? AND seq > \?/.test(sql)) reads++;
    return all(sql, params as never);
  }) as typeof t.store.all;
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('replay pages', () => {
  it('share a full page of one jurisdiction for a second, never a last page, never with another', async () => {
    await ingest(0, '一镇 1');
    await ingest(1, '二镇 1');
    await ingest(0, '一镇 2');
    const county = client(t.api, await t.login('county'));
    const town1 = client(t.api, await t.login('township1'));

    // A full page (more changes follow it): read once, then given as it was.
    reads = 0;
    const first = await county.get('/alerts?since=0&limit=2');
    expect((first.json.items as AlertView[]).map((a) => a.title)).toEqual(['一镇 1', '二镇 1']);
    expect(first.json.nextCursor).not.toBeNull();
    const again = await Promise.all(Array.from({ length: 7 }, () => county.get('/alerts?since=0&limit=2')));
    expect(new Set([first, ...again].map((p) => p.text)).size).toBe(1);
    expect(reads).toBe(1);

    // The same page numbers in another jurisdiction: its own read, its own alerts only. Its page is its last
    // (nothing follows it), so it is read every time.
    const own = await town1.get('/alerts?since=0&limit=2');
    expect((own.json.items as AlertView[]).map((a) => a.title)).toEqual(['一镇 1', '一镇 2']);
    expect(own.json.nextCursor).toBeNull();
    await town1.get('/alerts?since=0&limit=2');
    expect(reads).toBe(3);

    // The county's last page is read every time too, and holds what came since.
    const cursor = (first.json.items as AlertView[])[1]!.seq;
    expect((await county.get(`/alerts?since=${cursor}&limit=2`)).json.items).toHaveLength(1);
    await ingest(1, '二镇 2');
    const tail = await county.get(`/alerts?since=${cursor}&limit=2`);
    expect((tail.json.items as AlertView[]).map((a) => a.title)).toEqual(['一镇 2', '二镇 2']);
    expect(reads).toBe(5);

    // A second later the full page is read again.
    expect((await county.get('/alerts?since=0&limit=2')).text).toBe(first.text);
    expect(reads).toBe(5);
    offsetMs += 1_100;
    await county.get('/alerts?since=0&limit=2');
    expect(reads).toBe(6);
  });
});
