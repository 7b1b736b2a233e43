/**
 * 视频质量诊断 end to end (issue 16), against the simulator's faulty cameras over real RTSP and ffmpeg:
 * a first sweep finds every camera good and takes its reference; then each camera gets its fault and a
 * township sweep must find exactly that fault and nothing on the good ones (a confusion matrix is printed;
 * the test fails below 95 %). Then: a technician renews a moved camera's reference; occlusion raises an
 * alert; township scope on results, thumbnails, counts, pushes and reports; the xlsx holds numbers equal to
 * the API's; the PDF opens and its text has the totals.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type {
  AlertView,
  IntactRateReport,
  QualityChangedEvent,
  QualityPointDetail,
  QualityPointView,
  ReportView,
} from '../../server/src/api/contract.ts';
import {
  client,
  listenAs,
  registerSimCamera,
  settle,
  startTestServer,
  type TestServer,
  type TypedSocket,
} from '../helpers/server.ts';
import { EXPECTED, confusion, simFaultsOf, type Injected } from './fault-set.ts';

/** Township 1 gets every kind; township 2 two good cameras (for scope). */
const T1: Injected[] = [
  'good',
  'good',
  'black',
  'dark',
  'overexposed',
  'frozen',
  'blurred',
  'covered',
  'colorCast',
  'noisy',
  'moved',
  'offline',
];
const T2: Injected[] = ['good', 'good'];

let t: TestServer;
let sim: Simulator;
let block: LoopbackBlock;
const clipDir = mkdtempSync(path.join(tmpdir(), 'ccc-quality-clips-'));
const ids: number[] = [];
const t2ids: number[] = [];
let township1 = 0;
let township2 = 0;
let tech: ReturnType<typeof client>;
const sockets: TypedSocket[] = [];
let heardT2: QualityChangedEvent[] = [];
let heardT1: QualityChangedEvent[] = [];

const sweepAndWait = async (c: ReturnType<typeof client>, body: Record<string, unknown>) => {
  const r = await c.post('/quality/sweeps', body);
  expect(r.status, r.text).toBe(202);
  await t.server.app.quality.settled();
  return r.json as { id: number; total: number };
};
const pointOf = async (c: ReturnType<typeof client>, id: number) =>
  (await c.get(`/quality/points/${id}`)).json as QualityPointDetail;

