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
  r.post('/discovery/scans', need, (req, res) => {
    res.status(202).json(service.start(authOf(req), req.ip ?? null, parseOr400(scanRequestSchema, req.body)));
  });
  r.get('/discovery/settings', need, (_req, res) => void res.json(service.settings()));
  r.get('/discovery/scans', need, (req, res) => void res.json(service.list(authOf(req))));
  r.get('/discovery/scans/:id', need, (req, res) => {
    res.json(service.get(authOf(req), parseOr400(idParam, req.params).id));
  });
  r.post('/discovery/scans/:id/cancel', need, (req, res) => {
    res.json(service.cancel(authOf(req), parseOr400(idParam, req.params).id));
  });
  // Confirming creates a camera point: it needs the registry write permission as well.
  r.post('/discovery/devices/:id/confirm', need, auth.requirePermission('camera.write'), (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    res.status(201).json(service.confirm(authOf(req), req.ip ?? null, id, parseOr400(confirmSchema, req.body)));
  });
  return r;
}
