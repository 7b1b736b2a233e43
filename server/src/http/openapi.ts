/**
 * Joins the modules' fragments into the OpenAPI 3.1 description of /api/v1.
 * Each module describes its own routes in its `openapi.ts` (from the schemas
 * that validate them); app.ts hands the fragments in. This file owns only what
 * belongs to the whole document: its header, the sessions' security schemes,
 * the shared `Error` schema and the path of the document itself.
 */
import type { Json, OpenApiFragment } from './openapi-parts.ts';

export type { OpenApiFragment } from './openapi-parts.ts';

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        fields: {
          type: 'array',
          items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
};

const OWN_PATHS: Json = {
  '/openapi.json': {
    get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } },
  },
};

/** Adds `from`'s entries to `into`; two fragments naming the same thing is a mistake in one of them. */
function addAll(into: Json, from: Json | undefined, what: string): void {
  for (const [key, value] of Object.entries(from ?? {})) {
    if (key in into) throw new Error(`openapi: ${what} ${key} is described twice`);
    into[key] = value;
  }
}

/** Every `$ref` in the document names a schema some fragment gives. */
function checkRefs(node: unknown, schemas: Json): void {
  if (Array.isArray(node)) {
    for (const n of node) checkRefs(n, schemas);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string') {
      const name = value.replace('#/components/schemas/', '');
      if (!(name in schemas)) throw new Error(`openapi: ${value} names no schema`);
    } else checkRefs(value, schemas);
  }
}

/** The OpenAPI 3.1 description of /api/v1, assembled from the modules' fragments. */
export function openApiDocument(fragments: readonly OpenApiFragment[]): Json {
  const securitySchemes: Json = {
    cookie: { type: 'apiKey', in: 'cookie', name: 'ccc_session' },
    bearer: { type: 'http', scheme: 'bearer' },
  };
  const schemas: Json = { Error: ERROR_SCHEMA };
  const paths: Json = {};
  for (const f of [...fragments, { paths: OWN_PATHS }]) {
    addAll(securitySchemes, f.components?.securitySchemes, 'security scheme');
    addAll(schemas, f.components?.schemas, 'schema');
    // Two modules may serve one path with different methods (GET /networks: org; POST: cameras).
    for (const [p, ops] of Object.entries(f.paths)) {
      const merged = (paths[p] ??= {}) as Json;
      addAll(merged, ops as Json, `operation ${p}`);
    }
  }
  checkRefs(paths, schemas);
  checkRefs(schemas, schemas);
  return {
    openapi: '3.1.0',
    info: {
      title: 'County video command center API',
      version: '1',
      description:
        "Camera-point registry, live video, discovery, health, alerts, accounts and audit. Every call is scoped to the caller's org subtree. Authenticate with the `ccc_session` cookie from /auth/login or `Authorization: Bearer <token>`.",
    },
    servers: [{ url: '/api/v1' }],
    components: { securitySchemes, schemas },
    security: [{ cookie: [] }, { bearer: [] }],
    paths,
  };
}
