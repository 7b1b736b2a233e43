/**
 * Statistics checked against a known set of orders on a fake clock, deadlines
 * that survive a restart (a second server on the same database catches
 * up at start), and feedback evidence captured from a real simulated camera.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type { OrderStatsView, WorkOrderView } from '../../server/src/api/contract.ts';
import type { OrgUnit } from '../../server/src/org/repo.ts';
import { client, registerSimCamera, sharedDatabase, startTestServer, type TestServer } from '../helpers/server.ts';

describe('statistics against a known set of orders', () => {
  let now = 0;
  const clock = { now: () => new Date(now) };
  let t: TestServer;
  let t1: OrgUnit;
  let t2: OrgUnit;
  let root: OrgUnit;
  const at = async (iso: string) => {
    now = Date.parse(iso);
    return {
      county: client(t.api, await t.login('county')),
      town1: client(t.api, await t.login('township1')),
      town2: client(t.api, await t.login('township2')),
    };
  };
  /** Creates an order for a township at `created` and, if `closed`, walks it to the end at that instant. */
  const order = async (town: OrgUnit, created: string, closed?: string) => {
    const c = await at(created);
    const o = (
      await c.county.post('/orders', {
        title: `统计 ${created}`,
        level: 'orange',
        orgUnitId: town.id,
        assignTo: town.id,
      })
    ).json as WorkOrderView;
    expect(o.state).toBe('assigned');
    if (!closed) return o;
    const d = await at(closed);
    const handler = town.id === t1.id ? d.town1 : d.town2;
    expect((await handler.post(`/orders/${o.id}/sign`)).status).toBe(200);
    expect((await handler.post(`/orders/${o.id}/feedback`, { note: '完成' })).status).toBe(200);
    expect((await d.county.post(`/orders/${o.id}/close`)).json.state).toBe('closed');
    return o;
  };

  beforeAll(async () => {
    now = Date.parse('2026-01-01T00:00:00Z');
    t = await startTestServer({ townships: 2, villages: 2, cameras: 0, clock });
    const all = t.server.app.repos.orgs.all();
    root = all.find((u) => u.parentId === null)!;
    [t1, t2] = all.filter((u) => u.level === 'township').sort((a, b) => a.id - b.id) as [OrgUnit, OrgUnit];
    // Orange orders at a township: 30 minutes to sign, 480 to handle.
    await order(t1, '2026-01-10T02:00:00Z', '2026-01-10T04:00:00Z'); // 120 min, on time
    await order(t1, '2026-01-20T02:00:00Z', '2026-01-20T12:00:00Z'); // 600 min, late
    await order(t2, '2026-02-05T02:00:00Z', '2026-02-05T03:00:00Z'); // 60 min, on time
    await order(t1, '2026-02-10T02:00:00Z'); // open, overdue from 02:30
    // Received on 27 February local time, closed on 1 March local time (UTC+8): 1560 min, late.
    await order(t2, '2026-02-27T15:00:00Z', '2026-02-28T17:00:00Z');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('counts received, closed, on time, average and p90 handling time and overdue now, per township and month', async () => {
    const c = await at('2026-03-01T06:00:00Z');
    const r = await c.county.get('/orders/stats?period=month&from=2026-01-01&to=2026-03-01');
    expect(r.status).toBe(200);
    const s = r.json as OrderStatsView;
    expect(s).toMatchObject({ orgUnitId: root.id, from: '2026-01-01', to: '2026-04-01' });
    const unit = (id: number) => s.units.find((u) => u.orgUnitId === id);
    expect(unit(t1.id)).toMatchObject({
      received: 3,
      closed: 2,
      closedOnTime: 1,
      avgHandleMinutes: 360,
      p90HandleMinutes: 600,
      overdueNow: 1,
    });
    expect(unit(t2.id)).toMatchObject({
      received: 2,
      closed: 2,
      closedOnTime: 1,
      avgHandleMinutes: 810,
      p90HandleMinutes: 1560,
      overdueNow: 0,
    });
    expect(s.series.map((b) => [b.period, b.received, b.closed, b.closedOnTime])).toEqual([
      ['2026-01-01', 2, 2, 1],
      ['2026-02-01', 3, 1, 1],
      ['2026-03-01', 0, 1, 0],
    ]);
    expect(s.total).toMatchObject({
      received: 5,
      closed: 4,
      closedOnTime: 2,
      avgHandleMinutes: 585,
      p90HandleMinutes: 1560,
      overdueNow: 1,
    });
    const weekly = (await c.county.get('/orders/stats?period=week&from=2026-02-23&to=2026-03-01'))
      .json as OrderStatsView;
    expect(weekly.series.map((b) => [b.period, b.received, b.closed])).toEqual([['2026-02-23', 1, 1]]);
  });

  it('a township sees its own villages only; another township is 404; bad queries name the field', async () => {
    const c = await at('2026-03-01T06:00:00Z');
    const own = (await c.town1.get('/orders/stats?period=quarter&from=2026-01-01')).json as OrderStatsView;
    expect(own.orgUnitId).toBe(t1.id);
    expect(own.total).toMatchObject({ received: 3, closed: 2, overdueNow: 1 });
    expect(own.units.every((u) => t.server.app.repos.orgs.byId(u.orgUnitId)?.parentId === t1.id)).toBe(true);
    expect((await c.town1.get(`/orders/stats?orgUnitId=${t2.id}`)).status).toBe(404);
    const bad = await c.county.get('/orders/stats?period=year&from=2026-02-30&x=1');
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(['period', 'x']));
    const tooLong = await c.county.get('/orders/stats?period=day&from=2020-01-01&to=2026-01-01');
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error.fields[0].path).toBe('from');
    expect((await client(t.api, await t.login('tech')).get('/orders/stats')).status).toBe(403);
  });

  it('exports the same figures as CSV that Excel reads as UTF-8', async () => {
    await at('2026-03-01T06:00:00Z');
    const res = await fetch(`${t.api}/orders/stats.csv?period=month&from=2026-01-01&to=2026-03-01`, {
      headers: { authorization: `Bearer ${await t.login('county')}` },
    });
    expect(res.headers.get('content-type')).toContain('text/csv');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = bytes.subarray(3).toString('utf8').trim().split(/\r?\n/);
    expect(rows[0]).toContain('按期办结率');
    const t1Row = rows.find((l) => l.startsWith(t1.name))!;
    expect(t1Row.split(',').slice(2, 9)).toEqual(['3', '2', '1', '50.0%', '360', '600', '1']);
  });
});

