/**
 * 领导看板: work-order figures for one unit's subtree over a period, per child
 * unit and per period bucket, with the CSV the monthly/quarterly reports use.
 */
import { useEffect, useMemo, useState } from 'react';
import type { OrderStatsRow, OrderStatsView } from '@api/contract.ts';
import { isAbort } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { useSession } from '../session.tsx';
import { BarChart, LineChart } from './charts.tsx';
import { QualityCharts } from '../quality/QualityCharts.tsx';
import { descendantsOf, useOrgUnits } from './orderBits.tsx';
import { ordersApi, serverNow, statsCsvUrl, type StatsPeriod, type StatsQuery } from './ordersApi.ts';
import './dashboard.css';

const PERIODS: readonly StatsPeriod[] = ['day', 'week', 'month', 'quarter'];

const pad = (n: number) => String(n).padStart(2, '0');
const ymd = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/**
 * What a tab means to a leader (issue 17): 日 today, 周 this week, 月 this
 * month, 季 this quarter, each counted in smaller buckets for its trend (days;
 * months for a quarter). Dates typed in the from/to boxes replace the range.
 */
export function tabQuery(tab: StatsPeriod, now: Date): { period: StatsPeriod; from: string; to: string } {
  const today = ymd(now);
  if (tab === 'day') return { period: 'day', from: today, to: today };
  if (tab === 'week') {
    const monday = new Date(now);
    monday.setDate(now.getDate() - ((now.getDay() + 6) % 7));
    return { period: 'day', from: ymd(monday), to: today };
  }
  if (tab === 'month') return { period: 'day', from: `${now.getFullYear()}-${pad(now.getMonth() + 1)}-01`, to: today };
  const q = Math.floor(now.getMonth() / 3) * 3;
  return { period: 'month', from: `${now.getFullYear()}-${pad(q + 1)}-01`, to: today };
}

