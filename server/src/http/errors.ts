import type { z } from 'zod';
import type { FieldError } from '../api/contract.ts';
import { codeOfMessage, type CodedMessage } from '../api/messages.ts';

/** A field error with its code (issue 17): kept when given, else recognised from its text. */
export function codedField(f: FieldError): FieldError {
  if (f.code) return f;
  const coded = codeOfMessage(f.message);
  return coded ? { ...f, ...coded } : f;
}

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
    this.fields = fields?.map(codedField);
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

/**
 * The code of a zod issue whose message is zod's own (ours are recognised by
 * their text): by its kind and bounds, so the console can say it in its language.
 */
function codeOfIssue(issue: z.core.$ZodIssue): CodedMessage | undefined {
  const n = (v: unknown) => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number(v));
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? { code: 'required' }
        : { code: 'invalid_type', params: { expected: issue.expected } };
    case 'too_small':
      if (issue.origin === 'string') return { code: 'too_short', params: { min: n(issue.minimum) } };
      if (issue.origin === 'array' || issue.origin === 'set')
        return { code: 'too_few_items', params: { min: n(issue.minimum) } };
      return { code: 'too_small_number', params: { min: n(issue.minimum) } };
    case 'too_big':
      if (issue.origin === 'string') return { code: 'too_long', params: { max: n(issue.maximum) } };
      if (issue.origin === 'array' || issue.origin === 'set')
        return { code: 'too_many_items', params: { max: n(issue.maximum) } };
      return { code: 'too_big_number', params: { max: n(issue.maximum) } };
    case 'invalid_value':
      return { code: 'invalid_value', params: { values: issue.values.map(String).join(', ') } };
    case 'invalid_format':
    case 'invalid_union':
      return { code: 'invalid_format' };
    default:
      return undefined;
  }
}

/** zod issues → one FieldError per offending field, unknown keys named one by one, each with its code. */
export function zodFields(error: z.ZodError, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys)
        out.push({ path: joinPath(prefix, [...issue.path, k]), message: 'unknown field', code: 'unknown_field' });
    } else {
      const missing = issue.code === 'invalid_type' && issue.input === undefined;
      const coded = missing ? { code: 'required' as const } : (codeOfMessage(issue.message) ?? codeOfIssue(issue));
      out.push({ path: joinPath(prefix, issue.path), message: issue.message, ...(coded ?? {}) });
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
