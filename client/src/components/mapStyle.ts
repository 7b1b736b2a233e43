/**
 * Builds the maplibre style for the configured basemap.
 *
 * The platform runs without internet, so the style never names glyphs or a
 * sprite (maplibre would fetch them), and every URL in it points at the
 * platform. Text layers still work: without `glyphs` maplibre draws every
 * character locally from the system's fonts (placeLayers.ts).
 */
import type { StyleSpecification } from 'maplibre-gl';
import type { MapConfig } from '@api/contract.ts';
import { absoluteApiUrl } from '../api.ts';
import { BACKGROUND_COLOR, BASEMAP_SOURCE, generatedLayers } from './basemapLayers.ts';

export { BACKGROUND_COLOR, BASEMAP_SOURCE };

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
