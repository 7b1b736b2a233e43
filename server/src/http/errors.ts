import type { z } from 'zod';
import type { FieldError } from '../api/contract.ts';

/** An error with an HTTP status that is safe to show to the caller. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;
  constructor(status: number, code: string, message: string, fields?: FieldError[], headers?: Record<string, string>) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.headers = headers;
  }
}

export const badRequest = (fields: FieldError[], message?: string) =>
  new HttpError(400, 'validation_failed', message ?? fields.map((f) => `${f.path}: ${f.message}`).join('; '), fields);
export const notFound = (what = 'resource') => new HttpError(404, 'not_found', `${what} not found`);
export const forbidden = (message = 'not allowed', fields?: FieldError[]) =>
  new HttpError(403, 'forbidden', message, fields);
export const conflict = (message: string, fields?: FieldError[]) => new HttpError(409, 'conflict', message, fields);
export const unauthorized = () => new HttpError(401, 'unauthorized', 'login required');

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  const parts = path.map(String);
  const p = parts.join('.');
  if (!prefix) return p || 'body';
  return p ? `${prefix}.${p}` : prefix;
}

/** zod issues → one FieldError per offending field, unknown keys named one by one. */
export function zodFields(error: z.ZodError, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out.push({ path: joinPath(prefix, [...issue.path, k]), message: 'unknown field' });
    } else {
      out.push({ path: joinPath(prefix, issue.path), message: issue.message });
    }
  }
  return out;
}

/** Validates `input` or throws a 400 naming every bad field. */
export function parseOr400<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw badRequest(zodFields(r.error, prefix));
  return r.data;
}
