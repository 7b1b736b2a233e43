/** GET /api/v1/search: the map's search box (org units, points, addresses), scoped to the caller. */
import { Router } from 'express';
import { z } from 'zod';
import { authOf, type AuthService } from '../auth/index.ts';
import { parseOr400 } from '../http/errors.ts';
import { safeText } from '../http/text.ts';
import type { SearchService } from './service.ts';

export const placeSearchQuery = z
  .object({
    q: safeText({ max: 50 }),
    limit: z.coerce.number().int().min(1).max(50).default(15),
  })
  .strict();

export function searchRoutes(deps: { auth: AuthService; search: SearchService }): Router {
  const r = Router();
  r.get('/search', deps.auth.requirePermission('camera.read'), async (req, res) => {
    const q = parseOr400(placeSearchQuery, req.query);
    res.json(await deps.search.search(authOf(req), q.q, q.limit));
  });
  return r;
}
