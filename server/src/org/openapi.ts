/** The org module's part of the OpenAPI document: the org tree and the networks' counts in scope. */
import { errors, type OpenApiFragment } from '../http/openapi-parts.ts';

export function orgOpenApi(): OpenApiFragment {
  return {
    paths: {
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
    },
  };
}
