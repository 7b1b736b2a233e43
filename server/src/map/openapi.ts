/** The map's part of the OpenAPI document (issue 17): its configuration, basemap, places and offline tiles. */
import { plainErrors, type OpenApiFragment } from '../http/openapi-parts.ts';

const pathInt = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'integer', minimum: 0 } });

export function mapOpenApi(): OpenApiFragment {
  return {
    paths: {
      '/map/config': {
        get: { summary: 'Map centre, zoom and basemap source', responses: { '200': { description: 'MapConfig' } } },
      },
      '/map/tiles/{z}/{x}/{y}': {
        get: {
          summary:
            'A tile of the configured offline map package (map.basemap: mbtiles or pmtiles), XYZ addressing (y from the north; an extension such as .png may follow y)',
          parameters: [pathInt('z'), pathInt('x'), { ...pathInt('y'), schema: { type: 'string' } }],
          responses: { '200': { description: 'image/png, image/jpeg or image/webp' }, ...plainErrors(400, 401, 404) },
        },
      },
      '/map/places.geojson': {
        get: {
          summary: 'A label point (name at the centre) for every township and village with a boundary',
          responses: { '200': { description: 'GeoJSON FeatureCollection of Points' }, ...plainErrors(401) },
        },
      },
      '/map/basemap.geojson': {
        get: {
          summary: 'The locally generated basemap',
          responses: { '200': { description: 'GeoJSON FeatureCollection' } },
        },
      },
    },
  };
}
