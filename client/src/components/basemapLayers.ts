/**
 * The layers of the generated basemap (the county's own units, water and roads from /map/basemap.geojson),
 * apart from mapStyle.ts so that they can be tested without the page's modules.
 */
import type {
  ExpressionSpecification,
  FillLayerSpecification,
  LayerSpecification,
  LineLayerSpecification,
} from 'maplibre-gl';

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

/** `top` at `alpha` over `under` (#rrggbb each), as one opaque colour. */
export function over(top: string, alpha: number, under: string): string {
  const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const [a, b] = [rgb(top), rgb(under)];
  return `#${a
    .map((v, i) =>
      Math.round(alpha * v + (1 - alpha) * b[i]!)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

const COUNTY_FILL = '#0e1c2b';
/** Township #12253a at 0.85 over the county, village #16304a at 0.45 over its township (they nest). */
const TOWNSHIP_FILL = over('#12253a', 0.85, COUNTY_FILL);
const VILLAGE_FILL = over('#16304a', 0.45, TOWNSHIP_FILL);

/**
 * The basemap's fills are opaque (the nested units' translucency composed in advance: the same picture) and
 * not antialiased (the outlines are line layers of their own): maplibre then draws them in its opaque pass,
 * front to back, with no blending and no outline pass. Under software WebGL (a wall PC without a GPU, the
 * benchmark's Chromium) each full-view blended layer cost ~20 ms a frame and each pipeline a first use
 * compiles ~50 ms (issue 15, map.first_render50k).
 */
export function generatedLayers(): LayerSpecification[] {
  const solid = (color: string): FillLayerSpecification['paint'] => ({ 'fill-color': color, 'fill-antialias': false });
  return [
    { id: 'background', type: 'background', paint: { 'background-color': BACKGROUND_COLOR } },
    fill('county', solid(COUNTY_FILL)),
    fill('township', solid(TOWNSHIP_FILL)),
    fill('village', solid(VILLAGE_FILL)),
    fill('water', solid('#0f3552')),
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