/** The range's last day (the server's `to` is the day after it). */
function lastDay(exclusiveTo: string): string {
  const d = new Date(`${exclusiveTo}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}
const COLORS = { received: '#38bdf8', closed: '#22c55e', onTime: '#f59e0b', overdue: '#ef4444' };

export function onTimeRate(row: OrderStatsRow): number | null {
  return row.closed > 0 ? row.closedOnTime / row.closed : null;
}

export function DashboardPage() {
  const { t } = useI18n();
  const { user } = useSession();
  const { units, byId } = useOrgUnits();
  const [period, setPeriod] = useState<StatsPeriod>('month');
  const [unitId, setUnitId] = useState<number>(user.orgUnitId);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [stats, setStats] = useState<OrderStatsView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);

  const query = useMemo<StatsQuery>(() => {
    const tab = tabQuery(period, new Date(serverNow()));
    return {
      orgUnitId: unitId,
      period: tab.period,
      from: from || tab.from,
      to: to || tab.to,
    };
  }, [unitId, period, from, to]);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    ordersApi.stats(query, controller.signal).then(
      (s) => {
        setStats(s);
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (isAbort(err)) return;
        setError(err);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [query]);

  // Units with units below them: the ones whose children make a table.
  const choices = useMemo(() => {
    const own = byId.get(user.orgUnitId);
    const parents = new Set(units.map((u) => u.parentId));
    return [...(own ? [own] : []), ...descendantsOf(user.orgUnitId, units).filter((u) => parents.has(u.id))];
  }, [units, byId, user.orgUnitId]);

  const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
  const mins = (v: number | null) => (v === null ? '—' : String(Math.round(v)));
  const row = (r: OrderStatsRow, total = false) => (
    <tr
      key={total ? 'total' : r.orgUnitId}
      data-unit-id={total ? 'total' : r.orgUnitId}
      className={total ? 'stats-total' : ''}
    >
      <td>{total ? t('dash.total') : r.orgName}</td>
      <td data-col="received">{r.received}</td>
      <td data-col="closed">{r.closed}</td>
      <td data-col="onTimeRate">{pct(onTimeRate(r))}</td>
      <td data-col="avg">{mins(r.avgHandleMinutes)}</td>
      <td data-col="p90">{mins(r.p90HandleMinutes)}</td>
      <td data-col="overdueNow">{r.overdueNow ?? '—'}</td>
    </tr>
  );

  return (
    <div className="dashboard">
      <div className="toolbar">
        <h1 className="page-title">{t('dash.title')}</h1>
        <label className="dashboard__control">
          {t('dash.unit')}
          <select name="dash-unit" value={unitId} onChange={(e) => setUnitId(Number(e.target.value))}>
            {choices.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
        </label>
        <div className="tabs" role="tablist" aria-label={t('dash.period')}>
          {PERIODS.map((p) => (
            <button
              key={p}
              type="button"
              role="tab"
              aria-selected={period === p}
              data-period={p}
              className={`tab ${period === p ? 'tab--active' : ''}`}
              onClick={() => setPeriod(p)}
            >
              {t(`dash.period.${p}`)}
            </button>
          ))}
        </div>
        <label className="dashboard__control">
          {t('dash.from')}
          <input type="date" name="dash-from" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label className="dashboard__control">
          {t('dash.to')}
          <input type="date" name="dash-to" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <span className="toolbar__spacer" />
        {stats && (
          <span className="muted mono" data-range>
            {stats.from} ~ {lastDay(stats.to)}
          </span>
        )}
        <a className="button" href={statsCsvUrl(query)} download data-action="export-csv">
          {t('dash.exportCsv')}
        </a>
      </div>
      {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
      {loading && !stats && <div className="muted">{t('common.loading')}</div>}
      {stats && (
        <div className="dashboard__body">
          <div className="dashboard__kpis">
            <Kpi label={t('dash.received')} value={String(stats.total.received)} name="received" />
            <Kpi label={t('dash.closed')} value={String(stats.total.closed)} name="closed" />
            <Kpi label={t('dash.onTimeRate')} value={pct(onTimeRate(stats.total))} name="onTimeRate" />
            <Kpi label={t('dash.avgMinutes')} value={mins(stats.total.avgHandleMinutes)} name="avg" />
            <Kpi label={t('dash.overdueNow')} value={String(stats.total.overdueNow ?? '—')} name="overdueNow" alert />
          </div>
          <div className="dashboard__main">
            <div className="table-wrap dashboard__table">
              <table className="data-table data-table--stats">
                <thead>
                  <tr>
                    <th>{t('dash.colUnit')}</th>
                    <th>{t('dash.received')}</th>
                    <th>{t('dash.closed')}</th>
                    <th>{t('dash.onTimeRate')}</th>
                    <th>{t('dash.avgMinutes')}</th>
                    <th>{t('dash.p90Minutes')}</th>
                    <th>{t('dash.overdueNow')}</th>
                  </tr>
                </thead>
                <tbody>
                  {stats.units.map((r) => row(r))}
                  {row(stats.total, true)}
                </tbody>
              </table>
            </div>
            <div className="dashboard__charts" data-charts>
              <BarChart
                title={t('dash.chartByUnit')}
                labels={stats.units.map((u) => u.orgName)}
                series={[
                  {
                    key: 'received',
                    label: t('dash.received'),
                    color: COLORS.received,
                    values: stats.units.map((u) => u.received),
                  },
                  {
                    key: 'closed',
                    label: t('dash.closed'),
                    color: COLORS.closed,
                    values: stats.units.map((u) => u.closed),
                  },
                  {
                    key: 'overdue',
                    label: t('dash.overdueNow'),
                    color: COLORS.overdue,
                    values: stats.units.map((u) => u.overdueNow ?? 0),
                  },
                ]}
              />
              <LineChart
                title={t('dash.chartTrend')}
                labels={stats.series.map((s) => s.period ?? '')}
                series={[
                  {
                    key: 'received',
                    label: t('dash.received'),
                    color: COLORS.received,
                    values: stats.series.map((s) => s.received),
                  },
                  {
                    key: 'closed',
                    label: t('dash.closed'),
                    color: COLORS.closed,
                    values: stats.series.map((s) => s.closed),
                  },
                ]}
              />
              <BarChart
                title={t('dash.chartOnTime')}
                labels={stats.units.map((u) => u.orgName)}
                fixedMax={100}
                suffix="%"
                series={[
                  {
                    key: 'onTime',
                    label: t('dash.onTimeRate'),
                    color: COLORS.onTime,
                    values: stats.units.map((u) => Math.round((onTimeRate(u) ?? 0) * 1000) / 10),
                  },
                ]}
              />
              <QualityCharts orgUnitId={unitId} period={period} />
            </div>
          </div>
        </div>
      )}
    </div>
  );
}

function Kpi({ label, value, name, alert = false }: { label: string; value: string; name: string; alert?: boolean }) {
  return (
    <div className={`kpi ${alert && value !== '0' && value !== '—' ? 'kpi--alert' : ''}`} data-kpi={name}>
      <span className="kpi__value">{value}</span>
      <span className="kpi__label">{label}</span>
    </div>
  );
}
