import { Router } from 'express';
import { z } from 'zod';
import { authOf, type AuthService } from '../auth/index.ts';
import { parseOr400 } from '../http/errors.ts';
import type { IngestService } from './service.ts';

const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict();
/** Nothing to choose yet; unknown fields are still an error, not ignored. */
const issueBody = z.object({}).strict();

/** /api/v1 routes: publish keys of push-fed points (body-worn cameras, drones). */
export function ingestRoutes(deps: { auth: AuthService; ingest: IngestService }): Router {
  const { auth, ingest } = deps;
  const r = Router();
  r.post('/cameras/:id/publish-key', auth.requirePermission('camera.write'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    parseOr400(issueBody, req.body ?? {});
    res.status(201).json(await ingest.issueKey(authOf(req), req.ip ?? null, id));
  });
  r.delete('/cameras/:id/publish-key', auth.requirePermission('camera.write'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    await ingest.revokeKey(authOf(req), req.ip ?? null, id);
    res.status(204).end();
  });
  return r;
}