beforeAll(async () => {
  t = await startTestServer({
    cameras: 0,
    diagnosis: true,
    overrides: { quality: { concurrency: 4, timeoutMs: 12_000, alerts: { occlusion: 'yellow', sceneChange: 'blue' } } },
  });
  const all = [...T1, ...T2];
  block = await claimLoopbackBlock();
  const specs = defaultCameraSpecs(all.length, { firstIp: block.host(1), seed: 16 }).map((s) => ({
    ...s,
    clockOffsetSec: 0,
    faults: {},
  }));
  sim = await startSimulator({
    cameras: specs,
    clipDir,
    discovery: false,
    streamOverrides: { main: { width: 320, height: 180, fps: 10 }, sub: { width: 480, height: 270, fps: 15 } },
    prewarm: { stream: 'sub' },
  });
  tech = client(t.api, await t.login('tech'));
  const units = (await tech.get('/org-units')).json as { id: number; parentId: number | null; level: string }[];
  township1 = (await client(t.api, await t.login('township1')).get('/auth/me')).json.orgUnitId as number;
  township2 = (await client(t.api, await t.login('township2')).get('/auth/me')).json.orgUnitId as number;
  const village = (town: number) => units.find((u) => u.parentId === town)!.id;
  for (const [i, cam] of sim.cameras.entries()) {
    const id = await registerSimCamera(tech, cam, {
      name: `诊断${i}`,
      orgUnitId: village(i < T1.length ? township1 : township2),
      ptz: false,
    });
    (i < T1.length ? ids : t2ids).push(id);
  }
  for (;;) {
    const s = sim.stats();
    if (s.prewarmQueued + s.prewarmRunning + s.ffmpegRunning === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const one = await listenAs(t, 'township1', 'quality:changed');
  const two = await listenAs(t, 'township2', 'quality:changed');
  heardT1 = one.heard;
  heardT2 = two.heard;
  sockets.push(one.socket, two.socket);
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await t?.close();
  await sim?.stop();
  await block?.release();
  rmSync(clipDir, { recursive: true, force: true });
});

describe('diagnosis against the simulator', () => {
  it('finds every camera good at first and takes its reference', async () => {
    const sweep = await sweepAndWait(tech, {});
    expect(sweep.total).toBe(ids.length + t2ids.length);
    for (const id of [...ids, ...t2ids]) {
      const p = await pointOf(tech, id);
      expect(p.quality, `camera ${id}: ${p.kinds.join(',')} ${p.reason ?? ''}`).toBe('good');
      expect(p.referenceAt).not.toBeNull();
      expect(p.hasThumbnail).toBe(true);
    }
  }, 120_000);

  it('finds each fault on its camera and none on the good ones (confusion matrix)', async () => {
    for (const [i, injected] of T1.entries()) await sim.setFaults(sim.cameras[i]!.code, simFaultsOf(injected));
    // The faulty clips encoded first: the sweep should judge cameras, not wait for the simulator's encoder.
    await sim.prepareClips(
      sim.cameras.map((c) => c.code),
      'sub',
    );
    // Health would have seen the offline camera; the sweep skips probing offline points.
    await t.server.app.health.sweep();
    heardT1.length = 0;
    heardT2.length = 0;
    const t1 = client(t.api, await t.login('tech1'));
    const sweep = await sweepAndWait(t1, { orgUnitId: township1 });
    expect(sweep.total).toBe(ids.length);
    const outcomes = [];
    for (const [i, injected] of T1.entries()) outcomes.push({ injected, kinds: (await pointOf(t1, ids[i]!)).kinds });
    const m = confusion(outcomes);
    console.log(`diagnosis confusion matrix (rows: injected, columns: main fault found)\n${m.table}`);
    expect(m.accuracy, m.table).toBeGreaterThanOrEqual(0.95);
    for (const [i, injected] of T1.entries()) expect((await pointOf(t1, ids[i]!)).kinds).toEqual(EXPECTED[injected]);
    // Pushed to township 1, not to township 2.
    await settle(sockets);
    expect(heardT1.map((e) => e.cameraId).sort((a, b) => a - b)).toEqual(
      ids.filter((_, i) => T1[i] !== 'good').sort((a, b) => a - b),
    );
    expect(heardT2).toEqual([]);
  }, 180_000);

  it('raises an alert for occlusion and scene change', async () => {
    const list = (await tech.get('/alerts?limit=200')).json as { items: AlertView[] };
    const covered = ids[T1.indexOf('covered')];
    const moved = ids[T1.indexOf('moved')];
    const occl = list.items.find((a) => a.cameraId === covered && a.type === 'tamper');
    const scene = list.items.find((a) => a.cameraId === moved && a.type === 'tamper');
    expect(occl?.level).toBe('yellow');
    expect(scene?.level).toBe('blue');
  });

  it("shows a moved camera's reference beside today's picture, and a technician renews it", async () => {
    const moved = ids[T1.indexOf('moved')]!;
    const t1 = client(t.api, await t.login('tech1'));
    const before = await pointOf(t1, moved);
    expect(before.kinds).toEqual(['scene_change']);
    const ref = await fetch(`${t.api}/quality/points/${moved}/reference.jpg`, {
      headers: { authorization: `Bearer ${await t.login('tech1')}` },
    });
    expect(ref.headers.get('content-type')).toBe('image/jpeg');
    const today = await fetch(`${t.api}/quality/checks/${before.lastCheckId}/thumbnail.jpg`, {
      headers: { authorization: `Bearer ${await t.login('tech1')}` },
    });
    expect(Buffer.from(await today.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    // township2 has no quality.manage; the county technician could, but not on an unknown id.
    expect((await client(t.api, await t.login('township2')).post(`/quality/points/${moved}/reference`)).status).toBe(
      403,
    );
    const renewed = (await t1.post(`/quality/points/${moved}/reference`)).json as QualityPointDetail;
    expect(renewed.quality).toBe('good');
    expect(renewed.kinds).toEqual([]);
    expect(renewed.referenceBy).toBe('tech1');
    // The next diagnosis judges against the new reference: still good.
    await sweepAndWait(t1, { orgUnitId: township1 });
    expect((await pointOf(t1, moved)).kinds).toEqual([]);
    // A point whose latest picture is unusable (black) cannot become a reference.
    const black = ids[T1.indexOf('black')]!;
    expect((await t1.post(`/quality/points/${black}/reference`)).status).toBe(409);
  }, 120_000);
});

describe('jurisdiction', () => {
  it('never shows a township another township’s results, thumbnails or counts', async () => {
    const t2 = client(t.api, await t.login('township2'));
    const list = (await t2.get('/quality/points?limit=500')).json as { items: QualityPointView[] };
    expect(list.items.map((p) => p.cameraId).sort((a, b) => a - b)).toEqual([...t2ids].sort((a, b) => a - b));
    const other = await pointOf(tech, ids[0]!);
    const asT2 = await t2.get(`/quality/points/${ids[0]}`);
    expect(asT2.status).toBe(404);
    const missing = await t2.get(`/quality/points/999999`);
    expect(asT2.json).toEqual(missing.json);
    expect((await t2.get(`/quality/checks/${other.lastCheckId}/thumbnail.jpg`)).status).toBe(404);
    expect((await t2.get(`/quality/points/${ids[0]}/reference.jpg`)).status).toBe(404);
    expect((await t2.get(`/quality/points?org=${township1}`)).status).toBe(403);
    const rate = (await t2.get('/quality/intact-rate')).json as IntactRateReport;
    expect(rate.overall.total).toBe(t2ids.length);
    expect(rate.overall.intact).toBe(t2ids.length);
    expect(rate.faults).toEqual({});
    expect((await t2.get(`/quality/intact-rate?orgUnitId=${township1}`)).status).toBe(403);
    expect((await t2.get(`/reports?orgUnitId=${township1}`)).status).toBe(403);
    expect((await t2.get(`/reports.xlsx?orgUnitId=${township1}`)).status).toBe(403);
    const own = (await t2.get('/reports')).json as ReportView;
    expect(own.total.faultyPoints).toBe(0);
    expect(own.units.every((u) => u.faultyPoints === 0)).toBe(true);
    // Township 2 cannot start a sweep of township 1 (nor at all: operators only read).
    expect((await t2.post('/quality/sweeps', { orgUnitId: township1 })).status).toBe(403);
    // 完好率 per township for the county: township 1 has its faults, township 2 none.
    const county = (await tech.get('/quality/intact-rate')).json as IntactRateReport;
    const row1 = county.byOrg.find((r) => r.key === String(township1))!;
    const row2 = county.byOrg.find((r) => r.key === String(township2))!;
    expect(row1.total).toBe(ids.length);
    expect(row1.faulty).toBe(T1.filter((x) => x !== 'good').length - 1); // the renewed moved camera is good again
    expect(row2.faulty).toBe(0);
  });

  it('answers bad input with a 400 naming the field', async () => {
    const r = await tech.get('/quality/points?kind=purple');
    expect(r.status).toBe(400);
    expect(r.json.error.fields[0].path).toBe('kind');
    const s = await tech.post('/quality/sweeps', { networkId: 'nope' });
    expect(s.status).toBe(400);
    expect(s.json.error.fields[0].path).toBe('networkId');
    const rep = await client(t.api, await t.login('county')).get('/reports?period=year');
    expect(rep.status).toBe(400);
    expect(rep.json.error.fields[0].path).toBe('period');
  });
});

describe('reports', () => {
  let county: ReturnType<typeof client>;
  let view: ReportView;
  beforeAll(async () => {
    county = client(t.api, await t.login('county'));
    view = (await county.get('/reports?period=month')).json as ReportView;
  });

  it('has the figures of the dashboard and the diagnosis', () => {
    const u1 = view.units.find((u) => u.orgUnitId === township1)!;
    expect(u1.faultyPoints).toBe(T1.filter((x) => x !== 'good').length);
    expect(view.total.faultyPoints).toBe(u1.faultyPoints);
    expect(view.faults.find((f) => f.kind === 'occlusion')!.points).toBe(1);
    expect(view.total.alerts).toBeGreaterThanOrEqual(2);
    expect(view.alertsByType.find((a) => a.type === 'tamper')!.count).toBeGreaterThanOrEqual(2);
    expect(view.total.onlineRate).not.toBeNull();
    expect(view.trend).toHaveLength(12);
  });

  it('writes an xlsx whose cells are numbers equal to the API’s', async () => {
    const res = await fetch(`${t.api}/reports.xlsx?period=month`, {
      headers: { authorization: `Bearer ${await t.login('county')}` },
    });
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await res.arrayBuffer());
    const units = wb.getWorksheet('各单位')!;
    const rows = view.units.length + 1;
    for (let i = 0; i < rows; i++) {
      const r = units.getRow(i + 2);
      const api = i < view.units.length ? view.units[i]! : view.total;
      const cells = [
        api.onlineRate,
        api.intactRate,
        api.cameraDays,
        api.faultyPoints,
        api.alerts,
        api.ordersReceived,
        api.ordersClosed,
      ];
      cells.forEach((v, j) => {
        const cell = r.getCell(j + 2).value;
        if (v === null) expect(cell).toBeNull();
        else {
          expect(typeof cell).toBe('number');
          expect(cell).toBe(v);
        }
      });
    }
    const faults = wb.getWorksheet('故障')!;
    expect(faults.getRow(2 + view.faults.findIndex((f) => f.kind === 'occlusion')).getCell(2).value).toBe(1);
  });

  const pdftotext = spawnSync('pdftotext', ['-v']).error === undefined;
  it.skipIf(!pdftotext && !process.env.REQUIRE_SERVICES)(
    'writes a PDF that opens, with the totals in its text',
    async () => {
      if (!pdftotext) throw new Error('pdftotext is missing (apt-get install poppler-utils)');
      const res = await fetch(`${t.api}/reports.pdf?period=month`, {
        headers: { authorization: `Bearer ${await t.login('county')}` },
      });
      expect(res.status).toBe(200);
      const dir = mkdtempSync(path.join(tmpdir(), 'ccc-report-'));
      try {
        const file = path.join(dir, 'r.pdf');
        writeFileSync(file, Buffer.from(await res.arrayBuffer()));
        const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
        expect(text).toContain('综治视频监控运行报表');
        expect(text).toContain(view.orgName);
        expect(text).toContain('完好率');
        const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(2)}%`);
        expect(text).toContain(pct(view.total.intactRate));
        expect(text).toMatch(new RegExp(`告警数\\s+${view.total.alerts}\\b`));
        expect(text).toMatch(new RegExp(`故障点位\\s+${view.total.faultyPoints}\\b`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
