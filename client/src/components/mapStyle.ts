/**
 * Builds the maplibre style for the configured basemap.
 *
 * The platform runs without internet, so the style never names glyphs or a
 * sprite (maplibre would fetch them), and every URL in it points at the
 * platform. Text layers still work: without `glyphs` maplibre draws every
 * character locally from the system's fonts (placeLayers.ts).
 */
import type {
  ExpressionSpecification,
  FillLayerSpecification,
  LayerSpecification,
  LineLayerSpecification,
  StyleSpecification,
} from 'maplibre-gl';
import type { MapConfig } from '@api/contract.ts';
import { absoluteApiUrl } from '../api.ts';

export const BASEMAP_SOURCE = 'basemap';
export const BACKGROUND_COLOR = '#0a1420';

function kindIs(kind: string): ExpressionSpecification {
  return ['==', ['get', 'kind'], kind];
}

const isPolygon: ExpressionSpecification = ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon']]];
const isLine: ExpressionSpecification = ['in', ['geometry-type'], ['literal', ['LineString', 'MultiLineString']]];

/** The polygons of one kind, filled. */
function fill(kind: string, paint: FillLayerSpecification['paint']): FillLayerSpecification {
  return { id: `${kind}-fill`, type: 'fill', source: BASEMAP_SOURCE, filter: ['all', kindIs(kind), isPolygon], paint };
}

/** The outlines of the polygons of one kind. */
function outline(kind: string, paint: LineLayerSpecification['paint']): LineLayerSpecification {
  return { id: `${kind}-line`, type: 'line', source: BASEMAP_SOURCE, filter: ['all', kindIs(kind), isPolygon], paint };
}

/** The line features (rivers, roads) of one kind, drawn with round caps and joins. */
function path(kind: string, paint: LineLayerSpecification['paint']): LineLayerSpecification {
  return {
    id: `${kind}-line`,
    type: 'line',
    source: BASEMAP_SOURCE,
    filter: ['all', kindIs(kind), isLine],
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint,
  };
}

function generatedLayers(): LayerSpecification[] {
  return [
    { id: 'background', type: 'background', paint: { 'background-color': BACKGROUND_COLOR } },
    fill('county', { 'fill-color': '#0e1c2b' }),
    fill('township', { 'fill-color': '#12253a', 'fill-opacity': 0.85 }),
    fill('village', { 'fill-color': '#16304a', 'fill-opacity': 0.45 }),
    fill('water', { 'fill-color': '#0f3552' }),
    { ...outline('village', { 'line-color': '#21405c', 'line-width': 0.6, 'line-dasharray': [3, 2] }), minzoom: 10 },
    path('water', { 'line-color': '#1d5f8f', 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1, 14, 4] }),
    path('road', {
      'line-color': '#3b4a5c',
      'line-width': ['interpolate', ['linear'], ['zoom'], 8, 0.6, 12, 1.6, 16, 5],
    }),
    outline('township', {
      'line-color': '#2e5b80',
      'line-width': ['interpolate', ['linear'], ['zoom'], 8, 0.8, 14, 2],
    }),
    outline('county', { 'line-color': '#4f8fc0', 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1.5, 14, 3] }),
  ];
}

/**
 * Relative URLs from the config are resolved against the platform's own origin.
 * Not through `new URL`: it would percent-encode the `{z}/{x}/{y}` placeholders of a tile template.
 */
function absolute(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return url;
  return window.location.origin + (url.startsWith('/') ? url : `/${url}`);
}

export function buildMapStyle(config: MapConfig): StyleSpecification | string {
  const basemap = config.basemap;
  switch (basemap.type) {
    case 'generated':
      return {
        version: 8,
        sources: {
          [BASEMAP_SOURCE]: { type: 'geojson', data: absoluteApiUrl('/map/basemap.geojson') },
        },
        layers: generatedLayers(),
      };
    case 'raster':
      return {
        version: 8,
        sources: {
          [BASEMAP_SOURCE]: {
            type: 'raster',
            tiles: basemap.tiles.map(absolute),
            tileSize: basemap.tileSize,
            maxzoom: basemap.maxzoom,
            attribution: basemap.attribution,
            // An offline package's extent and zooms: nothing outside it is asked for (issue 17).
            ...(basemap.minzoom !== undefined ? { minzoom: basemap.minzoom } : {}),
            ...(basemap.bounds ? { bounds: basemap.bounds } : {}),
          },
        },
        layers: [
          { id: 'background', type: 'background', paint: { 'background-color': BACKGROUND_COLOR } },
          { id: 'raster', type: 'raster', source: BASEMAP_SOURCE },
        ],
      };
    case 'style':
      return absolute(basemap.url);
  }
}
