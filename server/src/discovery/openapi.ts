/** Discovery's part of the OpenAPI document: scans and confirming what they found. */
import { errors, idParam, jsonRef, schema, type OpenApiFragment } from '../http/openapi-parts.ts';
import { confirmSchema, scanRequestSchema } from './schema.ts';

export function discoveryOpenApi(): OpenApiFragment {
  return {
    components: { schemas: { ScanRequest: schema(scanRequestSchema), DeviceConfirm: schema(confirmSchema) } },
    paths: {
      '/discovery/settings': {
        get: { summary: 'Scan limits of this server', responses: { '200': { description: 'DiscoverySettings' } } },
      },
      '/discovery/scans': {
        get: {
          summary: 'Recent scans in scope',
          responses: { '200': { description: 'ScanView[]' }, ...errors(401, 403) },
        },
        post: {
          summary: 'Start a WS-Discovery or address-range scan (progress over Socket.IO `scan:progress`)',
          requestBody: { required: true, ...jsonRef('ScanRequest') },
          responses: { '202': { description: 'ScanView' }, ...errors(400, 401, 403, 429) },
        },
      },
      '/discovery/scans/{id}': {
        get: {
          summary: 'One scan with its devices',
          parameters: [idParam],
          responses: { '200': { description: 'ScanView' }, ...errors(401, 403, 404) },
        },
      },
      '/discovery/scans/{id}/cancel': {
        post: {
          summary: 'Cancel a running scan',
          parameters: [idParam],
          responses: { '200': { description: 'ScanView' }, ...errors(401, 403, 404) },
        },
      },
      '/discovery/devices/{id}/confirm': {
        post: {
          summary: 'Register a discovered device as a camera point',
          parameters: [idParam],
          requestBody: { required: true, ...jsonRef('DeviceConfirm') },
          responses: {
            '201': { description: 'created', ...jsonRef('CameraPoint') },
            ...errors(400, 401, 403, 404, 409),
          },
        },
      },
    },
  };
}
