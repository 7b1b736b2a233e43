import { Router } from 'express';
import { z } from 'zod';
import { authOf, type AuthService } from '../auth/index.ts';
import { parseOr400 } from '../http/errors.ts';
import { confirmSchema, scanRequestSchema } from './schema.ts';
import type { DiscoveryService } from './service.ts';

const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict();

export function discoveryRoutes(deps: { auth: AuthService; service: DiscoveryService }): Router {
  const { auth, service } = deps;
  const r = Router();
  const need = auth.requirePermission('discovery.scan');
  r.post('/discovery/scans', need, async (req, res) => {
    res.status(202).json(await service.start(authOf(req), req.ip ?? null, parseOr400(scanRequestSchema, req.body)));
  });
  r.get('/discovery/settings', need, (_req, res) => void res.json(service.settings()));
  r.get('/discovery/scans', need, async (req, res) => void res.json(await service.list(authOf(req))));
  r.get('/discovery/scans/:id', need, async (req, res) => {
    res.json(await service.get(authOf(req), parseOr400(idParam, req.params).id));
  });
  r.post('/discovery/scans/:id/cancel', need, async (req, res) => {
    res.json(await service.cancel(authOf(req), parseOr400(idParam, req.params).id));
  });
  // Confirming creates a camera point: it needs the registry write permission as well.
  r.post('/discovery/devices/:id/confirm', need, auth.requirePermission('camera.write'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    res.status(201).json(await service.confirm(authOf(req), req.ip ?? null, id, parseOr400(confirmSchema, req.body)));
  });
  return r;
}
