/**
 * Structured one-line JSON logs on stderr, secrets redacted (issue 13).
 *
 * Not pino: pino's redaction takes fixed key paths, and the two rules the
 * platform needs are a key name at any depth (a camera's `password` inside a
 * device reply) and the `user:password@` of a stream URL inside any text (an
 * ffmpeg stderr line, an error message). Both would be our own code on top of
 * pino anyway; what is left (one JSON line per call) is the dozen lines below,
 * in the format every deployment already reads.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { redactUrls } from '../../../streams/src/output-text.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const REDACTED = '[redacted]';

/**
 * Field names whose values are secrets wherever they appear: passwords, session and stream tokens,
 * tickets, device and API keys, credentials, Authorization and Cookie headers.
 */
export const SECRET_KEY =
  /pass(word|wd|phrase)?$|secret|token|ticket|authorization|cookie|credential|api[-_]?key|device[-_]?key|^x-.*-key$/i;

/** A string with the user information of every URL in it replaced (the media plane's rule, this mark). */
export function redactText(text: string): string {
  return redactUrls(text, REDACTED);
}

/** A copy of `value` fit for a log: secret fields and URL credentials replaced, at any depth. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value instanceof Error) return redactText(value.stack ?? `${value.name}: ${value.message}`);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 8) return '[deep]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
  return out;
}

/**
 * The request a line is written for (issue 13): `requestLog` runs each request's handling inside it, so every
 * line written while that request is being answered (a service's warning, a device's refusal) carries its id.
 * Work a request started that goes on after its answer (a relay it opened, a scan) is not that request's any
 * more, and is written without it.
 */
export const requestContext = new AsyncLocalStorage<{ requestId: string; answered: boolean }>();

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const at = (lvl: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const safe = fields ? (redact(fields) as Record<string, unknown>) : {};
    const req = requestContext.getStore();
    const id = req && !req.answered ? { requestId: req.requestId } : {};
    write(JSON.stringify({ t: new Date().toISOString(), level: lvl, msg: redactText(msg), ...id, ...safe }) + '\n');
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };
