import { Router, type Response } from 'express';
import { authOf, type AuthService } from '../auth/index.ts';
import { parseOr400 } from '../http/errors.ts';
import { idParam, pointsQuery, sweepRequest, trendQuery } from './schema.ts';
import type { QualityService } from './service.ts';
import { z } from 'zod';

const rateQuery = z
  .object({ orgUnitId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional() })
  .strict();

const jpeg = (res: Response, bytes: Buffer) => {
  res.setHeader('Content-Type', 'image/jpeg');
  res.setHeader('Cache-Control', 'private, max-age=300');
  res.send(bytes);
};

/** /api/v1/quality: diagnosis results, thumbnails, references, sweeps, 完好率 and its trend. */
export function qualityRoutes(deps: { auth: AuthService; quality: QualityService }): Router {
  const { auth, quality } = deps;
  const r = Router();
  const read = auth.requirePermission('quality.read');
  const manage = auth.requirePermission('quality.manage');
  r.get('/quality/points', read, async (req, res) => {
    res.json(await quality.points(authOf(req), parseOr400(pointsQuery, req.query)));
  });
  r.get('/quality/points/:id', read, async (req, res) => {
    res.json(await quality.point(authOf(req), parseOr400(idParam, req.params).id));
  });
  r.get('/quality/points/:id/reference.jpg', read, async (req, res) => {
    jpeg(res, await quality.referenceJpeg(authOf(req), parseOr400(idParam, req.params).id));
  });
  r.post('/quality/points/:id/reference', manage, async (req, res) => {
    res.json(await quality.renewReference(authOf(req), req.ip ?? null, parseOr400(idParam, req.params).id));
  });
  r.get('/quality/checks/:id/thumbnail.jpg', read, async (req, res) => {
    jpeg(res, await quality.thumbnail(authOf(req), parseOr400(idParam, req.params).id));
  });
  r.get('/quality/intact-rate', read, async (req, res) => {
    res.json(await quality.intactRate(authOf(req), parseOr400(rateQuery, req.query).orgUnitId));
  });
  r.get('/quality/trend', read, async (req, res) => {
    res.json(await quality.trend(authOf(req), parseOr400(trendQuery, req.query)));
  });
  r.get('/quality/sweeps', read, async (req, res) => {
    res.json(await quality.sweeps(authOf(req)));
  });
  r.post('/quality/sweeps', manage, async (req, res) => {
    const sweep = await quality.startSweep(authOf(req), req.ip ?? null, parseOr400(sweepRequest, req.body ?? {}));
    res.status(202).json(sweep);
  });
  return r;
}
