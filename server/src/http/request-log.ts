import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { REDACTED, SECRET_KEY, requestContext, type Logger } from './logger.ts';

/** Issue 13: every request has an id, answered in this header and written in its log line. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * An incoming id is kept when it is short and plain (a proxy's or a client's, so one id follows a request
 * across hops); anything else could forge or break log lines, and is replaced.
 */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Path segments and query values this long in the base64url alphabet are bearer tickets (`/streams/<ticket>/…`). */
const OPAQUE = /^[A-Za-z0-9_~.-]{32,}$/;

/** The id of a request (after `requestLog` ran). */
export function requestIdOf(res: Response): string | undefined {
  const id: unknown = res.locals['requestId'];
  return typeof id === 'string' ? id : undefined;
}

/** The URL as it may be logged: stream and playback tickets in the path, and secret query values, replaced. */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q))
    .split('/')
    .map((seg) => (OPAQUE.test(seg) ? REDACTED : seg))
    .join('/');
  if (q < 0) return path;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const [k, v] of [...params]) if (SECRET_KEY.test(k) || OPAQUE.test(v)) params.set(k, REDACTED);
  return `${path}?${params.toString()}`;
}

/**
 * Calls `fn` once, when the answer to a request has ended: sent in full (`finished`), or cut off because the
 * client went away. For the request log and the latency metrics.
 */
export function whenAnswered(res: Response, fn: (finished: boolean) => void): void {
  let done = false;
  const end = () => {
    if (done) return;
    done = true;
    fn(res.writableFinished);
  };
  res.once('finish', end);
  res.once('close', end);
}

/** Requests that come by the hundred per minute from one page and say nothing new: logged at debug. */
const ROUTINE =
  /^\/(streams|recordings|assets)\/|^\/metrics$|^\/api\/v1\/health\/(live|ready)$|\.(js|css|png|svg|ico|woff2?)$/;

/**
 * Gives each request its id (the `x-request-id` header of the answer) and writes one line when its answer
 * is finished or the client went away: method, URL (tickets redacted), status, duration, client address.
 */
export function requestLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.headers[REQUEST_ID_HEADER];
    const id = typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
    res.locals['requestId'] = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    const started = performance.now();
    const url = req.originalUrl;
    const context = { requestId: id, answered: false };
    whenAnswered(res, (finished) => {
      context.answered = true;
      const fields = {
        requestId: id,
        method: req.method,
        url: loggableUrl(url),
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        ip: req.ip,
        ...(finished ? {} : { aborted: true }),
      };
      if (res.statusCode >= 500) log.warn('request', fields);
      else if (ROUTINE.test(url.split('?')[0]!)) log.debug('request', fields);
      else log.info('request', fields);
    });
    requestContext.run(context, next);
  };
}
