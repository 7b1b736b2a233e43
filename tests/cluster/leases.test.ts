/**
 * Several instances on one database (issue 13): the dispatch deadline pass,
 * health sweeps and ONVIF event pulls run on the instance holding their
 * lease, once per cluster. Two servers share one database (a SQLite file, or
 * under CCC_STORAGE__DRIVER=postgres one PostgreSQL database) and one fake
 * clock; their timers tick every second for real, expiry follows the fake
 * clock, so no assertion waits on wall-clock time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkOrderView } from '../../server/src/api/contract.ts';
import type { OrgUnit } from '../../server/src/org/repo.ts';
import { client, sharedDatabase, startTestServer, type SharedDatabase, type TestServer } from '../helpers/server.ts';

/** Longer than the clock moves between two passes: a jump past it looks like a dead holder to every lease. */
const TTL_SECONDS = 600;
let now = Date.parse('2026-03-02T01:00:00Z');
const clock = { now: () => new Date(now) };
const advanceMinutes = (m: number) => {
  now += m * 60_000;
};

let a: TestServer;
let b: TestServer;
let aClosed = false;
let shared: SharedDatabase | null = null;
let village: OrgUnit;
let orderId = 0;

const overrides = {
  // A village has 2 minutes to sign a yellow order, and 督办 repeats every 2 minutes, never escalating.
  dispatch: {
    scanIntervalSeconds: 1,
    deadlines: { village: { yellow: { sign: 2, handle: 720 } } },
    superviseRepeatMinutes: 2,
    escalateAfterSupervisions: 0,
  },
  health: { intervalSeconds: 1, timeoutMs: 500 },
  cluster: { leaseTtlSeconds: TTL_SECONDS },
};
const duties = (t: TestServer) => t.server.app.cluster.duties;
/** The order as the database has it, read through B (which lives to the end). */
const order = async () =>
  (await client(b.api, await b.login('county')).get(`/orders/${orderId}`)).json as WorkOrderView;
const supervisions = (o: WorkOrderView) => o.history!.filter((h) => h.action === 'supervise').length;

beforeAll(async () => {
  shared = await sharedDatabase();
  a = await startTestServer({ townships: 2, villages: 1, cameras: 2, overrides, shared, clock });
  b = await startTestServer({ townships: 2, villages: 1, cameras: 2, overrides, shared, clock });
  village = a.server.app.repos.orgs.all().find((u) => u.level === 'village')!;
}, 60_000);

afterAll(async () => {
  if (!aClosed) await a?.close();
  await b?.close();
  await shared?.drop();
});

describe('cluster leases on one shared database', () => {
  it('the two instances have their own holder ids; the first started holds every lease', async () => {
    expect(a.server.app.cluster.holder).not.toBe(b.server.app.cluster.holder);
    const { leases } = b.server.app.cluster;
    for (const name of ['dispatch.deadlines', 'health.sweeps', 'alerts.onvif-events'])
      expect((await leases.current(name))?.holder).toBe(a.server.app.cluster.holder);
  });

  it('an overdue order is supervised once per deadline, by the holder; the other instance skips every pass', async () => {
    const county = client(a.api, await a.login('county'));
    const created = await county.post('/orders', { title: '集群督办', level: 'yellow', orgUnitId: village.id });
    expect(created.status).toBe(201);
    orderId = (created.json as WorkOrderView).id;
    advanceMinutes(3);
    await expect.poll(async () => (await order()).superviseCount, { timeout: 15_000 }).toBe(1);
    // Both timers keep ticking; let each instance tick a few more times at this clock.
    const skipsB = duties(b).dispatch.stats().skips;
    const runsA = duties(a).dispatch.stats().runs;
    await expect
      .poll(() => duties(b).dispatch.stats().skips - skipsB >= 3 && duties(a).dispatch.stats().runs - runsA >= 3, {
        timeout: 15_000,
      })
      .toBe(true);
    expect(supervisions(await order())).toBe(1);
    expect(duties(b).dispatch.stats().runs).toBe(0);
    // The next repeat of 督办, again once.
    advanceMinutes(3);
    await expect.poll(async () => (await order()).superviseCount, { timeout: 15_000 }).toBe(2);
    expect(supervisions(await order())).toBe(2);
    expect(duties(b).dispatch.stats().runs).toBe(0);
  });

  it('health sweeps run on one instance only', async () => {
    await expect.poll(() => duties(a).health.stats().runs, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    await expect.poll(() => duties(b).health.stats().skips, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    expect(duties(b).health.stats().runs).toBe(0);
    // ONVIF event pulls likewise: only the holder subscribes.
    expect(duties(a).onvifEvents.held()).toBe(true);
    expect(duties(b).onvifEvents.held()).toBe(false);
  });

  it('the holder dies: the other instance waits out its lease, then takes every duty over', async () => {
    const holderA = a.server.app.cluster.holder;
    const { leases } = b.server.app.cluster;
    // A process that dies does not give its leases up as an orderly close does.
    a.server.app.cluster.leases.release = () => Promise.resolve();
    await a.close();
    aClosed = true;
    const lastA = await Promise.all(
      ['dispatch.deadlines', 'health.sweeps', 'alerts.onvif-events'].map(async (n) => (await leases.current(n))!),
    );
    for (const l of lastA) expect(l.holder).toBe(holderA);
    const skips = duties(b).dispatch.stats().skips;
    await expect.poll(() => duties(b).dispatch.stats().skips - skips, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    expect(duties(b).dispatch.stats().runs).toBe(0);
    expect((await leases.current('dispatch.deadlines'))?.holder).toBe(holderA);
    // The dead holder's lease runs out on the clock.
    now = Math.max(...lastA.map((l) => l.expiresAt)) + 1;
    await expect.poll(() => duties(b).dispatch.stats().runs, { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(() => duties(b).health.stats().runs, { timeout: 20_000 }).toBeGreaterThan(0);
    // The event source takes its lease on its own renewal timer (every 10 s at most).
    await expect.poll(() => duties(b).onvifEvents.held(), { timeout: 30_000 }).toBe(true);
    for (const name of ['dispatch.deadlines', 'health.sweeps', 'alerts.onvif-events'])
      expect((await leases.current(name))?.holder).toBe(b.server.app.cluster.holder);
    // And B carries the deadline pass on: the next 督办 of the order comes from it.
    const before = (await order()).superviseCount;
    advanceMinutes(3);
    await expect.poll(async () => (await order()).superviseCount, { timeout: 15_000 }).toBeGreaterThan(before);
  }, 90_000);
});
