/**
 * Work-order statistics: pure functions for periods cut in local time (a
 * fixed UTC offset: China has one zone and no daylight saving), buckets, and
 * the figures leaders ask for (received, closed, closed on time, average and
 * p90 handling time, overdue now); last, `createOrderStats`, which reads the
 * facts of a caller's unit and hands them to them.
 */
import type { OrderStatsRow, OrderStatsView } from '../api/contract.ts';
import type { AuthContext } from '../auth/index.ts';
import { badRequest, notFound } from '../http/errors.ts';
import type { OrgUnit } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import type { DispatchDeps } from './core.ts';
import type { OrderStatFacts } from './repo.ts';
import type { StatsQuery } from './schema.ts';

export type Period = 'day' | 'week' | 'month' | 'quarter';

const DAY = 86_400_000;

/** Local calendar date (YYYY-MM-DD) of an instant. */
export function localDate(t: number, offsetMin: number): string {
  return new Date(t + offsetMin * 60_000).toISOString().slice(0, 10);
}

/** Start (local date) of the period that holds local date `d`. Weeks start on Monday. */
export function periodStart(d: string, period: Period): string {
  const [y, m] = [Number(d.slice(0, 4)), Number(d.slice(5, 7))];
  switch (period) {
    case 'day':
      return d;
    case 'week': {
      const t = Date.parse(`${d}T00:00:00Z`);
      const dow = (new Date(t).getUTCDay() + 6) % 7; // Monday = 0
      return new Date(t - dow * DAY).toISOString().slice(0, 10);
    }
    case 'month':
      return `${d.slice(0, 7)}-01`;
    case 'quarter':
      return `${y}-${String(Math.floor((m - 1) / 3) * 3 + 1).padStart(2, '0')}-01`;
  }
}

/** The local date one period after the period starting at `start`. */
export function nextPeriod(start: string, period: Period): string {
  const t = Date.parse(`${start}T00:00:00Z`);
  if (period === 'day') return new Date(t + DAY).toISOString().slice(0, 10);
  if (period === 'week') return new Date(t + 7 * DAY).toISOString().slice(0, 10);
  const d = new Date(t);
  d.setUTCMonth(d.getUTCMonth() + (period === 'month' ? 1 : 3));
  return d.toISOString().slice(0, 10);
}

/** Local midnight of a local date, as a UTC ISO instant. */
const localMidnightIso = (d: string, offsetMin: number) =>
  new Date(Date.parse(`${d}T00:00:00Z`) - offsetMin * 60_000).toISOString();

export type StatsRange =
  | { ok: true; from: string; to: string; fromIso: string; toIso: string; buckets: number; starts: string[] }
  | { ok: false; field: 'from' | 'to'; message: string };

/**
 * The periods from `from` to `to` (local dates, both inclusive, each widened
 * to whole periods). Defaults: the last 12 periods up to now.
 */
export function periodRange(period: Period, offsetMin: number, now: Date, from?: string, to?: string): StatsRange {
  const valid = (d: string) =>
    !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d);
  if (from !== undefined && !valid(from)) return { ok: false, field: 'from', message: 'not a calendar date' };
  if (to !== undefined && !valid(to)) return { ok: false, field: 'to', message: 'not a calendar date' };
  const last = periodStart(to ?? localDate(now.getTime(), offsetMin), period);
  let first: string;
  if (from !== undefined) first = periodStart(from, period);
  else {
    first = last;
    for (let i = 0; i < 11; i++) {
      const t = Date.parse(`${first}T00:00:00Z`) - DAY;
      first = periodStart(new Date(t).toISOString().slice(0, 10), period);
    }
  }
  if (first > last) return { ok: false, field: 'from', message: 'after to' };
  const starts: string[] = [];
  for (let s = first; s <= last && starts.length <= 10_000; s = nextPeriod(s, period)) starts.push(s);
  const end = nextPeriod(last, period);
  return {
    ok: true,
    from: first,
    to: end,
    fromIso: localMidnightIso(first, offsetMin),
    toIso: localMidnightIso(end, offsetMin),
    buckets: starts.length,
    starts,
  };
}

