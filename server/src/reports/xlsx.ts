/**
 * The report as an Excel workbook (exceljs): every figure a number cell (rates as fractions with a percent
 * format), so a leader's own formulas work on it; one sheet per part, the same figures as GET /reports.
 */
import ExcelJS from 'exceljs';
import type { ReportRow, ReportView } from '../api/contract.ts';
import { labels, type ReportLang } from './labels.ts';

const PCT = '0.00%';

export async function reportXlsx(r: ReportView, lang: ReportLang): Promise<Buffer> {
  const { t, kind, type, level } = labels(lang);
  const wb = new ExcelJS.Workbook();
  wb.creator = 'county-video-command-center';
  wb.created = new Date(r.generatedAt);

  const summary = wb.addWorksheet(t.summary);
  summary.columns = [{ width: 24 }, { width: 28 }];
  summary.addRows([
    [t.title],
    [t.unit, r.orgName],
    [t.period, t[r.period]],
    [t.range, `${r.from} ~ ${r.to}`],
    [t.generated, r.generatedAt],
    [],
    [t.figure, t.value],
  ]);
  const figures: [string, number | null, boolean][] = [
    [t.onlineRate, r.total.onlineRate, true],
    [t.intactRate, r.total.intactRate, true],
    [t.cameraDays, r.total.cameraDays, false],
    [t.faultyPoints, r.total.faultyPoints, false],
    [t.alertCount, r.total.alerts, false],
    [t.ordersReceived, r.total.ordersReceived, false],
    [t.ordersClosed, r.total.ordersClosed, false],
    [t.ordersClosedOnTime, r.total.ordersClosedOnTime, false],
    [t.ordersOverdueNow, r.total.ordersOverdueNow, false],
    [t.avgHandleMinutes, r.total.avgHandleMinutes, false],
  ];
  for (const [name, v, pct] of figures) {
    const row = summary.addRow([name, v]);
    if (pct) row.getCell(2).numFmt = PCT;
  }
  summary.getRow(1).font = { bold: true, size: 14 };

  const units = wb.addWorksheet(t.units);
  const head = [
    t.unit,
    t.onlineRate,
    t.intactRate,
    t.cameraDays,
    t.faultyPoints,
    t.alertCount,
    t.ordersReceived,
    t.ordersClosed,
    t.ordersClosedOnTime,
    t.ordersOverdueNow,
    t.avgHandleMinutes,
  ];
  units.addRow(head).font = { bold: true };
  units.columns.forEach((c) => (c.width = 14));
  const cells = (x: ReportRow, name: string) => [
    name,
    x.onlineRate,
    x.intactRate,
    x.cameraDays,
    x.faultyPoints,
    x.alerts,
    x.ordersReceived,
    x.ordersClosed,
    x.ordersClosedOnTime,
    x.ordersOverdueNow,
    x.avgHandleMinutes,
  ];
  for (const u of r.units) units.addRow(cells(u, u.orgName));
  units.addRow(cells(r.total, t.total)).font = { bold: true };
  units.getColumn(2).numFmt = PCT;
  units.getColumn(3).numFmt = PCT;

  const faults = wb.addWorksheet(t.faults);
  faults.addRow([t.kind, t.points]).font = { bold: true };
  for (const f of r.faults) faults.addRow([kind[f.kind], f.points]);
  faults.getColumn(1).width = 16;

  const alerts = wb.addWorksheet(t.alerts);
  alerts.addRow([t.type, t.count]).font = { bold: true };
  for (const a of r.alertsByType) alerts.addRow([type[a.type], a.count]);
  alerts.addRow([]);
  alerts.addRow([t.level, t.count]).font = { bold: true };
  for (const a of r.alertsByLevel) alerts.addRow([level[a.level], a.count]);
  alerts.getColumn(1).width = 22;

  const trend = wb.addWorksheet(t.trend);
  trend.addRow([t.periodCol, t.onlineRate, t.intactRate, t.alertCount, t.ordersReceived, t.ordersClosed]).font = {
    bold: true,
  };
  for (const p of r.trend)
    trend.addRow([p.period, p.onlineRate, p.intactRate, p.alerts, p.ordersReceived, p.ordersClosed]);
  trend.getColumn(2).numFmt = PCT;
  trend.getColumn(3).numFmt = PCT;
  trend.columns.forEach((c) => (c.width = 14));

  return Buffer.from(await wb.xlsx.writeBuffer());
}
