/**
 * The dashboard's video figures (issue 16): online rate and 完好率 per unit and over the last 12 periods,
 * alerts over the same periods, and the leaders' report of the period as xlsx or PDF. One GET /reports gives
 * all of it, so the charts and the files show the same numbers.
 */
import { useEffect, useState } from 'react';
import type { ReportView } from '@api/contract.ts';
import { isAbort } from '../api.ts';
import { describeError } from '../errors.ts';
import { currentLang, useI18n } from '../i18n.tsx';
import { BarChart, LineChart } from '../orders/charts.tsx';
import { useSession } from '../session.tsx';
import { qualityApi, reportFileUrl, type Period } from './qualityApi.ts';
import './quality.css';

const COLORS = { online: '#0284c7', intact: '#16a34a', alerts: '#f97316' };
const pct = (v: number | null) => (v === null ? 0 : Math.round(v * 1000) / 10);
const pctText = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);

export function QualityCharts({ orgUnitId, period }: { orgUnitId: number; period: Period }) {
  const { t } = useI18n();
  const { can } = useSession();
  const [report, setReport] = useState<ReportView | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!can('report.read')) return;
    const controller = new AbortController();
    qualityApi.report({ orgUnitId, period }, controller.signal).then(
      (r) => {
        setReport(r);
        setError(null);
      },
      (err: unknown) => {
        if (!isAbort(err)) setError(err);
      },
    );
    return () => controller.abort();
  }, [orgUnitId, period, can]);
  if (!can('report.read')) return null;
  if (error !== null) return <div className="notice notice--error">{describeError(error, t)}</div>;
  if (!report) return null;
  const lang = currentLang() === 'en' ? 'en' : 'zh';
  const q = { orgUnitId, period, date: report.from, lang } as const;
  return (
    <>
      <figure className="chart quality-kpis" data-chart="quality-kpis">
        <figcaption>
          {t('quality.dashTitle')} · {report.from} ~ {report.to}
        </figcaption>
        <div className="dashboard__kpis">
          <div className="kpi" data-kpi="onlineRate">
            <span className="kpi__value">{pctText(report.total.onlineRate)}</span>
            <span className="kpi__label">{t('quality.onlineRate')}</span>
          </div>
          <div className="kpi" data-kpi="intactRate">
            <span className="kpi__value">{pctText(report.total.intactRate)}</span>
            <span className="kpi__label">{t('quality.intactRate')}</span>
          </div>
          <div className="kpi" data-kpi="faultyPoints">
            <span className="kpi__value">{report.total.faultyPoints}</span>
            <span className="kpi__label">{t('quality.faultyPoints')}</span>
          </div>
          <div className="kpi" data-kpi="alerts">
            <span className="kpi__value">{report.total.alerts}</span>
            <span className="kpi__label">{t('quality.alerts')}</span>
          </div>
        </div>
        <div className="quality-report-links">
          <a className="button" href={reportFileUrl('xlsx', q)} download data-action="report-xlsx">
            {t('quality.reportXlsx')}
          </a>
          <a className="button" href={reportFileUrl('pdf', q)} download data-action="report-pdf">
            {t('quality.reportPdf')}
          </a>
        </div>
      </figure>
      <BarChart
        title={t('quality.chartRatesByUnit')}
        labels={report.units.map((u) => u.orgName)}
        fixedMax={100}
        suffix="%"
        series={[
          {
            key: 'online',
            label: t('quality.onlineRate'),
            color: COLORS.online,
            values: report.units.map((u) => pct(u.onlineRate)),
          },
          {
            key: 'intact',
            label: t('quality.intactRate'),
            color: COLORS.intact,
            values: report.units.map((u) => pct(u.intactRate)),
          },
        ]}
      />
      <BarChart
        title={t('quality.chartRatesTrend')}
        labels={report.trend.map((p) => p.period)}
        fixedMax={100}
        suffix="%"
        series={[
          {
            key: 'online',
            label: t('quality.onlineRate'),
            color: COLORS.online,
            values: report.trend.map((p) => pct(p.onlineRate)),
          },
          {
            key: 'intact',
            label: t('quality.intactRate'),
            color: COLORS.intact,
            values: report.trend.map((p) => pct(p.intactRate)),
          },
        ]}
      />
      <LineChart
        title={t('quality.chartAlertsTrend')}
        labels={report.trend.map((p) => p.period)}
        series={[
          {
            key: 'alerts',
            label: t('quality.alerts'),
            color: COLORS.alerts,
            values: report.trend.map((p) => p.alerts),
          },
        ]}
      />
    </>
  );
}
