/** CSV ledger import and export over real HTTP: all-or-nothing, every bad row reported. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
let t: TestServer;
let tech: ReturnType<typeof client>;
const total = async () => (await tech.get('/cameras?limit=1&withTotal=1')).json.total as number;
const importCsv = async (body: NonNullable<RequestInit['body']>, type = 'text/csv', qs = '') => {
  const res = await tech.raw('POST', `/cameras/import${qs}`, body, type);
  return { status: res.status, json: (await res.json()) as any };
};

beforeAll(async () => {
  t = await startTestServer({ cameras: 20 });
  tech = client(t.api, await t.login('tech'));
});
afterAll(async () => t?.close());

describe('import', () => {
  it('imports a GBK ledger with Chinese headers, converting GCJ-02 and BD-09', async () => {
    const before = await total();
    const r = await importCsv(fixture('ledger-gbk.csv'));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ ok: true, rows: 3, created: 3, encoding: 'gb18030', errors: [] });
    expect(await total()).toBe(before + 3);
    const found = (await tech.get(`/cameras?q=${encodeURIComponent('王庄村卫生室,西侧')}`)).json.items;
    expect(found).toHaveLength(1);
    expect(found[0].networkId).toBe('urban');
    const dome = (await tech.get('/cameras?q=34990100001318800002')).json.items[0];
    expect(dome).toMatchObject({ networkId: 'tianwang', ptz: true, coordSource: 'bd09', hasCredentials: true });
    // BD-09 input moves by a few hundred metres on conversion.
    expect(Math.abs(dome.position.lon - 118.6601)).toBeGreaterThan(0.005);
  });

  it('rejects a file with bad rows: reports every one by line, writes nothing', async () => {
    const before = await total();
    const r = await importCsv(fixture('ledger-bad.csv'));
    expect(r.status).toBe(422);
    expect(r.json.ok).toBe(false);
    expect(r.json.created).toBe(0);
    const byLine = new Map<number, string[]>();
    for (const e of r.json.errors as { line: number; field: string; message: string }[]) {
      byLine.set(e.line, [...(byLine.get(e.line) ?? []), e.field]);
    }
    expect(byLine.get(3)).toContain('lon'); // missing longitude
    expect(byLine.get(4)).toContain('lon'); // out of range
    expect(byLine.get(5)).toContain('network');
    expect(byLine.get(6)).toContain('org_unit');
    expect(byLine.get(7)).toContain('code'); // duplicate of line 2
    expect(byLine.get(8)).toContain('code'); // not 20 digits
    expect(byLine.get(9)).toContain('coord_system');
    expect(byLine.get(10)).toContain('ptz');
    expect(byLine.get(13)).toContain('row'); // too few fields: line 11 holds a two-line quoted name
    expect(byLine.has(2)).toBe(false);
    expect(byLine.get(11)).toContain('name'); // a newline inside a quoted name is refused
    expect(byLine.has(14)).toBe(false);
    expect(await total()).toBe(before);
  });

  it('rejects a row whose code is already registered, naming the line', async () => {
    const existing = (await tech.get('/cameras?limit=1')).json.items[0].code as string;
    const before = await total();
    const csv = `code,name,network,org_unit,lon,lat\n34990100001317700001,新点位,xueliang,349901001001,118.7,31\n${existing},撞码,xueliang,349901001001,118.7,31\n`;
    const r = await importCsv(csv);
    expect(r.status).toBe(422);
    expect(r.json.errors).toMatchObject([{ line: 3, field: 'code', message: 'already registered' }]);
    expect(await total()).toBe(before);
  });

  it.each([
    ['unknown column', 'name,network,org_unit,lon,lat,colour\n', 'colour'],
    ['missing required column', 'name,network,lon,lat\n', 'org_unit'],
    ['duplicate column', 'name,名称,network,org_unit,lon,lat\n', '名称'],
  ])('header problem: %s', async (_l, csv, field) => {
    const r = await importCsv(csv + 'a,b,c,d,e,f\n');
    expect(r.status).toBe(422);
    expect(r.json.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('rejects broken CSV quoting with the line', async () => {
    const r = await importCsv('name,network,org_unit,lon,lat\n"unterminated,xueliang,349901001001,1,1\n');
    expect(r.status).toBe(422);
    expect(r.json.errors[0]).toMatchObject({ line: 2, field: 'row' });
  });

  it('rejects bytes that are neither UTF-8 nor GB18030', async () => {
    const r = await importCsv(Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x0a, 0xff, 0xff, 0xff, 0x80]));
    expect(r.status).toBe(400);
    expect(r.json.error.fields[0].path).toBe('body');
  });

  it('rejects an empty file and one with no data rows', async () => {
    expect((await importCsv('')).status).toBe(400);
    const r = await importCsv('name,network,org_unit,lon,lat\n');
    expect(r.status).toBe(422);
  });

  it('rejects a non-CSV content type with 415', async () => {
    expect((await importCsv('{}', 'application/json')).status).toBe(415);
  });

  it('is all or nothing at write time too: a row the database refuses leaves none of the file', async () => {
    // Every other refusal here happens at validation, before any row is written, so they would
    // pass without the import's transaction. This row passes validation and fails in the INSERT
    // itself (a trigger on this test's own database), after the rows before it were written.
    const pg = t.store.dialect === 'postgres';
    await t.store.exec(
      pg
        ? "CREATE FUNCTION test_import_write_fails() RETURNS trigger AS $$ BEGIN IF NEW.name = '写入时失败' THEN " +
            "RAISE EXCEPTION 'simulated write failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql; " +
            'CREATE TRIGGER test_import_write_fails BEFORE INSERT ON camera_points FOR EACH ROW ' +
            'EXECUTE FUNCTION test_import_write_fails()'
        : "CREATE TRIGGER test_import_write_fails BEFORE INSERT ON camera_points WHEN NEW.name = '写入时失败' " +
            "BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END",
    );
    try {
      const before = await total();
      const org = '349901001001';
      const csv =
        'name,network,org_unit,lon,lat\n' +
        `事务第一行,xueliang,${org},118.7,31\n事务第二行,xueliang,${org},118.7,31\n写入时失败,xueliang,${org},118.7,31\n`;
      const r = await importCsv(csv);
      expect(r.status).toBe(500);
      expect(await total()).toBe(before);
      expect(await t.store.all("SELECT id FROM camera_points WHERE name IN ('事务第一行', '事务第二行')")).toEqual([]);
    } finally {
      await t.store.exec(
        pg
          ? 'DROP TRIGGER test_import_write_fails ON camera_points; DROP FUNCTION test_import_write_fails()'
          : 'DROP TRIGGER test_import_write_fails',
      );
    }
    // The same file without the poisoned row imports whole.
    const ok = await importCsv(
      'name,network,org_unit,lon,lat\n事务第一行,xueliang,349901001001,118.7,31\n事务第二行,xueliang,349901001001,118.7,31\n',
    );
    expect(ok.status).toBe(201);
    expect(ok.json.created).toBe(2);
  });

  it('rejects an unknown query parameter', async () => {
    const r = await importCsv('name,network,org_unit,lon,lat\n', 'text/csv', '?mode=upsert');
    expect(r.status).toBe(400);
  });
});

describe('export', () => {
  it('exports UTF-8 with BOM, no credentials, formulas defused, and re-imports cleanly', async () => {
    const res = await fetch(`${t.api}/cameras/export.csv?q=${encodeURIComponent('李家村')}`, {
      headers: { authorization: `Bearer ${await t.login('tech')}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const buf = Buffer.from(await res.arrayBuffer());
    expect([...buf.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = buf.toString('utf8');
    expect(text).not.toContain('Hik@12345');
    expect(text).not.toMatch(/password/i);
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,code,name,network,org_unit,lon,lat,coord_system,address,direction,fov,onvif_url,main_stream_uri,sub_stream_uri,ptz,status',
    );
    expect(lines.length).toBeGreaterThan(1);

    // A formula-looking name is written defused.
    await tech.post('/cameras', {
      name: '=1+2',
      networkId: 'xueliang',
      orgUnitId: (await tech.get('/cameras?limit=1')).json.items[0].orgUnitId,
      position: { lon: 118.7, lat: 31 },
    });
    const all = await (
      await fetch(`${t.api}/cameras/export.csv`, { headers: { authorization: `Bearer ${await t.login('tech')}` } })
    ).text();
    expect(all).toContain(",'=1+2,");

    // Round trip: the export of a point, with its code changed, imports as a new point.
    const row = lines[1]!.replace(/^\d+,\d{20}/, (m) => m.replace(/\d{20}$/, '34990100001316600001'));
    const r = await importCsv(`${lines[0]}\n${row}\n`);
    expect(r.json.errors).toEqual([]);
    expect(r.status).toBe(201);
  });

  it('is audited', async () => {
    const admin = client(t.api, await t.login('admin'));
    const items = (await admin.get('/audit?action=camera.export')).json.items as { username: string }[];
    expect(items.length).toBeGreaterThan(0);
    const imports = (await admin.get('/audit?action=camera.import')).json.items as { outcome: string }[];
    expect(imports.map((i) => i.outcome)).toEqual(expect.arrayContaining(['ok', 'failed']));
  });
});