/** Nearest-rank percentile of a sorted array. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

interface Acc {
  received: number;
  closed: number;
  closedOnTime: number;
  handle: number[];
  overdue: number;
}

const emptyAcc = (): Acc => ({ received: 0, closed: 0, closedOnTime: 0, handle: [], overdue: 0 });

function row(u: { id: number; name: string }, period: string | null, a: Acc, withOverdue: boolean): OrderStatsRow {
  const sorted = [...a.handle].sort((x, y) => x - y);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    orgUnitId: u.id,
    orgName: u.name,
    period,
    received: a.received,
    closed: a.closed,
    closedOnTime: a.closedOnTime,
    avgHandleMinutes: sorted.length ? round(sorted.reduce((s, x) => s + x, 0) / sorted.length) : null,
    p90HandleMinutes: sorted.length ? round(percentile(sorted, 90) as number) : null,
    overdueNow: withOverdue ? a.overdue : null,
  };
}

export function computeStats(input: {
  unit: OrgUnit;
  /** Units to report one row for (the children, or the unit itself when it has none). */
  children: OrgUnit[];
  facts: OrderStatFacts[];
  overdue: { placePath: string }[];
  period: Period;
  range: Extract<StatsRange, { ok: true }>;
  utcOffsetMinutes: number;
}): OrderStatsView {
  const { unit, children, facts, overdue, range, utcOffsetMinutes: off } = input;
  const perUnit = new Map(children.map((c) => [c.id, emptyAcc()]));
  const perBucket = new Map(range.starts.map((s) => [s, emptyAcc()]));
  const total = emptyAcc();
  const childOf = (placePath: string): Acc | undefined => {
    for (const c of children) if (placePath.startsWith(c.path)) return perUnit.get(c.id);
    return undefined;
  };
  // Bucket edges as UTC ISO instants: a fact's bucket is found by comparing strings, no dates parsed.
  const edges = range.starts.map((d) => localMidnightIso(d, off));
  const accs = range.starts.map((d) => perBucket.get(d) as Acc);
  const bucketOf = (instant: string): Acc | undefined => {
    let lo = 0;
    let hi = edges.length - 1;
    if (hi < 0 || instant < (edges[0] as string)) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((edges[mid] as string) <= instant) lo = mid;
      else hi = mid - 1;
    }
    return accs[lo];
  };
  for (const f of facts) {
    const u = childOf(f.placePath);
    if (f.createdAt && f.createdAt >= range.fromIso && f.createdAt < range.toIso) {
      total.received++;
      if (u) u.received++;
      const b = bucketOf(f.createdAt);
      if (b) b.received++;
    }
    if (f.closedAt && f.closedAt >= range.fromIso && f.closedAt < range.toIso) {
      const b = bucketOf(f.closedAt);
      for (const acc of [total, u, b]) {
        if (!acc) continue;
        acc.closed++;
        if (f.closedOnTime) acc.closedOnTime++;
        if (f.handleSeconds !== null) acc.handle.push(f.handleSeconds / 60);
      }
    }
  }
  for (const o of overdue) {
    total.overdue++;
    const u = childOf(o.placePath);
    if (u) u.overdue++;
  }
  return {
    orgUnitId: unit.id,
    period: input.period,
    from: range.from,
    to: range.to,
    units: children.map((c) => row(c, null, perUnit.get(c.id) ?? emptyAcc(), true)),
    series: range.starts.map((s) => row(unit, s, perBucket.get(s) ?? emptyAcc(), false)),
    total: row(unit, null, total, true),
  };
}

const MAX_BUCKETS = 400;

/** Statistics for a unit's subtree: per child unit over the range, and per period bucket. */
export function createOrderStats(deps: Pick<DispatchDeps, 'repo' | 'orgs' | 'clock' | 'config'>) {
  const { repo, orgs, clock, config } = deps;
  return async function stats(ctx: AuthContext, q: StatsQuery): Promise<OrderStatsView> {
    const u = orgs.byId(q.orgUnitId ?? ctx.orgUnit.id);
    if (!u || !inScope(ctx.scope, u.path)) throw notFound('org unit');
    const now = clock.now();
    const range = periodRange(q.period, config.utcOffsetMinutes, now, q.from, q.to);
    if (!range.ok) throw badRequest([{ path: range.field, message: range.message }]);
    if (range.buckets > MAX_BUCKETS)
      throw badRequest([{ path: 'from', message: `at most ${MAX_BUCKETS} ${q.period} periods at once` }]);
    const children = orgs.all().filter((c) => c.parentId === u.id);
    const facts = await repo.statFacts(u.path, range.fromIso, range.toIso);
    const overdue = await repo.overdueFacts(u.path, now.toISOString());
    return computeStats({
      unit: u,
      children: children.length > 0 ? children : [u],
      facts,
      overdue,
      period: q.period as Period,
      range,
      utcOffsetMinutes: config.utcOffsetMinutes,
    });
  };
}
