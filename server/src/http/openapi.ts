import { z } from 'zod';
import { cameraCreateSchema, cameraPatchSchema, cameraQuerySchema } from '../cameras/schema.ts';

type Json = Record<string, unknown>;

const schema = (s: z.ZodType): Json => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Json;

const error = { $ref: '#/components/schemas/Error' };
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      { description: STATUS[c] ?? 'error', content: { 'application/json': { schema: error } } },
    ]),
  );
const STATUS: Record<number, string> = {
  400: 'invalid input; `error.fields` names each bad field',
  401: 'no session',
  403: 'role or jurisdiction forbids it',
  404: 'not found (or outside your jurisdiction)',
  409: 'conflict: duplicate code or stale version',
  413: 'body too large',
  415: 'wrong content type',
  422: 'import rejected; nothing written',
  429: 'too many attempts',
};

function queryParams(s: z.ZodObject): Json[] {
  const js = schema(s) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, sch]) => ({
    name,
    in: 'query',
    required: js.required?.includes(name) ?? false,
    schema: sch,
  }));
}

/** The OpenAPI 3.1 description of /api/v1, generated from the same schemas that validate requests. */
export function openApiDocument(): Json {
  const json = (ref: string) => ({
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
  });
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'County video command center API',
      version: '1',
      description:
        "Camera-point registry, accounts and audit. Every call is scoped to the caller's org subtree. Authenticate with the `ccc_session` cookie from /auth/login or `Authorization: Bearer <token>`.",
    },
    servers: [{ url: '/api/v1' }],
    components: {
      securitySchemes: {
        cookie: { type: 'apiKey', in: 'cookie', name: 'ccc_session' },
        bearer: { type: 'http', scheme: 'bearer' },
      },
      schemas: {
        Error: {
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
        },
        CameraPointInput: schema(cameraCreateSchema),
        CameraPointPatch: schema(cameraPatchSchema),
        CameraPoint: {
          type: 'object',
          description: 'A camera point; credentials are never returned, only `hasCredentials`.',
        },
        CameraPage: {
          type: 'object',
          properties: {
            items: { type: 'array', items: { $ref: '#/components/schemas/CameraPoint' } },
            nextCursor: { type: ['string', 'null'] },
            total: { type: 'integer' },
          },
        },
        ImportReport: {
          type: 'object',
          properties: {
            ok: { type: 'boolean' },
            rows: { type: 'integer' },
            created: { type: 'integer' },
            encoding: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                properties: { line: { type: 'integer' }, field: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
    security: [{ cookie: [] }, { bearer: [] }],
    paths: {
      '/auth/login': {
        post: {
          summary: 'Log in with username and password (rate limited)',
          security: [],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['username', 'password'],
                  properties: { username: { type: 'string' }, password: { type: 'string' } },
                },
              },
            },
          },
          responses: {
            '200': { description: 'session created; sets the cookie and returns a bearer token' },
            ...errors(400, 401, 429),
          },
        },
      },
      '/auth/logout': { post: { summary: 'End the session', responses: { '204': { description: 'logged out' } } } },
      '/auth/me': {
        get: {
          summary: 'The current user with permissions',
          responses: { '200': { description: 'SessionUser' }, ...errors(401) },
        },
      },
      '/org-units': {
        get: {
          summary: "The caller's org subtree with camera counts",
          responses: { '200': { description: 'OrgUnitView[]' }, ...errors(401) },
        },
      },
      '/networks': {
        get: {
          summary: 'Camera networks with counts in scope',
          responses: { '200': { description: 'NetworkView[]' }, ...errors(401) },
        },
      },
      '/cameras': {
        get: {
          summary: 'Search camera points (cursor pagination)',
          parameters: queryParams(cameraQuerySchema),
          responses: { '200': { description: 'a page', ...json('CameraPage') }, ...errors(400, 401, 403) },
        },
        post: {
          summary: 'Register a camera point',
          requestBody: { required: true, ...json('CameraPointInput') },
          responses: { '201': { description: 'created', ...json('CameraPoint') }, ...errors(400, 401, 403, 409, 413) },
        },
      },
      '/cameras/{id}': {
        get: {
          summary: 'One camera point',
          parameters: [idParam],
          responses: { '200': { description: 'the point', ...json('CameraPoint') }, ...errors(401, 404) },
        },
        patch: {
          summary: 'Change fields; send `version` to detect concurrent edits',
          parameters: [idParam],
          requestBody: { required: true, ...json('CameraPointPatch') },
          responses: { '200': { description: 'updated', ...json('CameraPoint') }, ...errors(400, 401, 403, 404, 409) },
        },
        delete: {
          summary: 'Remove a camera point',
          parameters: [idParam],
          responses: { '204': { description: 'deleted' }, ...errors(401, 403, 404) },
        },
      },
      '/cameras/{id}/publish-key': {
        post: {
          summary:
            'Issue or rotate the RTMP publish key of a push-fed point (body-worn camera, drone); the key is in this answer only',
          parameters: [idParam],
          requestBody: { required: false, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: {
            '201': { description: 'PublishKeyIssued: publishUrl and key; the point now streams from the ingest' },
            ...errors(400, 401, 403, 404),
            '503': { description: 'RTMP ingest is not running on this server' },
          },
        },
        delete: {
          summary: 'Revoke the publish key and disconnect the device pushing with it',
          parameters: [idParam],
          responses: { '204': { description: 'revoked' }, ...errors(401, 403, 404) },
        },
      },
      '/cameras/import': {
        post: {
          summary: 'Import a CSV point ledger (UTF-8 or GBK/GB18030), all or nothing',
          requestBody: { required: true, content: { 'text/csv': { schema: { type: 'string' } } } },
          responses: {
            '201': { description: 'all rows created', ...json('ImportReport') },
            '422': { description: 'rejected; every bad row listed; nothing written', ...json('ImportReport') },
            ...errors(400, 401, 403, 413, 415),
          },
        },
      },
      '/cameras/export.csv': {
        get: {
          summary: 'Export points in scope as CSV (UTF-8 with BOM); never credentials',
          responses: { '200': { description: 'CSV', content: { 'text/csv': {} } }, ...errors(400, 401, 403) },
        },
      },
      '/audit': {
        get: {
          summary: 'Audit log, newest first (admins)',
          responses: { '200': { description: 'Page<AuditEntry>' }, ...errors(401, 403) },
        },
      },
      '/users': {
        get: {
          summary: 'Users in scope (admins)',
          responses: { '200': { description: 'UserView[]' }, ...errors(401, 403) },
        },
        post: {
          summary: 'Create a user (admins)',
          responses: { '201': { description: 'UserView' }, ...errors(400, 401, 403, 409) },
        },
      },
      '/map/config': {
        get: { summary: 'Map centre, zoom and basemap source', responses: { '200': { description: 'MapConfig' } } },
      },
      '/map/basemap.geojson': {
        get: {
          summary: 'The locally generated basemap',
          responses: { '200': { description: 'GeoJSON FeatureCollection' } },
        },
      },
      '/health/live': {
        get: { summary: 'Process is up', security: [], responses: { '200': { description: 'alive' } } },
      },
      '/health/ready': {
        get: {
          summary: 'Ready to serve (database reachable, schema current)',
          security: [],
          responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } },
      },
    },
  };
}
