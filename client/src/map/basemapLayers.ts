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
import { interpolateExpression, type Stops } from './stops.ts';

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

/** A basemap fill: the polygons of one kind, in one opaque colour. */
export interface BasemapFill {
  kind: string;
  color: string;
}

/** A basemap line: the outlines of one kind's polygons, or its line features (rivers, roads). */
export interface BasemapLine {
  kind: string;
  of: 'outline' | 'path';
  color: string;
  /** Width in pixels, or by zoom. */
  width: number | Stops<number>;
  /** In line widths, as maplibre's line-dasharray. */
  dash?: readonly [number, number];
  minzoom?: number;
}

/**
 * The basemap's fills, bottom to top. They are opaque (the nested units' translucency composed in advance:
 * the same picture) and not antialiased (the outlines are line layers of their own): maplibre then draws them
 * in its opaque pass, front to back, with no blending and no outline pass. Under software WebGL (a wall PC
 * without a GPU, the benchmark's Chromium) each full-view blended layer cost ~20 ms a frame and each pipeline a
 * first use compiles ~50 ms (issue 15, map.first_render50k).
 */
export const BASEMAP_FILLS: readonly BasemapFill[] = [
  { kind: 'county', color: COUNTY_FILL },
  { kind: 'township', color: TOWNSHIP_FILL },
  { kind: 'village', color: VILLAGE_FILL },
  { kind: 'water', color: '#0f3552' },
];

/** The basemap's lines, bottom to top, over every fill. */
export const BASEMAP_LINES: readonly BasemapLine[] = [
  { kind: 'village', of: 'outline', color: '#21405c', width: 0.6, dash: [3, 2], minzoom: 10 },
  {
    kind: 'water',
    of: 'path',
    color: '#1d5f8f',
    width: [
      [8, 1],
      [14, 4],
    ],
  },
  {
    kind: 'road',
    of: 'path',
    color: '#3b4a5c',
    width: [
      [8, 0.6],
      [12, 1.6],
      [16, 5],
    ],
  },
  {
    kind: 'township',
    of: 'outline',
    color: '#2e5b80',
    width: [
      [8, 0.8],
      [14, 2],
    ],
  },
  {
    kind: 'county',
    of: 'outline',
    color: '#4f8fc0',
    width: [
      [8, 1.5],
      [14, 3],
    ],
  },
];

function lineLayer(line: BasemapLine): LineLayerSpecification {
  const paint: LineLayerSpecification['paint'] = {
    'line-color': line.color,
    'line-width': typeof line.width === 'number' ? line.width : interpolateExpression(['zoom'], line.width),
    ...(line.dash ? { 'line-dasharray': [...line.dash] } : {}),
  };
  const layer = line.of === 'outline' ? outline(line.kind, paint) : path(line.kind, paint);
  return line.minzoom === undefined ? layer : { ...layer, minzoom: line.minzoom };
}

/** The generated basemap's maplibre layers: the background, BASEMAP_FILLS, BASEMAP_LINES. */
export function generatedLayers(): LayerSpecification[] {
  return [
    { id: 'background', type: 'background', paint: { 'background-color': BACKGROUND_COLOR } },
    ...BASEMAP_FILLS.map((f) => fill(f.kind, { 'fill-color': f.color, 'fill-antialias': false })),
    ...BASEMAP_LINES.map(lineLayer),
  ];
}
