/**
 * The report as a printable A4 PDF (pdfkit, text as text so it can be searched and copied): the same figures
 * as GET /reports, tables and a trend chart drawn as vectors. Chinese needs a font with CJK glyphs
 * (`reports.pdfFont`, e.g. Debian's fonts-wqy-microhei); the platform is offline, so nothing is fetched.
 */
import PDFDocument from 'pdfkit';
import type { ReportRow, ReportView } from '../api/contract.ts';
import { labels, type ReportLang } from './labels.ts';

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(2)}%`);
const num = (v: number | null) => (v === null ? '—' : String(Math.round(v * 10) / 10));

export function reportPdf(
  r: ReportView,
  lang: ReportLang,
  font: { path: string; face: string | null },
): Promise<Buffer> {
  const { t, kind, type, level } = labels(lang);
  const doc = new PDFDocument({ size: 'A4', margin: 40, info: { Title: `${t.title} ${r.orgName} ${r.from}` } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  if (font.face) doc.registerFont('cjk', font.path, font.face);
  else doc.registerFont('cjk', font.path);
  doc.font('cjk');

  const left = 40;
  const width = doc.page.width - 80;
  doc.fontSize(18).text(`${t.title}（${t[r.period]}）`, { align: 'center' });
  doc.moveDown(0.4);
  doc
    .fontSize(10)
    .text(`${t.unit}: ${r.orgName}    ${t.range}: ${r.from} ~ ${r.to}    ${t.generated}: ${r.generatedAt}`, {
      align: 'center',
    });
  doc.moveDown(1);

  /** A table: header row bold-ish (larger), rows below; columns share the width by weights. */
  const table = (head: string[], rows: string[][], weights: number[]) => {
    const sum = weights.reduce((a, b) => a + b, 0);
    const xs: number[] = [];
    let x = left;
    for (const w of weights) {
      xs.push(x);
      x += (w / sum) * width;
    }
    const line = (cells: string[], size: number) => {
      if (doc.y > doc.page.height - 70) doc.addPage();
      const y = doc.y;
      doc.fontSize(size);
      cells.forEach((c, i) =>
        doc.text(c, xs[i]!, y, { width: (weights[i]! / sum) * width - 4, align: i === 0 ? 'left' : 'right' }),
      );
      doc
        .moveTo(left, doc.y + 2)
        .lineTo(left + width, doc.y + 2)
        .lineWidth(0.3)
        .strokeColor('#999999')
        .stroke();
      doc.y += 5;
      doc.x = left;
    };
    line(head, 9);
    for (const row of rows) line(row, 9);
    doc.moveDown(0.8);
  };
  const heading = (s: string) => {
    if (doc.y > doc.page.height - 120) doc.addPage();
    doc.fontSize(13).text(s, left, doc.y);
    doc.moveDown(0.3);
  };

  heading(t.summary);
  table(
    [t.figure, t.value],
    [
      [t.onlineRate, pct(r.total.onlineRate)],
      [t.intactRate, pct(r.total.intactRate)],
      [t.cameraDays, String(r.total.cameraDays)],
      [t.faultyPoints, String(r.total.faultyPoints)],
      [t.alertCount, String(r.total.alerts)],
      [t.ordersReceived, String(r.total.ordersReceived)],
      [t.ordersClosed, String(r.total.ordersClosed)],
      [t.ordersClosedOnTime, String(r.total.ordersClosedOnTime)],
      [t.ordersOverdueNow, String(r.total.ordersOverdueNow)],
      [t.avgHandleMinutes, num(r.total.avgHandleMinutes)],
    ],
    [3, 2],
  );

  heading(t.units);
  const unitCells = (u: ReportRow, name: string) => [
    name,
    pct(u.onlineRate),
    pct(u.intactRate),
    String(u.faultyPoints),
    String(u.alerts),
    String(u.ordersReceived),
    String(u.ordersClosed),
    String(u.ordersOverdueNow),
  ];
  table(
    [
      t.unit,
      t.onlineRate,
      t.intactRate,
      t.faultyPoints,
      t.alertCount,
      t.ordersReceived,
      t.ordersClosed,
      t.ordersOverdueNow,
    ],
    [...r.units.map((u) => unitCells(u, u.orgName)), unitCells(r.total, t.total)],
    [3, 2, 2, 2, 2, 2, 2, 2],
  );

  heading(t.faults);
  table(
    [t.kind, t.points],
    r.faults.map((f) => [kind[f.kind], String(f.points)]),
    [3, 2],
  );

  heading(t.alerts);
  table(
    [t.type, t.count],
    r.alertsByType.filter((a) => a.count > 0).map((a) => [type[a.type], String(a.count)]),
    [3, 2],
  );
  table(
    [t.level, t.count],
    r.alertsByLevel.map((a) => [level[a.level], String(a.count)]),
    [3, 2],
  );

  // Trend: online rate and 完好率 as lines over the 12 periods (0–100 %).
  heading(`${t.trend}: ${t.onlineRate} / ${t.intactRate}`);
  if (doc.y > doc.page.height - 200) doc.addPage();
  const top = doc.y + 5;
  const h = 130;
  const w = width - 40;
  const x0 = left + 35;
  doc.lineWidth(0.5).strokeColor('#999999');
  for (const f of [0, 0.5, 1]) {
    const y = top + h * (1 - f);
    doc
      .moveTo(x0, y)
      .lineTo(x0 + w, y)
      .stroke();
    doc.fontSize(8).text(`${f * 100}%`, left, y - 4, { width: 30, align: 'right' });
  }
  const n = r.trend.length;
  const px = (i: number) => x0 + (n > 1 ? (w * i) / (n - 1) : w / 2);
  const draw = (values: (number | null)[], color: string) => {
    let started = false;
    values.forEach((v, i) => {
      if (v === null) return;
      const y = top + h * (1 - v);
      if (!started) doc.moveTo(px(i), y);
      else doc.lineTo(px(i), y);
      started = true;
    });
    if (started) doc.lineWidth(1.5).strokeColor(color).stroke();
  };
  draw(
    r.trend.map((p) => p.onlineRate),
    '#0284c7',
  );
  draw(
    r.trend.map((p) => p.intactRate),
    '#16a34a',
  );
  r.trend.forEach((p, i) => {
    if (n > 8 && i % 2) return;
    doc
      .fillColor('#333333')
      .fontSize(7)
      .text(p.period.slice(2), px(i) - 20, top + h + 4, { width: 40, align: 'center' });
  });
  doc.y = top + h + 18;
  doc.x = left;
  doc.fontSize(8).fillColor('#0284c7').text(`— ${t.onlineRate}`, { continued: true });
  doc.fillColor('#16a34a').text(`    — ${t.intactRate}`);
  doc.fillColor('black');
  doc.moveDown(1);
  table(
    [t.periodCol, t.onlineRate, t.intactRate, t.alertCount, t.ordersReceived, t.ordersClosed],
    r.trend.map((p) => [
      p.period,
      pct(p.onlineRate),
      pct(p.intactRate),
      String(p.alerts),
      String(p.ordersReceived),
      String(p.ordersClosed),
    ]),
    [3, 2, 2, 2, 2, 2],
  );
  doc.end();
  return done;
}
