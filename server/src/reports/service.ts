/**
 * 报表 — the leaders' report of one unit and one period (日/周/月/季, cut in the dashboard's UTC offset):
 * online rate and 完好率 (from the daily snapshots), faults by kind, alerts by type, level and unit, work
 * orders (the dashboard's own statistics), and a trend over the 12 periods up to it. The JSON, the xlsx and
 * the PDF are all made from this one view, so they cannot disagree.
 */
import {
  ALERT_LEVELS,
  ALERT_TYPES,
  QUALITY_KINDS,
  type OrderStatsView,
  type QualityKind,
  type ReportRow,
  type ReportView,
} from '../api/contract.ts';
import type { AlertFact } from '../alerts/index.ts';
import type { AuthContext } from '../auth/index.ts';
import { periodRange, periodStart, type Period } from '../dispatch/index.ts';
import { HttpError, badRequest } from '../http/errors.ts';
import type { Clock } from '../http/logger.ts';
import type { OrgRepo, OrgUnit } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import type { QualityService } from '../quality/index.ts';

export interface ReportDeps {
  orgs: OrgRepo;
  quality: QualityService;
  /** The dashboard's order statistics (dispatch.stats), with the caller's own context. */
  orderStats: (
    ctx: AuthContext,
    q: { orgUnitId: number; period: Period; from: string; to: string },
  ) => OrderStatsView | Promise<OrderStatsView>;
  alertFacts: (path: string, fromIso: string, toIso: string) => Promise<AlertFact[]>;
  clock: Clock;
  utcOffsetMinutes: number;
}

const rate = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : null);
const roundRate = (v: number | null) => (v === null ? null : Math.round(v * 10_000) / 10_000);

export function createReportService(deps: ReportDeps) {
  const { orgs, quality, clock } = deps;
  const off = deps.utcOffsetMinutes;

  return {
    async report(
      ctx: AuthContext,
      q: { orgUnitId?: number | undefined; period: Period; date?: string | undefined },
    ): Promise<ReportView> {
      const unit = orgs.byId(q.orgUnitId ?? ctx.orgUnit.id);
      if (!unit || !inScope(ctx.scope, unit.path))
        throw new HttpError(403, 'forbidden', 'orgUnitId: org unit is not in your jurisdiction', [
          { path: 'orgUnitId', message: 'org unit is not in your jurisdiction' },
        ]);
      const one = periodRange(q.period, off, clock.now(), q.date, q.date);
      if (!one.ok) throw badRequest([{ path: 'date', message: one.message }]);
      const from = one.from;
      const to = one.to;
      const fromIso = one.fromIso;
      const toIso = one.toIso;
      const children = orgs.all().filter((u) => u.parentId === unit.id);
      const rowsOf: OrgUnit[] = children.length ? children : [unit];
      const childOf = (path: string) => rowsOf.find((c) => path.startsWith(c.path));

      // Faults found during the period: distinct points, per kind and per unit.
      const faultFacts = await quality.faultsIn(unit.path, fromIso, toIso);
      const byKind = new Map<QualityKind, Set<number>>();
      const faultyByUnit = new Map<number, Set<number>>();
      const faultyAll = new Set<number>();
      for (const f of faultFacts) {
        faultyAll.add(f.cameraId);
        for (const k of f.kinds) {
          const s = byKind.get(k) ?? new Set<number>();
          s.add(f.cameraId);
          byKind.set(k, s);
        }
        const c = childOf(f.orgPath);
        if (c) {
          const s = faultyByUnit.get(c.id) ?? new Set<number>();
          s.add(f.cameraId);
          faultyByUnit.set(c.id, s);
        }
      }

      // Alerts created during the period.
      const alerts = await deps.alertFacts(unit.path, fromIso, toIso);
      const alertsByUnit = new Map<number, number>();
      for (const a of alerts) {
        const c = childOf(a.orgPath);
        if (c) alertsByUnit.set(c.id, (alertsByUnit.get(c.id) ?? 0) + 1);
      }

      // Work orders: the dashboard's own figures for the same unit and period.
      const orders = await deps.orderStats(ctx, { orgUnitId: unit.id, period: q.period, from, to: from });
      const orderRow = (id: number) => orders.units.find((r) => r.orgUnitId === id);

      const row = async (u: OrgUnit, isTotal: boolean): Promise<ReportRow> => {
        const t = await quality.totals(u.path, from, to);
        const o = isTotal ? orders.total : orderRow(u.id);
        return {
          orgUnitId: u.id,
          orgName: u.name,
          cameraDays: t.total,
          onlineRate: rate(t.online, t.total),
          intactRate: rate(t.intact, t.total),
          faultyPoints: isTotal ? faultyAll.size : (faultyByUnit.get(u.id)?.size ?? 0),
          alerts: isTotal ? alerts.length : (alertsByUnit.get(u.id) ?? 0),
          ordersReceived: o?.received ?? 0,
          ordersClosed: o?.closed ?? 0,
          ordersClosedOnTime: o?.closedOnTime ?? 0,
          ordersOverdueNow: o?.overdueNow ?? 0,
          avgHandleMinutes: o?.avgHandleMinutes ?? null,
        };
      };

      // The 12 periods up to this one.
      const span = periodRange(q.period, off, clock.now(), undefined, from);
      if (!span.ok) throw badRequest([{ path: 'date', message: span.message }]);
      const series = await quality.series(unit.path, null, q.period, span.starts, span.to);
      const trendAlerts = await deps.alertFacts(unit.path, span.fromIso, span.toIso);
      const alertsPer = new Map<string, number>();
      for (const a of trendAlerts) {
        const day = new Date(Date.parse(a.createdAt) + off * 60_000).toISOString().slice(0, 10);
        const p = periodStart(day, q.period);
        alertsPer.set(p, (alertsPer.get(p) ?? 0) + 1);
      }
      const trendOrders = await deps.orderStats(ctx, {
        orgUnitId: unit.id,
        period: q.period,
        from: span.from,
        to: span.starts.at(-1) ?? from,
      });
      const trend = span.starts.map((p, i) => {
        const s = trendOrders.series.find((r) => r.period === p);
        return {
          period: p,
          onlineRate: roundRate(series[i]?.onlineRate ?? null),
          intactRate: roundRate(series[i]?.intactRate ?? null),
          alerts: alertsPer.get(p) ?? 0,
          ordersReceived: s?.received ?? 0,
          ordersClosed: s?.closed ?? 0,
        };
      });

      const generatedAt = clock.now().toISOString();
      const total = await row(unit, true);
      const units: ReportRow[] = [];
      for (const u of rowsOf) units.push(await row(u, false));
      return {
        orgUnitId: unit.id,
        orgName: unit.name,
        period: q.period,
        from,
        to,
        generatedAt,
        total,
        units,
        faults: QUALITY_KINDS.map((kind) => ({ kind, points: byKind.get(kind)?.size ?? 0 })),
        alertsByType: ALERT_TYPES.map((type) => ({ type, count: alerts.filter((a) => a.type === type).length })),
        alertsByLevel: ALERT_LEVELS.map((level) => ({ level, count: alerts.filter((a) => a.level === level).length })),
        trend,
      };
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;
