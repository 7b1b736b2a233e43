import { Router } from 'express';
import { authOf, type AuthService } from '../auth/index.ts';
import type { HealthService } from './service.ts';

export function healthRoutes(deps: { auth: AuthService; service: HealthService }): Router {
  const r = Router();
  r.get('/health/online-rate', deps.auth.requirePermission('camera.read'), async (req, res) => {
    res.json(await deps.service.onlineRate(authOf(req).scope));
  });
  return r;
}
