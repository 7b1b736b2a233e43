/** The registry's part of the OpenAPI document: camera points, their ledger and the networks added here. */
import {
  errors,
  idParam,
  jsonBody,
  jsonRef,
  queryParams,
  schema,
  stringParam,
  type OpenApiFragment,
} from '../http/openapi-parts.ts';
import { networkCreateSchema, networkPatchSchema } from './network-routes.ts';
import { cameraCreateSchema, cameraPatchSchema, cameraQuerySchema } from './schema.ts';

export function cameraOpenApi(): OpenApiFragment {
  const networkId = stringParam('id');
  return {
    components: {
      schemas: {
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
    paths: {
      '/networks': {
        post: {
          summary: 'Add a camera network (county admins only; networks are county-wide); audited',
          requestBody: jsonBody(networkCreateSchema),
          responses: { '201': { description: 'NetworkView' }, ...errors(400, 401, 403, 409) },
        },
      },
      '/networks/{id}': {
        patch: {
          summary: 'Rename a network added here (built-in and configured ones are fixed: 409 network_fixed); audited',
          parameters: [networkId],
          requestBody: jsonBody(networkPatchSchema),
          responses: { '200': { description: 'NetworkView' }, ...errors(400, 401, 403, 404, 409) },
        },
        delete: {
          summary: 'Remove a network added here that no camera point uses (409 network_in_use otherwise); audited',
          parameters: [networkId],
          responses: { '204': { description: 'removed' }, ...errors(401, 403, 404, 409) },
        },
      },
      '/cameras': {
        get: {
          summary: 'Search camera points (cursor pagination)',
          parameters: queryParams(cameraQuerySchema),
          responses: { '200': { description: 'a page', ...jsonRef('CameraPage') }, ...errors(400, 401, 403) },
        },
        post: {
          summary: 'Register a camera point',
          requestBody: { required: true, ...jsonRef('CameraPointInput') },
          responses: {
            '201': { description: 'created', ...jsonRef('CameraPoint') },
            ...errors(400, 401, 403, 409, 413),
          },
        },
      },
      '/cameras/{id}': {
        get: {
          summary: 'One camera point',
          parameters: [idParam],
          responses: { '200': { description: 'the point', ...jsonRef('CameraPoint') }, ...errors(401, 404) },
        },
        patch: {
          summary: 'Change fields; send `version` to detect concurrent edits',
          parameters: [idParam],
          requestBody: { required: true, ...jsonRef('CameraPointPatch') },
          responses: {
            '200': { description: 'updated', ...jsonRef('CameraPoint') },
            ...errors(400, 401, 403, 404, 409),
          },
        },
        delete: {
          summary: 'Remove a camera point',
          parameters: [idParam],
          responses: { '204': { description: 'deleted' }, ...errors(401, 403, 404) },
        },
      },
      '/cameras/import': {
        post: {
          summary: 'Import a CSV point ledger (UTF-8 or GBK/GB18030), all or nothing',
          requestBody: { required: true, content: { 'text/csv': { schema: { type: 'string' } } } },
          responses: {
            '201': { description: 'all rows created', ...jsonRef('ImportReport') },
            '422': { description: 'rejected; every bad row listed; nothing written', ...jsonRef('ImportReport') },
            ...errors(400, 401, 403, 409, 413, 415),
          },
        },
      },
      '/cameras/export.csv': {
        get: {
          summary: 'Export points in scope as CSV (UTF-8 with BOM); never credentials',
          responses: { '200': { description: 'CSV', content: { 'text/csv': {} } }, ...errors(400, 401, 403) },
        },
      },
    },
  };
}
