/** The health module's part of the OpenAPI document: the online rate and the process probes. */
import { errors, type OpenApiFragment } from '../http/openapi-parts.ts';

export function healthOpenApi(): OpenApiFragment {
  return {
    paths: {
      '/health/online-rate': {
        get: {
          summary: 'Online rate (在线率) of the points in scope, per org unit and network',
          responses: { '200': { description: 'OnlineRateReport' }, ...errors(401, 403) },
        },
      },
      // Served by app.ts (they answer before any module is consulted), described here beside the online rate.
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
    },
  };
}
