import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { Router, type Request } from 'express';
import type { AppConfig } from '../config/schema.ts';
import { HttpError } from '../http/errors.ts';
import type { Metrics } from './metrics.ts';

/** Where Prometheus scrapes; outside `/api/v1` (no session, no OpenAPI entry), as scrapers expect. */
export const METRICS_PATH = '/metrics';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The socket's peer is this machine (127.0.0.0/8, ::1, or IPv4 loopback written as IPv6). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

/**
 * Who may read the metrics (issue 13). With `metrics.token`: a request bearing it
 * (`Authorization: Bearer <token>`), from anywhere. Without one: only a request made on this machine —
 * by the socket's own peer address, never `X-Forwarded-For` (trust proxy would let a client name itself
 * loopback), and never one relayed by a proxy (a reverse proxy on this machine forwards the world).
 */
export function checkMetricsAccess(req: Request, token: string | null): HttpError | null {
  if (token !== null) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    // Digests first: equal lengths for timingSafeEqual, and no length leak.
    if (m?.[1] && timingSafeEqual(digest(m[1]), digest(token))) return null;
    return new HttpError(401, 'metrics_unauthorized', 'metrics: a valid bearer token is required', undefined, {
      'WWW-Authenticate': 'Bearer realm="metrics"',
    });
  }
  const relayed = req.headers['x-forwarded-for'] !== undefined || req.headers['forwarded'] !== undefined;
  if (isLoopback(req.socket.remoteAddress) && !relayed) return null;
  return new HttpError(
    403,
    'metrics_forbidden',
    'metrics: only readable from this machine unless metrics.token is configured',
  );
}

/** `GET /metrics` in Prometheus' text format; 404 when `metrics.enabled` is off. */
export function metricsRoutes(deps: { metrics: Metrics; config: AppConfig['metrics'] }) {
  const r = Router();
  r.get(METRICS_PATH, async (req, res, next) => {
    if (!deps.config.enabled) return next(new HttpError(404, 'not_found', `no route GET ${METRICS_PATH}`));
    const refused = checkMetricsAccess(req, deps.config.token);
    if (refused) return next(refused);
    const body = await deps.metrics.registry.metrics();
    res.setHeader('Cache-Control', 'no-store');
    res.type(deps.metrics.registry.contentType).send(body);
  });
  return r;
}
