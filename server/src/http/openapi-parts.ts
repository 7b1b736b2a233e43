/**
 * The pieces every module's `openapi.ts` builds its fragment from, so each
 * fragment describes its routes the same way. Fragments are joined into one
 * document by `openapi.ts` beside this file; no module imports that one.
 */
import { z } from 'zod';

export type Json = Record<string, unknown>;

/** One module's part of the OpenAPI document: the paths it serves and the components they name. */
export interface OpenApiFragment {
  paths: Json;
  components?: { schemas?: Json; securitySchemes?: Json };
}

/** A request schema as JSON Schema: what a client may send (defaults optional). */
export const schema = (s: z.ZodType): Json => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Json;

const errorRef = { $ref: '#/components/schemas/Error' };

const STATUS: Record<number, string> = {
  400: 'invalid input; `error.fields` names each bad field (text follows one policy: NFC, no control or bidi characters, not blank; a JSON body that is not UTF-8 is `bad_encoding`)',
  401: 'no session',
  403: 'role or jurisdiction forbids it',
  404: 'not found (or outside your jurisdiction)',
  409: 'conflict: duplicate code, stale version, or a transition the current status does not allow',
  413: 'body too large',
  415: 'wrong content type',
  422: 'import rejected; nothing written',
  429: 'too many attempts or alerts; `Retry-After` says when to try again',
  503: 'the feature is not configured or not running on this server',
};

const errorResponses = (describe: (code: number) => string, codes: number[]): Json =>
  Object.fromEntries(
    codes.map((c) => [String(c), { description: describe(c), content: { 'application/json': { schema: errorRef } } }]),
  );

/** Error answers, each described by what the status means here. */
export const errors = (...codes: number[]): Json => errorResponses((c) => STATUS[c] ?? 'error', codes);

/**
 * Error answers described only as `error`: how the fragments written since
 * issue 14 (walls, quality, recording, reports, the map, the alert list)
 * describe theirs. Kept apart so this refactor leaves the document as it was.
 */
export const plainErrors = (...codes: number[]): Json => errorResponses(() => 'error', codes);

/** Each property of a query schema as one query parameter. */
export function queryParams(s: z.ZodType): Json[] {
  const js = schema(s) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, sch]) => ({
    name,
    in: 'query',
    required: js.required?.includes(name) ?? false,
    schema: sch,
  }));
}

/** The `{id}` of a path: a positive integer. */
export const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };

/** A string path parameter. */
export const stringParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });

/** A JSON body or answer that is a named component schema. */
export const jsonRef = (ref: string) => ({
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});

/** A required JSON request body from the schema that validates it. */
export const jsonBody = (s: z.ZodType) => ({ required: true, content: { 'application/json': { schema: schema(s) } } });
