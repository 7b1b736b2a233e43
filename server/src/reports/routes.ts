import { Router, type Request } from 'express';
import { z } from 'zod';
import { actorOf, type AuditLog } from '../audit/index.ts';
import { authOf, type AuthService } from '../auth/index.ts';
import { HttpError, parseOr400 } from '../http/errors.ts';
import { reportPdf } from './pdf.ts';
import type { ReportService } from './service.ts';
import { reportXlsx } from './xlsx.ts';

export const reportQuery = z
  .object({
    /** A unit of your jurisdiction; default your own. */
    orgUnitId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    period: z.enum(['day', 'week', 'month', 'quarter']).default('month'),
    /** Any local date inside the period; default today. */
    date: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date like 2026-11-01')
      .optional(),
    /** Language of the xlsx and PDF files. */
    lang: z.enum(['zh', 'en']).default('zh'),
  })
  .strict();

/** /api/v1/reports: the leaders' report as JSON, xlsx and PDF (exports audited). */
export function reportRoutes(deps: {
  auth: AuthService;
  reports: ReportService;
  audit: AuditLog;
  pdfFont: { path: string; face: string | null } | null;
}): Router {
  const { auth, reports, audit } = deps;
  const r = Router();
  const read = auth.requirePermission('report.read');
  const exported = async (req: Request, format: string, q: z.output<typeof reportQuery>, unitId: number) => {
    const ctx = authOf(req);
    await audit.record({
      actor: actorOf(ctx, req.ip ?? null),
      action: 'report.export',
      targetType: 'org_unit',
      targetId: unitId,
      outcome: 'ok',
      detail: { format, period: q.period, date: q.date ?? null },
    });
  };
  r.get('/reports', read, async (req, res) => {
    const q = parseOr400(reportQuery, req.query);
    res.json(await reports.report(authOf(req), q));
  });
  r.get('/reports.xlsx', read, async (req, res) => {
    const q = parseOr400(reportQuery, req.query);
    const view = await reports.report(authOf(req), q);
    const body = await reportXlsx(view, q.lang);
    await exported(req, 'xlsx', q, view.orgUnitId);
    res.setHeader('Content-Type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    res.setHeader('Content-Disposition', `attachment; filename="report-${view.period}-${view.from}.xlsx"`);
    res.send(body);
  });
  r.get('/reports.pdf', read, async (req, res) => {
    const q = parseOr400(reportQuery, req.query);
    if (!deps.pdfFont) throw new HttpError(503, 'pdf_unavailable', 'PDF reports need reports.pdfFont (a CJK font)');
    const view = await reports.report(authOf(req), q);
    const body = await reportPdf(view, q.lang, deps.pdfFont);
    await exported(req, 'pdf', q, view.orgUnitId);
    res.setHeader('Content-Type', 'application/pdf');
    res.setHeader('Content-Disposition', `attachment; filename="report-${view.period}-${view.from}.pdf"`);
    res.send(body);
  });
  return r;
}
