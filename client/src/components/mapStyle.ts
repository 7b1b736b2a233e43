/**
 * Builds the maplibre style for the configured basemap.
 *
 * The platform runs without internet, so the style never names glyphs or a
 * sprite (maplibre would fetch them), and every URL in it points at the
 * platform. Without glyphs there are no text symbol layers; place names are
 * drawn as HTML markers by MapView instead.
 */
import type { ExpressionSpecification, LayerSpecification, StyleSpecification } from 'maplibre-gl';
import type { MapConfig } from '@api/contract.ts';
import { absoluteApiUrl } from '../api.ts';

export const BASEMAP_SOURCE = 'basemap';
export const BACKGROUND_COLOR = '#0a1420';

function kindIs(kind: string): ExpressionSpecification {
  return ['==', ['get', 'kind'], kind];
}

const isPolygon: ExpressionSpecification = ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon']]];
const isLine: ExpressionSpecification = ['in', ['geometry-type'], ['literal', ['LineString', 'MultiLineString']]];

function generatedLayers(): LayerSpecification[] {
  const source = BASEMAP_SOURCE;
  return [
    { id: 'background', type: 'background', paint: { 'background-color': BACKGROUND_COLOR } },
    {
      id: 'county-fill',
      type: 'fill',
      source,
      filter: ['all', kindIs('county'), isPolygon],
      paint: { 'fill-color': '#0e1c2b' },
    },
    {
      id: 'township-fill',
      type: 'fill',
      source,
      filter: ['all', kindIs('township'), isPolygon],
      paint: { 'fill-color': '#12253a', 'fill-opacity': 0.85 },
    },
    {
      id: 'village-fill',
      type: 'fill',
      source,
      filter: ['all', kindIs('village'), isPolygon],
      paint: { 'fill-color': '#16304a', 'fill-opacity': 0.45 },
    },
    {
      id: 'water-fill',
      type: 'fill',
      source,
      filter: ['all', kindIs('water'), isPolygon],
      paint: { 'fill-color': '#0f3552' },
    },
    {
      id: 'village-line',
      type: 'line',
      source,
      filter: ['all', kindIs('village'), isPolygon],
      minzoom: 10,
      paint: { 'line-color': '#21405c', 'line-width': 0.6, 'line-dasharray': [3, 2] },
    },
    {
      id: 'water-line',
      type: 'line',
      source,
      filter: ['all', kindIs('water'), isLine],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: {
        'line-color': '#1d5f8f',
        'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1, 14, 4],
      },
    },
    {
      id: 'road-line',
      type: 'line',
      source,
      filter: ['all', kindIs('road'), isLine],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: {
        'line-color': '#3b4a5c',
        'line-width': ['interpolate', ['linear'], ['zoom'], 8, 0.6, 12, 1.6, 16, 5],
      },
    },
    {
      id: 'township-line',
      type: 'line',
      source,
      filter: ['all', kindIs('township'), isPolygon],
      paint: { 'line-color': '#2e5b80', 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 0.8, 14, 2] },
    },
    {
      id: 'county-line',
      type: 'line',
      source,
      filter: ['all', kindIs('county'), isPolygon],
      paint: { 'line-color': '#4f8fc0', 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1.5, 14, 3] },
    },
  ];
}

/** Relative URLs from the config are resolved against the platform's own origin. */
function absolute(url: string): string {
  return new URL(url, window.location.origin).toString();
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
