/** The map search's part of the OpenAPI document (issue 17), from the schema that validates its query. */
import { plainErrors, queryParams, type OpenApiFragment } from '../http/openapi-parts.ts';
import { placeSearchQuery } from './routes.ts';

export function searchOpenApi(): OpenApiFragment {
  return {
    paths: {
      '/search': {
        get: {
          summary:
            'The map search box: org units, camera points (name or code) and mounting addresses holding `q`, only inside your jurisdiction',
          parameters: queryParams(placeSearchQuery),
          responses: { '200': { description: 'PlaceSearchResult[]' }, ...plainErrors(400, 401, 403) },
        },
      },
    },
  };
}
