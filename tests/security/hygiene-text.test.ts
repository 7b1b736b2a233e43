/**
 * The one text policy (server/src/http/text.ts) over real HTTP: names, addresses, URIs, order text,
 * CSV cells, scan targets and org units refuse bidi overrides and isolates, control characters,
 * unpaired surrogates and text that is blank once invisible characters are removed; they are
 * stored in NFC. Every refusal names the field and writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEXT_MESSAGES } from '../../server/src/http/text.ts';
import { client, firstVillage, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let tech: ReturnType<typeof client>;
let county: ReturnType<typeof client>;
let village = 0;
let villageCode = '';

const points = async () => (await t.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM camera_points'))!.n;
const orders = async () => (await t.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM work_orders'))!.n;
const camera = (extra: Record<string, unknown> = {}) => ({
  name: '文本策略点位',
  networkId: 'xueliang',
  orgUnitId: village,
  position: { lon: 118.8, lat: 30.95 },
  ...extra,
});

// What issue 11 found accepted in names, and their neighbours.
const HOSTILE: [string, string, string][] = [
  ['RLO override', '东门\u202egnp.exe', TEXT_MESSAGES.bidi],
  ['LRE embedding', '\u202a东门', TEXT_MESSAGES.bidi],
  ['RLI…PDI isolate', '东门\u2067路口\u2069', TEXT_MESSAGES.bidi],
  ['FSI isolate', '\u2068东门', TEXT_MESSAGES.bidi],
  ['RLM mark', '东门\u200f', TEXT_MESSAGES.bidi],
  ['zero-width only', '\u200b\u200b', TEXT_MESSAGES.blank],
  ['BOM and joiners only', '\ufeff\u200d\u2060', TEXT_MESSAGES.blank],
  ['lone high surrogate', '东门\ud800', TEXT_MESSAGES.surrogate],
  ['lone low surrogate', '\udc00东门', TEXT_MESSAGES.surrogate],
  ['BEL', '东门\u0007', TEXT_MESSAGES.control],
  ['ESC sequence', '\u001b[2J东门', TEXT_MESSAGES.control],
  ['C1 control', '东门\u009b', TEXT_MESSAGES.control],
  ['newline', '东门\n路口', TEXT_MESSAGES.control],
  ['line separator', '东门\u2028路口', TEXT_MESSAGES.control],
];

beforeAll(async () => {
  t = await startTestServer({ cameras: 10 });
  tech = client(t.api, await t.login('tech'));
  county = client(t.api, await t.login('county'));
  village = await firstVillage(tech);
  villageCode = ((await tech.get('/org-units')).json as { id: number; code: string }[]).find(
    (u) => u.id === village,
  )!.code;
});
afterAll(async () => t?.close());

describe('camera points', () => {
  it.each(HOSTILE)('name with %s is 400 naming name, nothing written', async (_label, name, message) => {
    const before = await points();
    const r = await tech.post('/cameras', camera({ name }));
    expect(r.status).toBe(400);
    expect(r.json.error.fields).toMatchObject([{ path: 'name', message }]);
    expect(await points()).toBe(before);
  });

  it.each(HOSTILE)('address with %s is 400 naming address', async (_label, address, message) => {
    const r = await tech.post('/cameras', camera({ address }));
    expect(r.status).toBe(400);
    expect(r.json.error.fields).toMatchObject([{ path: 'address', message }]);
  });

  it('a rename to a hostile name is refused and the point keeps its name', async () => {
    const c = (await tech.post('/cameras', camera())).json;
    const r = await tech.patch(`/cameras/${c.id}`, { name: '\u202e改名' });
    expect(r.status).toBe(400);
    expect((await tech.get(`/cameras/${c.id}`)).json.name).toBe('文本策略点位');
  });

  it('a URI with a bidi override, and a password with an unpaired surrogate, are refused', async () => {
    const uri = await tech.post('/cameras', camera({ mainStreamUri: 'rtsp://10.0.0.1/\u202eevil' }));
    expect(uri.status).toBe(400);
    expect(uri.json.error.fields).toMatchObject([{ path: 'mainStreamUri', message: TEXT_MESSAGES.bidi }]);
    const pw = await tech.post('/cameras', camera({ credentials: { username: 'admin', password: 'pw\ud800' } }));
    expect(pw.status).toBe(400);
    expect(pw.json.error.fields).toMatchObject([{ path: 'credentials.password', message: TEXT_MESSAGES.surrogate }]);
  });

  it('stores names in NFC, so one name typed two ways is one name', async () => {
    const r = await tech.post('/cameras', camera({ name: 'Cafe\u0301 路口', address: 'Ａ\u0301 decomposed' }));
    expect(r.status).toBe(201);
    expect(r.json.name).toBe('Café 路口');
    expect(r.json.name).toBe(r.json.name.normalize('NFC'));
    expect(
      (await tech.get(`/cameras?q=${encodeURIComponent('Café')}`)).json.items.map((x: { id: number }) => x.id),
    ).toContain(r.json.id);
  });

  it('still takes ordinary Chinese names with spaces, digits and emoji', async () => {
    const r = await tech.post('/cameras', camera({ name: '东门 1号 👩‍🚒 路口', address: '城关镇东门路 12 号' }));
    expect(r.status).toBe(201);
  });
});

describe('CSV import cells', () => {
  const header = 'name,network,org_unit,lon,lat\n';
  const importCsv = async (csv: string) => {
    const r = await tech.raw('POST', '/cameras/import', csv, 'text/csv');
    return { status: r.status, json: (await r.json()) as any };
  };

  it('refuses a hostile name cell by line and column, and writes none of the file', async () => {
    const before = await points();
    const r = await importCsv(
      header + `好点位,xueliang,${villageCode},118.8,30.95\n东门\u202egnp.exe,xueliang,${villageCode},118.8,30.95\n`,
    );
    expect(r.status).toBe(422);
    expect(r.json.errors).toMatchObject([{ line: 3, field: 'name', message: TEXT_MESSAGES.bidi }]);
    expect(await points()).toBe(before);
  });

  it('refuses a hostile lookup cell without quoting it back', async () => {
    const r = await importCsv(header + `点位,xueliang\u202e\u0007,${villageCode}\u2066,118.8,30.95\n`);
    expect(r.status).toBe(422);
    expect(r.json.errors).toMatchObject([
      { line: 2, field: 'network', message: TEXT_MESSAGES.control },
      { line: 2, field: 'org_unit', message: TEXT_MESSAGES.bidi },
    ]);
    expect(JSON.stringify(r.json)).not.toMatch(/\\u202e|\\u0007|\\u2066|\u202e|\u2066/);
  });

  it('refuses a name that is blank once invisible characters are removed', async () => {
    const r = await importCsv(header + `\u200b\ufeff,xueliang,${villageCode},118.8,30.95\n`);
    expect(r.status).toBe(422);
    expect(r.json.errors).toMatchObject([{ line: 2, field: 'name', message: TEXT_MESSAGES.blank }]);
  });
});

describe('work orders', () => {
  const order = (extra: Record<string, unknown>) => ({
    title: '占道经营',
    level: 'blue',
    orgUnitId: village,
    ...extra,
  });

  it.each(HOSTILE)('title with %s is 400 naming title', async (_label, title, message) => {
    const before = await orders();
    const r = await county.post('/orders', order({ title }));
    expect(r.status).toBe(400);
    expect(r.json.error.fields).toMatchObject([{ path: 'title', message }]);
    expect(await orders()).toBe(before);
  });

  it('descriptions keep newlines and tabs, and refuse bidi overrides and other controls', async () => {
    const ok = await county.post('/orders', order({ description: '第一行\n\t第二行' }));
    expect(ok.status).toBe(201);
    for (const [description, message] of [
      ['说明\u202e', TEXT_MESSAGES.bidi],
      ['说明\u0007', TEXT_MESSAGES.control],
      ['说明\r\n第二行', TEXT_MESSAGES.control],
      ['\u2066\u2069', TEXT_MESSAGES.bidi],
    ] as const) {
      const r = await county.post('/orders', order({ description }));
      expect(r.status).toBe(400);
      expect(r.json.error.fields).toMatchObject([{ path: 'description', message }]);
    }
  });

  it('a step note with a bidi override is refused and the order does not move', async () => {
    const o = (await county.post('/orders', order({ assignTo: 'hold' }))).json;
    const r = await county.post(`/orders/${o.id}/close`, { note: '已处置\u202e' });
    expect(r.status).toBe(400);
    expect(r.json.error.fields).toMatchObject([{ path: 'note', message: TEXT_MESSAGES.bidi }]);
    expect((await county.get(`/orders/${o.id}`)).json.state).toBe(o.state);
  });
});

describe('other text', () => {
  it('a scan target with a bidi override is refused before anything is probed', async () => {
    const r = await tech.post('/discovery/scans', { mode: 'manual', address: '127.0.0.1\u202e' });
    expect(r.status).toBe(400);
    expect(r.json.error.fields).toMatchObject([{ path: 'address', message: TEXT_MESSAGES.bidi }]);
  });

  it('org units follow the policy too (they come from configuration, not requests)', async () => {
    const { orgs } = t.server.app.repos;
    await expect(
      orgs.insert({ parentId: village, code: '349901999001', name: '新村\u202e', level: 'village' }),
    ).rejects.toThrow(/name: must not contain bidirectional/);
    await expect(
      orgs.insert({ parentId: village, code: '349901999002', name: '\u200b', level: 'village' }),
    ).rejects.toThrow(/name: must not be empty/);
    expect(
      (await orgs.insert({ parentId: village, code: '349901999003', name: 'Cafe\u0301村', level: 'village' })).name,
    ).toBe('Café村');
  });
});
