import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AuditEntry, Page } from '../api/contract.ts';
import { authOf, type AuthContext, type AuthService } from '../auth/index.ts';
import { csvLine } from '../csv/csv.ts';
import { parseOr400 } from '../http/errors.ts';
import { actorOf, type AuditFilter, type AuditLog, type AuditScope } from './index.ts';

const instant = (label: string) =>
  z
    .string()
    .max(40)
    .refine((s) => !Number.isNaN(Date.parse(s)), `${label} must be a date and time (ISO 8601)`)
    .transform((s) => new Date(s).toISOString());

/** The filters the audit page and its export share. */
export const auditFilterSchema = z.object({
  action: z
    .string()
    .regex(/^[a-z_]+(\.[a-z_-]+)*(\.\*)?$/, 'an action such as camera.update, or a family such as camera.*')
    .max(64)
    .optional(),
  outcome: z.enum(['ok', 'denied', 'failed']).optional(),
  user: z.string().min(1).max(64).optional(),
  targetType: z
    .string()
    .regex(/^[a-z_]{1,32}$/, 'a target type such as camera')
    .optional(),
  targetId: z.string().min(1).max(64).optional(),
  from: instant('from').optional(),
  to: instant('to').optional(),
});

export const auditQuerySchema = auditFilterSchema
  .extend({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z
      .string()
      .regex(/^\d{1,15}$/, 'not a cursor this server issued')
      .optional(),
  })
  .strict();

export const auditExportQuerySchema = auditFilterSchema
  .extend({ lang: z.enum(['zh-CN', 'en']).default('zh-CN') })
  .strict();

/** The most rows one export writes; narrow the filter for more. */
const EXPORT_MAX = 50_000;

/** Whose entries the caller reads (see AuditScope): the root unit's admins read all. */
export function auditScopeOf(ctx: AuthContext): AuditScope {
  return ctx.orgUnit.parentId === null ? { whole: true } : { whole: false, path: ctx.scope.path };
}

const filterOf = (q: z.output<typeof auditFilterSchema>): AuditFilter => ({
  ...(q.action ? { action: q.action } : {}),
  ...(q.outcome ? { outcome: q.outcome } : {}),
  ...(q.user ? { username: q.user } : {}),
  ...(q.targetType ? { targetType: q.targetType } : {}),
  ...(q.targetId ? { targetId: q.targetId } : {}),
  ...(q.from ? { from: q.from } : {}),
  ...(q.to ? { to: q.to } : {}),
});

const HEADERS = {
  'zh-CN': ['编号', '时间', '用户', '操作', '对象类型', '对象编号', '结果', 'IP', '详情'],
  en: ['id', 'time', 'user', 'action', 'target type', 'target id', 'outcome', 'ip', 'detail'],
} as const;

export function auditRoutes(deps: { auth: AuthService; audit: AuditLog }): Router {
  const r = Router();
  const ip = (req: Request) => req.ip ?? null;
  r.get('/audit', deps.auth.requirePermission('audit.read'), async (req, res) => {
    const ctx = authOf(req);
    const q = parseOr400(auditQuerySchema, req.query);
    const items = await deps.audit.list({
      limit: q.limit + 1,
      scope: auditScopeOf(ctx),
      ...(q.cursor ? { beforeId: Number(q.cursor) } : {}),
      ...filterOf(q),
    });
    const page = items.slice(0, q.limit);
    const last = page[page.length - 1];
    const out: Page<AuditEntry> = { items: page, nextCursor: items.length > q.limit && last ? String(last.id) : null };
    res.json(out);
  });

  // The same filters as the page, as CSV (UTF-8 with BOM for Excel); the export itself is audited.
  r.get('/audit/export.csv', deps.auth.requirePermission('audit.read'), async (req, res) => {
    const ctx = authOf(req);
    const q = parseOr400(auditExportQuerySchema, req.query);
    const filter = filterOf(q);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="audit-${new Date().toISOString().slice(0, 10)}.csv"`);
    res.write('\uFEFF' + csvLine(HEADERS[q.lang]));
    let before: number | undefined;
    let n = 0;
    while (n < EXPORT_MAX) {
      const rows = await deps.audit.list({
        limit: Math.min(2000, EXPORT_MAX - n),
        scope: auditScopeOf(ctx),
        ...(before !== undefined ? { beforeId: before } : {}),
        ...filter,
      });
      if (!rows.length) break;
      res.write(
        rows
          .map((e) =>
            csvLine([
              e.id,
              e.at,
              e.username,
              e.action,
              e.targetType,
              e.targetId,
              e.outcome,
              e.ip,
              e.detail ? JSON.stringify(e.detail) : '',
            ]),
          )
          .join(''),
      );
      n += rows.length;
      before = rows[rows.length - 1]!.id;
    }
    // Audited before the last byte, so whoever reads the log after the download sees it.
    await deps.audit.record({
      actor: actorOf(ctx, ip(req)),
      action: 'audit.export',
      outcome: 'ok',
      detail: { rows: n, ...filter },
    });
    res.end();
  });
  return r;
}
