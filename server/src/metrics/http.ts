import type { NextFunction, Request, Response } from 'express';
import { whenAnswered } from '../http/request-log.ts';
import type { Metrics } from './metrics.ts';

/**
 * The route label of a request: the Express route pattern with its mount point (`/api/v1/cameras/:id`),
 * never the path itself — ids, tickets and tile coordinates would make a series per request. A request no
 * route took is `unmatched` under the API and `static` elsewhere (the client's files).
 */
export function routePattern(req: Request, mounts: readonly string[]): string {
  const pattern: unknown = (req.route as { path?: unknown } | undefined)?.path;
  const url = req.originalUrl.split('?')[0]!;
  const mount = mounts.find((m) => url === m || url.startsWith(`${m}/`)) ?? '';
  if (typeof pattern === 'string') return `${mount}${pattern}`;
  return mount ? `${mount}/unmatched` : 'static';
}

/** Observes every request's duration by method, route pattern and status when its answer ends. */
export function httpMetrics(metrics: Metrics, mounts: readonly string[]) {
  return (req: Request, res: Response, next: NextFunction) => {
    const stop = metrics.httpDuration.startTimer();
    // A client that went away before the answer is counted with status 499, as nginx logs it.
    whenAnswered(res, (finished) =>
      stop({ method: req.method, route: routePattern(req, mounts), status: finished ? String(res.statusCode) : '499' }),
    );
    next();
  };
}