describe('deadlines survive a restart', () => {
  it('a second server on the same database catches up on the deadline that passed while it was down', async () => {
    // One SQLite file, or under CCC_STORAGE__DRIVER=postgres one PostgreSQL database, for both servers.
    const shared = await sharedDatabase();
    let now = Date.parse('2026-05-01T01:00:00Z');
    const clock = { now: () => new Date(now) };
    try {
      const a = await startTestServer({ townships: 2, villages: 2, cameras: 0, clock, shared });
      const village = a.server.app.repos.orgs.all().find((u) => u.level === 'village')!;
      const county = client(a.api, await a.login('county'));
      const o = (await county.post('/orders', { title: '重启测试', level: 'yellow', orgUnitId: village.id }))
        .json as WorkOrderView;
      expect(o).toMatchObject({ state: 'assigned', assigneeOrgUnitId: village.id });
      // Village, yellow: 60 minutes to sign. The server goes down 30 minutes in.
      now += 30 * 60_000;
      await a.server.app.dispatch.tick();
      await a.close();
      now += 45 * 60_000;
      const b = await startTestServer({ townships: 2, villages: 2, cameras: 0, clock, shared });
      try {
        // No tick called: start-up itself caught up.
        const after = (await client(b.api, await b.login('county')).get(`/orders/${o.id}`)).json as WorkOrderView;
        expect(after).toMatchObject({ overdue: true, superviseCount: 1 });
        expect(after.history!.map((h) => h.action)).toEqual(['create', 'assign', 'supervise']);
        expect(after.history![2]!.at).toBe(new Date(now).toISOString());
      } finally {
        await b.close();
      }
    } finally {
      await shared.drop();
    }
  });
});

