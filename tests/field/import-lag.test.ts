/**
 * Issue 12, item 7: a large ledger import does not stall the server. While a 20,000-row file is parsed (in a
 * worker thread) and written (in short transactions), /health/live keeps answering: answers arrive before
 * the first row is written and while the rows are being written. Before, parsing, checking and the one big
 * transaction held the event loop until the end, so no answer came in between. Ordering is asserted, not time
 * (the lag is `import.event_loop_lag200k.p99` in bench:registry).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { csvLine } from '../../server/src/csv/csv.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let tech: ReturnType<typeof client>;

beforeAll(async () => {
  t = await startTestServer({ cameras: 0 });
  tech = client(t.api, await t.login('tech'));
});

afterAll(async () => {
  await t?.close();
});

it(
  'answers /health/live while a 20,000-row import is parsed and while it is written; the import is whole',
  { timeout: 180_000 },
  async () => {
    const villages = ((await tech.get('/org-units')).json as { code: string; level: string }[]).filter(
      (o) => o.level === 'village',
    );
    const rows = 20_000;
    let csv = 'name,network,org_unit,lon,lat,main_stream_uri,username,password\n';
    for (let i = 0; i < rows; i++) {
      const v = villages[i % villages.length]!;
      csv += csvLine([
        `导入点位${i}`,
        'xueliang',
        v.code,
        118.7 + (i % 100) / 1000,
        31 + (i % 97) / 1000,
        `rtsp://10.${i >> 16}.${(i >> 8) & 255}.${i & 255}/1`,
        'admin',
        'pw12345',
      ]);
    }
    const written = async () =>
      (await t.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM camera_points WHERE import_id IS NOT NULL'))?.n ?? 0;
    let finished = false;
    const importing = tech.raw('POST', '/cameras/import', csv, 'text/csv').then(async (r) => {
      finished = true;
      return { status: r.status, json: (await r.json()) as { created: number; ok: boolean } };
    });
    const seen: number[] = [];
    while (!finished) {
      const live = await fetch(`${t.api}/health/live`);
      expect(live.status).toBe(200);
      if (!finished) seen.push(await written());
    }
    const result = await importing;
    expect(result.status).toBe(201);
    expect(result.json).toMatchObject({ ok: true, created: rows });
    expect(await written()).toBe(rows);
    // Answers came while the file was still being read and checked, and while its rows were being written.
    expect(seen.filter((n) => n === 0).length).toBeGreaterThanOrEqual(3);
    expect(seen.filter((n) => n > 0 && n < rows).length).toBeGreaterThanOrEqual(3);
  },
);
