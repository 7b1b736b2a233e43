/**
 * The alert list over real HTTP (issue 17): filters by level, type, status,
 * place, time and text, keyset paging, the CSV export (scoped, audited,
 * formula cells defused), bad input naming its field, and jurisdiction: a
 * township never finds, counts or exports another township's alerts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertView, CameraPointView, OrgUnitView, Page } from '../../server/src/api/contract.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let county: ReturnType<typeof client>;
let township1: ReturnType<typeof client>;
let township2: ReturnType<typeof client>;
let key = '';
let nowMs = Date.parse('2026-11-01T02:00:00.000Z');
const clock = { now: () => new Date(nowMs) };
let t1Unit: OrgUnitView;
let t2Unit: OrgUnitView;
let t1Cams: CameraPointView[] = [];
let t2Cams: CameraPointView[] = [];
const made: Record<string, AlertView> = {};

async function ingest(name: string, body: Record<string, unknown>, at: string): Promise<AlertView> {
  nowMs = Date.parse(at);
  const res = await fetch(`${t.api}/alerts/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-device-key': key },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as AlertView;
  expect(res.status, JSON.stringify(json)).toBe(201);
  made[name] = json;
  return json;
}

const ids = (page: Page<AlertView>) => page.items.map((a) => a.id);
const search = async (who: ReturnType<typeof client>, query: string) => {
  const r = await who.get(`/alerts/search?${query}`);
  expect(r.status, r.text).toBe(200);
  return r.json as Page<AlertView>;
};

beforeAll(async () => {
  t = await startTestServer({ cameras: 60, clock });
  const admin = client(t.api, await t.login('admin'));
  county = client(t.api, await t.login('county'));
  township1 = client(t.api, await t.login('township1'));
  township2 = client(t.api, await t.login('township2'));
  const units = (await admin.get('/org-units')).json as OrgUnitView[];
  const root = units.find((u) => u.parentId === null)!;
  const me1 = (await township1.get('/auth/me')).json as { orgUnitId: number };
  const me2 = (await township2.get('/auth/me')).json as { orgUnitId: number };
  t1Unit = units.find((u) => u.id === me1.orgUnitId)!;
  t2Unit = units.find((u) => u.id === me2.orgUnitId)!;
  t1Cams = ((await township1.get('/cameras?limit=10')).json as Page<CameraPointView>).items;
  t2Cams = ((await township2.get('/cameras?limit=10')).json as Page<CameraPointView>).items;
  expect(t1Cams.length).toBeGreaterThan(3);
  expect(t2Cams.length).toBeGreaterThan(3);
  const source = await admin.post('/alert-sources', { name: '列表测试', orgUnitId: root.id });
  key = source.json.key as string;
  await ingest(
    't1red',
    { type: 'alarm_button', level: 'red', cameraId: t1Cams[0]!.id, title: '学校门口一键报警' },
    '2026-11-01T01:00:00.000Z',
  );
  await ingest(
    't1fire',
    { type: 'fire', level: 'orange', cameraId: t1Cams[1]!.id, title: '仓库烟火', description: '东侧仓库冒烟' },
    '2026-11-01T03:00:00.000Z',
  );
  await ingest(
    't1blue',
    { type: 'motion', level: 'blue', cameraId: t1Cams[2]!.id, title: '=HYPERLINK("x")' },
    '2026-11-02T03:00:00.000Z',
  );
  await ingest(
    't2red',
    { type: 'alarm_button', level: 'red', cameraId: t2Cams[0]!.id, title: '东湖学校一键报警' },
    '2026-11-01T05:00:00.000Z',
  );
  await ingest(
    't2crowd',
    { type: 'crowd', level: 'yellow', cameraId: t2Cams[1]!.id, title: '广场人员聚集' },
    '2026-11-03T05:00:00.000Z',
  );
  // Sessions opened before the clock moved on have expired: sign in again.
  nowMs = Date.parse('2026-11-04T00:00:00.000Z');
  county = client(t.api, await t.login('county'));
  township1 = client(t.api, await t.login('township1'));
  township2 = client(t.api, await t.login('township2'));
  expect((await county.post(`/alerts/${made['t1fire']!.id}/ack`, {})).status).toBe(200);
});
afterAll(async () => t?.close());

describe('filters', () => {
  it('lists every alert of the county newest first, with a total', async () => {
    const page = await search(county, 'limit=50');
    expect(ids(page)).toEqual(['t2crowd', 't1blue', 't2red', 't1fire', 't1red'].map((n) => made[n]!.id));
    expect(page.total).toBe(5);
  });

  it('by level, type and status (comma lists)', async () => {
    expect(ids(await search(county, 'level=red'))).toEqual([made['t2red']!.id, made['t1red']!.id]);
    expect(ids(await search(county, 'level=red,orange&type=fire'))).toEqual([made['t1fire']!.id]);
    expect(ids(await search(county, 'status=acknowledged'))).toEqual([made['t1fire']!.id]);
  });

  it('by place: an org unit and everything under it', async () => {
    const page = await search(county, `org=${t1Unit.id}`);
    expect(new Set(ids(page))).toEqual(new Set(['t1red', 't1fire', 't1blue'].map((n) => made[n]!.id)));
    expect(page.total).toBe(3);
  });

  it('by time: alerts active inside [from, to]', async () => {
    const from = encodeURIComponent('2026-11-01T10:00:00+08:00'); // 02:00 UTC
    const to = encodeURIComponent('2026-11-02T12:00:00+08:00'); // 04:00 UTC
    expect(new Set(ids(await search(county, `from=${from}&to=${to}`)))).toEqual(
      new Set(['t1fire', 't1blue', 't2red'].map((n) => made[n]!.id)),
    );
  });

  it('by text in the title or description, or by number', async () => {
    expect(ids(await search(county, `q=${encodeURIComponent('学校')}`))).toEqual([
      made['t2red']!.id,
      made['t1red']!.id,
    ]);
    expect(ids(await search(county, `q=${encodeURIComponent('冒烟')}`))).toEqual([made['t1fire']!.id]);
    expect(ids(await search(county, `q=${encodeURIComponent(`#${made['t2crowd']!.id}`)}`))).toEqual([
      made['t2crowd']!.id,
    ]);
  });

  it('pages with a cursor, each alert once', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<AlertView> = await search(county, `limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids(await search(county, 'limit=50')));
  });
});

describe('jurisdiction', () => {
  it('a township finds and counts only its own alerts, whatever it searches for', async () => {
    const all = await search(township1, 'limit=50');
    expect(new Set(ids(all))).toEqual(new Set(['t1red', 't1fire', 't1blue'].map((n) => made[n]!.id)));
    expect(all.total).toBe(3);
    const school = await search(township1, `q=${encodeURIComponent('东湖学校')}`);
    expect(school.items).toEqual([]);
    expect(school.total).toBe(0);
    const byNumber = await search(township1, `q=${made['t2red']!.id}`);
    expect(byNumber.total).toBe(0);
    expect((await search(township2, 'level=red')).items.map((a) => a.id)).toEqual([made['t2red']!.id]);
  });

  it("another township's unit as a place filter is refused, naming org", async () => {
    for (const path of [`/alerts/search?org=${t2Unit.id}`, `/alerts/export.csv?org=${t2Unit.id}`]) {
      const r = await township1.get(path);
      expect(r.status).toBe(403);
      expect(r.json.error.fields).toEqual([expect.objectContaining({ path: 'org' })]);
    }
  });
});

describe('export', () => {
  it("writes the township's selection as CSV with a BOM, defused formulas, and an audit row", async () => {
    const r = await township1.get('/alerts/export.csv');
    expect(r.status).toBe(200);
    // fetch's text() drops a BOM: read the bytes.
    const raw = await fetch(`${t.api}/alerts/export.csv`, {
      headers: { authorization: `Bearer ${await t.login('township1')}` },
    });
    expect([...new Uint8Array(await raw.arrayBuffer()).slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(r.headers.get('content-type')).toContain('text/csv');
    expect(r.headers.get('content-disposition')).toMatch(/attachment; filename="alerts-/);
    expect(r.text.startsWith('编号,级别,类型,状态,内容')).toBe(true);
    const lines = r.text.trim().split('\r\n');
    expect(lines).toHaveLength(4);
    expect(r.text).toContain('学校门口一键报警');
    expect(r.text).toContain('红色,一键报警,新告警');
    expect(r.text).toContain('2026-11-01T09:00:00+08:00');
    expect(r.text).not.toContain('东湖');
    // A title a spreadsheet would run: written as text.
    expect(r.text).toContain(`"'=HYPERLINK(""x"")"`);
    const en = await county.get('/alerts/export.csv?header=en&level=red');
    expect(en.text.split('\r\n')[0]).toBe(
      'id,level,type,status,title,description,orgUnit,longitude,latitude,firstAt,lastAt,count,cameraId,linkedCameraIds,previousAlertId',
    );
    expect(en.text.trim().split('\r\n')).toHaveLength(3);
    const audit = await t.store.all<{ username: string; detail: string }>(
      "SELECT username, detail FROM audit_log WHERE action = 'alert.export' ORDER BY id",
    );
    expect(audit.map((a) => a.username)).toEqual(['township1', 'township1', 'county']);
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ rows: 3 });
    expect(JSON.parse(audit[2]!.detail)).toMatchObject({ rows: 2, filter: { header: 'en', level: 'red' } });
  });
});

describe('bad input is a 400 naming the field', () => {
  it.each([
    ['level=purple', 'level'],
    ['type=fire,unknown', 'type'],
    ['status=open', 'status'],
    ['from=yesterday', 'from'],
    [`from=${encodeURIComponent('2026-11-02T00:00:00Z')}&to=${encodeURIComponent('2026-11-01T00:00:00Z')}`, 'to'],
    ['limit=0', 'limit'],
    ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ['org=abc', 'org'],
    ['sort=asc', 'sort'],
  ])('%s', async (query, field) => {
    const r = await county.get(`/alerts/search?${query}`);
    expect(r.status).toBe(400);
    const paths = (r.json.error.fields as { path: string }[]).map((f) => f.path);
    expect(paths).toContain(field);
  });
});

describe('the detail', () => {
  it('names the work order made of the alert', async () => {
    const before = await county.get(`/alerts/${made['t1red']!.id}`);
    expect(before.json.orderId).toBeNull();
    const order = await county.post('/orders', { alertId: made['t1red']!.id });
    expect(order.status, order.text).toBe(201);
    const after = await county.get(`/alerts/${made['t1red']!.id}`);
    expect(after.json.orderId).toBe(order.json.id);
  });
});