describe('feedback evidence from a real camera', () => {
  let t: TestServer;
  let sim: Simulator;
  /** Addresses of this run's own (issue 12): no demo and no other run answers on them. */
  let block: LoopbackBlock;
  let cam = 0;
  // Real time plus a skew the test adds to, so a cached snapshot is not reused.
  let skew = 0;
  beforeAll(async () => {
    block = await claimLoopbackBlock();
    t = await startTestServer({ cameras: 0, clock: { now: () => new Date(Date.now() + skew) } });
    sim = await startSimulator({
      cameras: defaultCameraSpecs(1, { firstIp: block.host(1), seed: 21 }).map((s) => ({ ...s, clockOffsetSec: 0 })),
      clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-sim-')),
      onvifPort: 8000,
      rtspPort: 8554,
      discovery: false,
      streamOverrides: { main: { width: 160, height: 90, fps: 5 }, sub: { width: 160, height: 90, fps: 5 } },
    });
    const tech = client(t.api, await t.login('tech1'));
    const village = t.server.app.repos.orgs.all().find(
      (u) =>
        u.level === 'village' &&
        u.path.startsWith(
          t.server.app.repos.orgs
            .all()
            .filter((x) => x.level === 'township')
            .sort((x, y) => x.id - y.id)[0]!.path,
        ),
    )!;
    cam = await registerSimCamera(tech, sim.cameras[0]!, {
      name: '证据枪机',
      orgUnitId: village.id,
      subStreamUri: null,
    });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
    await block?.release();
  });

  it('feedback captures a JPEG from the linked camera at that moment; a dead camera fails the step and changes nothing', async () => {
    const county = client(t.api, await t.login('county'));
    const town1 = client(t.api, await t.login('township1'));
    const camera = (await county.get(`/cameras/${cam}`)).json as { orgUnitId: number };
    const o = (
      await county.post('/orders', {
        title: '现场取证',
        level: 'orange',
        orgUnitId: camera.orgUnitId,
        cameraIds: [cam],
      })
    ).json as WorkOrderView;
    expect(o.cameraIds).toEqual([cam]);
    await town1.post(`/orders/${o.id}/sign`);
    const notLinked = await town1.post(`/orders/${o.id}/feedback`, { note: 'x', snapshotCameraId: cam + 1000 });
    expect(notLinked.status).toBe(400);
    expect(notLinked.json.error.fields[0].path).toBe('snapshotCameraId');
    const fb = await town1.post(`/orders/${o.id}/feedback`, { note: '已到场处置', snapshotCameraId: cam });
    expect(fb.status).toBe(200);
    const detail = (await county.get(`/orders/${o.id}`)).json as WorkOrderView;
    const evidence = detail.history!.find((h) => h.action === 'feedback')!.attachments;
    expect(evidence).toHaveLength(1);
    expect(evidence[0]).toMatchObject({ kind: 'snapshot', cameraId: cam, contentType: 'image/jpeg' });
    const jpeg = Buffer.from(
      await (
        await fetch(`${t.url}${evidence[0]!.url}`, { headers: { authorization: `Bearer ${await t.login('county')}` } })
      ).arrayBuffer(),
    );
    expect([jpeg[0], jpeg[1], jpeg[2]]).toEqual([0xff, 0xd8, 0xff]);

    await county.post(`/orders/${o.id}/return`, { note: '再拍一张' });
    await sim.setFaults(sim.cameras[0]!.code, { offline: true });
    skew += 10_000;
    const before = (await county.get(`/orders/${o.id}`)).json as WorkOrderView;
    const failed = await town1.post(`/orders/${o.id}/feedback`, { note: '再次反馈', snapshotCameraId: cam });
    expect(failed.status).toBe(502);
    expect(failed.json.error.fields[0].path).toBe('snapshotCameraId');
    const after = (await county.get(`/orders/${o.id}`)).json as WorkOrderView;
    expect(after).toMatchObject({ version: before.version, state: 'signed', attachments: 1 });
  });
});
