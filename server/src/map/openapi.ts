/** The map's and the map search's parts of the OpenAPI document (issue 17), from the schemas that validate them. */
import { z } from 'zod';
import { placeSearchQuery } from '../search/routes.ts';

type Json = Record<string, unknown>;

const schema = (s: z.ZodType): Json => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Json;
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    ]),
  );
const pathInt = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'integer', minimum: 0 } });

export function mapOpenApiPaths(): Json {
  const q = schema(placeSearchQuery) as { properties?: Record<string, Json>; required?: string[] };
  return {
    '/map/tiles/{z}/{x}/{y}': {
      get: {
        summary:
          'A tile of the configured offline map package (map.basemap: mbtiles or pmtiles), XYZ addressing (y from the north; an extension such as .png may follow y)',
        parameters: [pathInt('z'), pathInt('x'), { ...pathInt('y'), schema: { type: 'string' } }],
        responses: { '200': { description: 'image/png, image/jpeg or image/webp' }, ...errors(400, 401, 404) },
      },
    },
    '/map/places.geojson': {
      get: {
        summary: 'A label point (name at the centre) for every township and village with a boundary',
        responses: { '200': { description: 'GeoJSON FeatureCollection of Points' }, ...errors(401) },
      },
    },
    '/search': {
      get: {
        summary:
          'The map search box: org units, camera points (name or code) and mounting addresses holding `q`, only inside your jurisdiction',
        parameters: Object.entries(q.properties ?? {}).map(([name, sch]) => ({
          name,
          in: 'query',
          required: q.required?.includes(name) ?? false,
          schema: sch,
        })),
        responses: { '200': { description: 'PlaceSearchResult[]' }, ...errors(400, 401, 403) },
      },
    },
  };
}
