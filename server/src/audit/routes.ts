import { Router } from 'express';
import { z } from 'zod';
import type { AuditEntry, Page } from '../api/contract.ts';
import type { AuthService } from '../auth/index.ts';
import { parseOr400 } from '../http/errors.ts';
import type { AuditLog } from './index.ts';

const query = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z
      .string()
      .regex(/^\d{1,15}$/, 'not a cursor this server issued')
      .optional(),
    action: z
      .string()
      .regex(/^[a-z]+\.[a-z_]+$/, 'an action such as camera.update')
      .optional(),
  })
  .strict();

export function auditRoutes(deps: { auth: AuthService; audit: AuditLog }): Router {
  const r = Router();
  r.get('/audit', deps.auth.requirePermission('audit.read'), (req, res) => {
    const q = parseOr400(query, req.query);
    const items = deps.audit.list({
      limit: q.limit + 1,
      ...(q.cursor ? { beforeId: Number(q.cursor) } : {}),
      ...(q.action ? { action: q.action } : {}),
    });
    const page = items.slice(0, q.limit);
    const last = page[page.length - 1];
    const out: Page<AuditEntry> = { items: page, nextCursor: items.length > q.limit && last ? String(last.id) : null };
    res.json(out);
  });
  return r;
}
