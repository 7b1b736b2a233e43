/**
 * Dispatch benchmark: a year of simulated time with 10,000 work orders on a
 * SQLite file (or, with BENCH_STORAGE=postgres, a new PostgreSQL database,
 * figures named `….pg`, the database dropped at the end), then
 *   - statistics queries over HTTP for the county and for one township
 *     (periods day/week/month/quarter over the whole year),
 *   - the deadline scan (督办 pass: find what came due, record supervision and
 *     escalation) over 10,000 open orders that all came due at once (the worst
 *     case), over the same orders when none is due, and the whole pass
 *     including the order:updated / order:supervise events to every room.
 *   npm run bench:dispatch            (BENCH_ORDERS=2000 for a short trial)
 *   npm run bench:dispatch:pg         (the same on PostgreSQL)
 *
 * The year is played through the service in time order on a fake clock:
 * each order is created by the county duty officer (routed by 四事分办), signed,
 * handled and closed by the units whose turn it is, at random delays, with a
 * deadline pass every simulated hour, so some orders are supervised and
 * escalated as they would be. Prints `BENCH <name> <value> <unit>` lines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AlertLevel, WorkOrderView } from '../server/src/api/contract.ts';
import type { AuthContext } from '../server/src/auth/index.ts';
import type { OrgUnit } from '../server/src/org/repo.ts';
import { loadConfig } from '../server/src/config/load.ts';
import { startTestServer, type TestServer } from '../tests/helpers/server.ts';
import { benchStorage } from './sim/bench-storage.ts';

const ORDERS = Number(process.env['BENCH_ORDERS'] ?? 10_000);
const OPEN_FOR_SCAN = Number(process.env['BENCH_OPEN'] ?? 10_000);
const QUERIES = 200;
const HOUR = 3_600_000;

const storage = benchStorage();
const bench = (name: string, value: number, unit: string) =>
  console.log(`BENCH ${name}${storage.suffix} ${value.toFixed(2)} ${unit}`);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

// Deterministic pseudo-random numbers (mulberry32), so runs are comparable.
let seed = 20261122;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

const start = Date.parse('2025-11-22T00:00:00Z');
const end = start + 365 * 24 * HOUR;
let now = start;
const clock = { now: () => new Date(now) };

const dir = mkdtempSync(path.join(tmpdir(), 'ccc-bench-dispatch-'));
// The deadlines and supervision settings the server runs with (test profile = the defaults).
const config = loadConfig({ profile: 'test', env: {} });
let started: TestServer | undefined;
try {
  const underneath = await storage.describe();
  const t = (started =
    storage.driver === 'postgres'
      ? // A database of this run's own; the server's pool on it is closed with the server, the database dropped below.
        await startTestServer({
          townships: 8,
          villages: 5,
          cameras: 0,
          clock,
          shared: { postgresUrl: await storage.createDatabase(), drop: storage.dropAll },
        })
      : await startTestServer({ townships: 8, villages: 5, cameras: 0, clock, sqlitePath: path.join(dir, 'ccc.db') }));
  const store = t.store;
  const { dispatch, repos } = t.server.app;
  const all = repos.orgs.all();
  const root = all.find((u) => u.parentId === null)!;
  const villages = all.filter((u) => u.level === 'village');
  const township = all.filter((u) => u.level === 'township').sort((a, b) => a.id - b.id)[0]!;
  // The service takes the caller's context; one per org unit stands in for its duty operator.
  const countyCtx = (await t.server.app.auth.resolveToken(await t.login('county')))!;
  const ctxOf = new Map<number, AuthContext>();
  const ctx = (u: OrgUnit): AuthContext => {
    let c = ctxOf.get(u.id);
    if (!c) {
      c = {
        ...countyCtx,
        user: { ...countyCtx.user, id: 10_000 + u.id, displayName: `${u.name}值班员` },
        orgUnit: u,
        scope: { orgUnitId: u.id, path: u.path },
      };
      ctxOf.set(u.id, c);
    }
    return c;
  };
  const levels: AlertLevel[] = ['blue', 'blue', 'yellow', 'yellow', 'yellow', 'orange', 'orange', 'red'];

  type Ev = { at: number; run: () => Promise<void> | void };
  const queue: Ev[] = [];
  const push = (e: Ev) => {
    // Kept sorted by time (binary insertion).
    let lo = 0;
    let hi = queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((queue[mid] as Ev).at <= e.at) lo = mid + 1;
      else hi = mid;
    }
    queue.splice(lo, 0, e);
  };
  /** The next step of an order by whoever's turn it is, then the one after, until closed. */
  const follow = (id: number, at: number) =>
    push({
      at,
      run: async () => {
        const o = await dispatch.get(ctx(root), id);
        const holder = repos.orgs.byId(o.assigneeOrgUnitId)!;
        const assigner = o.assignerOrgUnitId === null ? null : repos.orgs.byId(o.assignerOrgUnitId)!;
        let next: WorkOrderView | null = null;
        if (o.state === 'assigned' || o.state === 'reported')
          next = await dispatch.step(ctx(holder), null, id, 'sign', {});
        else if (o.state === 'signed')
          next = await dispatch.step(ctx(holder), null, id, 'feedback', { note: '已处置' });
        else if (o.state === 'fed_back')
          next = await dispatch.step(ctx(assigner ?? holder), null, id, 'close', { note: '办结' });
        if (next && next.state !== 'closed') {
          const delay =
            next.state === 'signed'
              ? (0.5 + rand() * 30) * HOUR
              : next.state === 'fed_back'
                ? rand() * 2 * HOUR
                : rand() * HOUR;
          follow(id, now + delay);
        }
      },
    });

  for (let i = 0; i < ORDERS; i++) {
    const at = start + rand() * (end - start - 3 * 24 * HOUR);
    push({
      at,
      run: async () => {
        const o = await dispatch.create(ctx(root), null, {
          title: `模拟工单 ${i}`,
          level: pick(levels),
          orgUnitId: pick(villages).id,
        });
        // Most are signed within the hour; some wait long enough to be supervised.
        follow(o.id, now + (rand() < 0.85 ? rand() * HOUR : rand() * 6 * HOUR));
      },
    });
  }
  for (let h = start; h < end; h += HOUR)
    push({
      at: h + 1,
      run: async () => {
        await dispatch.tick();
      },
    });

  const playStart = performance.now();
  let done = 0;
  while (queue.length > 0) {
    const e = queue.shift()!;
    now = Math.max(now, e.at);
    await e.run();
    done++;
  }
  now = end;
  const counts = await store.all<{ state: string; n: number }>(
    'SELECT state, COUNT(*) AS n FROM work_orders GROUP BY state ORDER BY state',
  );
  const supervised = (await store.get<{ n: number }>(
    "SELECT COUNT(*) AS n FROM work_order_transitions WHERE action = 'supervise'",
  ))!.n;
  const escalated = (await store.get<{ n: number }>(
    "SELECT COUNT(*) AS n FROM work_order_transitions WHERE action = 'escalate'",
  ))!.n;
  const orders = counts.reduce((sum, c) => sum + c.n, 0);
  if (orders !== ORDERS) throw new Error(`the year left ${orders} work orders, not ${ORDERS}`);
  console.log(
    `# on ${underneath}: a year played in ${((performance.now() - playStart) / 1000).toFixed(1)} s: ${done} events; orders by state ${JSON.stringify(Object.fromEntries(counts.map((c) => [c.state, c.n])))}; ${supervised} supervisions, ${escalated} escalations`,
  );

  // Statistics over HTTP, as the dashboard asks for them.
  const headers = { authorization: `Bearer ${await t.login('county')}` };
  const periods = ['day', 'week', 'month', 'quarter'] as const;
  const from = new Date(start + 8 * HOUR).toISOString().slice(0, 10);
  const time = async (orgUnitId: number, period: (typeof periods)[number]) => {
    const t0 = performance.now();
    const res = await fetch(`${t.api}/orders/stats?orgUnitId=${orgUnitId}&period=${period}&from=${from}`, { headers });
    const body = (await res.json()) as { total: { received: number } };
    const ms = performance.now() - t0;
    if (res.status !== 200 || body.total.received <= 0) throw new Error(`stats ${res.status}`);
    return ms;
  };
  for (let i = 0; i < 10; i++) await time(root.id, 'month'); // warm-up
  const countyMs: number[] = [];
  const townMs: number[] = [];
  for (let i = 0; i < QUERIES; i++) {
    countyMs.push(await time(root.id, periods[i % 4]!));
    townMs.push(await time(township.id, periods[i % 4]!));
  }
  console.log(
    `# ${QUERIES} county and ${QUERIES} township GET /orders/stats over HTTP (day/week/month/quarter over the year), one at a time, over ${ORDERS} orders on ${underneath}; load ${load()}`,
  );
  bench('dispatch.stats.p95', pct([...countyMs, ...townMs], 95), 'ms');
  bench('dispatch.stats.county.p95', pct(countyMs, 95), 'ms');
  bench('dispatch.stats.township.p95', pct(townMs, 95), 'ms');
  bench('dispatch.stats.p50', pct([...countyMs, ...townMs], 50), 'ms');

  // 10,000 open orders, none due: the pass reads the due index and finds nothing.
  const openStart = now;
  for (let i = 0; i < OPEN_FOR_SCAN; i++) {
    await dispatch.create(ctx(root), null, { title: `未办结 ${i}`, level: pick(levels), orgUnitId: pick(villages).id });
  }
  const open = (await store.get<{ n: number }>(
    'SELECT COUNT(*) AS n FROM work_orders WHERE next_check_at IS NOT NULL',
  ))!.n;
  now = openStart + 60_000;
  let t0 = performance.now();
  const idle = await dispatch.scanDue();
  const idleMs = performance.now() - t0;
  // A week later every one of them is overdue: one pass supervises them all.
  now = openStart + 7 * 24 * HOUR;
  t0 = performance.now();
  const full = await dispatch.scanDue();
  const fullMs = performance.now() - t0;
  // The same again a supervision interval later, this time with the events to every unit's room.
  const repeat = (config.dispatch.superviseRepeatMinutes + 1) * 60_000;
  now += repeat;
  t0 = performance.now();
  const withPush = await dispatch.tick();
  const withPushMs = performance.now() - t0;
  // Passes until the orders have been supervised `escalateAfterSupervisions` times: the next pass escalates
  // them one level up (issue 12: the measured pass never reached an escalation, the costliest step).
  const passes: { supervised: number; escalated: number }[] = [];
  let escalating: { supervised: number; escalated: number } = { supervised: 0, escalated: 0 };
  let escalatingMs = 0;
  for (let i = 0; i < config.dispatch.escalateAfterSupervisions + 2 && escalating.escalated === 0; i++) {
    now += repeat;
    t0 = performance.now();
    escalating = await dispatch.tick();
    escalatingMs = performance.now() - t0;
    passes.push(escalating);
  }
  console.log(
    `# deadline scan over ${open} open orders (escalate after ${config.dispatch.escalateAfterSupervisions} supervisions): none due ${JSON.stringify({ supervised: idle.supervised })}, first pass ${JSON.stringify({ supervised: full.supervised, escalated: full.escalated })}, second with events ${JSON.stringify(withPush)}, then ${JSON.stringify(passes)}`,
  );
  // Orders held at the county have no level above: they are supervised again instead.
  if (escalating.escalated === 0 || escalating.escalated + escalating.supervised < open) {
    throw new Error(`the escalating pass handled ${JSON.stringify(escalating)} of ${open} overdue orders`);
  }
  bench('dispatch.deadline_scan', escalatingMs, 'ms');
  console.log(
    `#   ^ the pass that escalated ${escalating.escalated} of ${open} overdue orders one level up and supervised ${escalating.supervised} (held at the county), with events`,
  );
  bench('dispatch.deadline_scan.supervise_only', fullMs, 'ms');
  console.log(`#   ^ the first pass: ${full.supervised} supervised, ${full.escalated} escalated (no events)`);
  bench('dispatch.deadline_scan.with_events', withPushMs, 'ms');
  console.log(`#   ^ ${withPush.supervised} supervised, ${withPush.escalated} escalated, with events`);
  bench('dispatch.deadline_scan.none_due', idleMs, 'ms');
  console.log(`#   ^ ${open} open orders, none due; load ${load()}`);
} finally {
  try {
    await started?.close();
  } finally {
    // Also when the server never started or failed to close.
    await storage.dropAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
