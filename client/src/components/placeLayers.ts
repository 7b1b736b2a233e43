/**
 * Place names (org units) on any map, drawn as text by maplibre itself.
 *
 * The platform runs without internet, so no style names a glyph server. Since
 * maplibre 5, a style without `glyphs` draws every character locally with
 * TinySDF from the fonts the operating system has (Chinese included): text
 * layers work offline with nothing fetched. The label points come from the
 * platform (`/map/places.geojson`: each township and village at its centre).
 */
import type { Map as MaplibreMap, SymbolLayerSpecification } from 'maplibre-gl';
import { absoluteApiUrl } from '../api.ts';

export const PLACES_SOURCE = 'places';

/** System fonts only (no web fonts on a private network); the first one the machine has is used. */
export const SYSTEM_FONTS = [
  'Microsoft YaHei',
  'PingFang SC',
  'Noto Sans CJK SC',
  'Source Han Sans SC',
  'WenQuanYi Micro Hei',
  'sans-serif',
];

function labels(
  id: string,
  kind: 'township' | 'village',
  size: number,
  colour: string,
  minzoom: number,
): SymbolLayerSpecification {
  return {
    id,
    type: 'symbol',
    source: PLACES_SOURCE,
    minzoom,
    filter: ['==', ['get', 'kind'], kind],
    layout: {
      'text-field': ['get', 'name'],
      'text-font': [...SYSTEM_FONTS],
      'text-size': size,
      'text-padding': 4,
    },
    paint: { 'text-color': colour, 'text-halo-color': '#06101a', 'text-halo-width': 1.6 },
  };
}

/** Adds the place-name layers (once per style), under `beforeId` when given (points stay on top). */
export function addPlaceLabels(map: MaplibreMap, beforeId?: string): void {
  if (map.getSource(PLACES_SOURCE)) return;
  map.addSource(PLACES_SOURCE, { type: 'geojson', data: absoluteApiUrl('/map/places.geojson') });
  const before = beforeId && map.getLayer(beforeId) ? beforeId : undefined;
  map.addLayer(labels('place-labels-township', 'township', 15, '#dbe7f3', 8), before);
  map.addLayer(labels('place-labels-village', 'village', 12, '#9fb4c8', 11), before);
}
