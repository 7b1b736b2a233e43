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
import { PLACE_HALO, PLACE_LABELS, PLACE_TEXT_PADDING, SYSTEM_FONTS, type PlaceLabelStyle } from '../map/placeStyle.ts';

export const PLACES_SOURCE = 'places';

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
