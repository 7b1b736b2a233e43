/**
 * Place names (org units) on any map, drawn as text by maplibre itself.
 *
 * The platform runs without internet, so no style names a glyph server. Since
 * maplibre 5, a style without `glyphs` draws every character locally with
 * TinySDF from the fonts the operating system has (Chinese included): text
 * layers work offline with nothing fetched. The label points come from the
 * platform (`/map/places.geojson`: each township and village at its centre).
 */
import type { FeatureCollection } from 'geojson';
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

/** How each level's names are drawn (the wall's first picture, map/firstPicture.ts, reads the same table). */
export interface PlaceLabelStyle {
  kind: 'township' | 'village';
  /** Text size in pixels. */
  size: number;
  color: string;
  minzoom: number;
}

export const PLACE_LABELS: readonly PlaceLabelStyle[] = [
  { kind: 'township', size: 15, color: '#dbe7f3', minzoom: 8 },
  { kind: 'village', size: 12, color: '#9fb4c8', minzoom: 11 },
];
/** The halo around every name, and the free space a name keeps around it (maplibre's text-padding). */
export const PLACE_HALO = { color: '#06101a', width: 1.6 } as const;
export const PLACE_TEXT_PADDING = 4;

function labels(style: PlaceLabelStyle): SymbolLayerSpecification {
  return {
    id: `place-labels-${style.kind}`,
    type: 'symbol',
    source: PLACES_SOURCE,
    minzoom: style.minzoom,
    filter: ['==', ['get', 'kind'], style.kind],
    layout: {
      'text-field': ['get', 'name'],
      'text-font': [...SYSTEM_FONTS],
      'text-size': style.size,
      'text-padding': PLACE_TEXT_PADDING,
    },
    paint: { 'text-color': style.color, 'text-halo-color': PLACE_HALO.color, 'text-halo-width': PLACE_HALO.width },
  };
}

/** Adds the place-name layers (once per style), under `beforeId` when given (points stay on top). */
export function addPlaceLabels(map: MaplibreMap, beforeId?: string, data?: FeatureCollection): void {
  if (map.getSource(PLACES_SOURCE)) return;
  // The labels themselves when the page has them already (the wall's early answers), else their URL.
  map.addSource(PLACES_SOURCE, { type: 'geojson', data: data ?? absoluteApiUrl('/map/places.geojson') });
  const before = beforeId && map.getLayer(beforeId) ? beforeId : undefined;
  for (const style of PLACE_LABELS) map.addLayer(labels(style), before);
}
