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
import type { FeatureCollection } from 'geojson';
import { absoluteApiUrl, bootAnswer } from '../api.ts';
import { BACKGROUND_COLOR, BASEMAP_SOURCE, generatedLayers } from '../map/basemapLayers.ts';
import type { BasemapData } from '../map/firstPicture.ts';

export { BACKGROUND_COLOR, BASEMAP_SOURCE };

/**
 * Relative URLs from the config are resolved against the platform's own origin.
 * Not through `new URL`: it would percent-encode the `{z}/{x}/{y}` placeholders of a tile template.
 */
function absolute(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return url;
  return window.location.origin + (url.startsWith('/') ? url : `/${url}`);
}

/**
 * The generated basemap and place names /wall-boot.js asked for, once (null when the first render did not
 * have the basemap): the wall's map is given them instead of fetching them, and its first picture draws them.
 */
export function takeEarlyBasemap(): BasemapData | null {
  const basemap = bootAnswer<FeatureCollection>('/map/basemap.geojson');
  const places = bootAnswer<FeatureCollection>('/map/places.geojson');
  if (!basemap || basemap.value?.type !== 'FeatureCollection') return null;
  return { basemap: basemap.value, places: places?.value?.type === 'FeatureCollection' ? places.value : null };
}

/** `basemap`: the generated basemap's features when the page has them (else the style names their URL). */
export function buildMapStyle(config: MapConfig, basemap?: FeatureCollection): StyleSpecification | string {
  const configured = config.basemap;
  switch (configured.type) {
    case 'generated':
      return {
        version: 8,
        sources: {
          [BASEMAP_SOURCE]: { type: 'geojson', data: basemap ?? absoluteApiUrl('/map/basemap.geojson') },
        },
        layers: generatedLayers(),
      };
    case 'raster':
      return {
        version: 8,
        sources: {
          [BASEMAP_SOURCE]: {
            type: 'raster',
            tiles: configured.tiles.map(absolute),
            tileSize: configured.tileSize,
            maxzoom: configured.maxzoom,
            attribution: configured.attribution,
            // An offline package's extent and zooms: nothing outside it is asked for (issue 17).
            ...(configured.minzoom !== undefined ? { minzoom: configured.minzoom } : {}),
            ...(configured.bounds ? { bounds: configured.bounds } : {}),
          },
        },
        layers: [
          { id: 'background', type: 'background', paint: { 'background-color': BACKGROUND_COLOR } },
          { id: 'raster', type: 'raster', source: BASEMAP_SOURCE },
        ],
      };
    case 'style':
      return absolute(configured.url);
  }
}
