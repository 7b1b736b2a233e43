/**
 * The wall map's first picture (issue 15: map.first_render50k and 200k).
 *
 * On a wall PC without a GPU (and in the benchmark's Chromium) WebGL is software: maplibre needs 1.1–1.4 s
 * from its creation to its first complete frame, whatever the number of points (map README). The page has
 * everything that frame shows much earlier: the point index (built in the point worker while the bundle
 * loads), the generated basemap and the place names (early answers of /wall-boot.js). So the wall draws that
 * view itself on a 2D canvas above the map, in the same frame as the page's first paint, and removes the
 * picture when maplibre has drawn its own with the points.
 *
 * The picture is the map's view, not an approximation of it:
 * - the view is the one maplibre computes for the same fit (`fitView`: the same Web Mercator, 512-pixel
 *   tiles, padding and maximum zoom as maplibre's fitBounds; the browser test checks every cluster's pixel
 *   against `map.project`);
 * - the clusters are the index's `view()` at the zoom and padded bounds ClusterSource hands maplibre
 *   (`padBounds`);
 * - fills, lines, names and clusters are drawn from the tables the style is built from (basemapLayers.ts,
 *   placeStyle.ts, clusterLayers.ts, with stops.ts), in the style's order.
 * It is a picture only: pointer events pass through to the map, which takes them as soon as it can.
 *
 * Pure functions over a small 2D-context interface: the node tests draw into a recording context.
 */
import type { Feature, FeatureCollection, Geometry, Position } from 'geojson';
import { BACKGROUND_COLOR, BASEMAP_FILLS, BASEMAP_LINES } from './basemapLayers.ts';
import { PLACE_HALO, PLACE_LABELS, PLACE_TEXT_PADDING, SYSTEM_FONTS } from './placeStyle.ts';
import { CLUSTER_PAINT } from './clusterLayers.ts';
import { padBounds } from './clusterSource.ts';
import {
  mercatorX,
  mercatorY,
  type Bounds,
  type ClusterProps,
  type PointIndex,
  type PointProps,
  type ViewFeature,
} from './pointIndex.ts';
import { colorAt, numberAt } from './stops.ts';

/** maplibre's world is 512 pixels wide at zoom 0. */
const TILE_SIZE = 512;

/** A map view: its size in CSS pixels, its centre in Web Mercator units ([0, 1), y down), its zoom. */
export interface View {
  width: number;
  height: number;
  x: number;
  y: number;
  zoom: number;
}

/**
 * The view maplibre's fitBounds gives `bbox` ([west, south, east, north]) in a `width` × `height` map with
 * `padding` on every side, no rotation: the zoom that fits the box's Mercator extent (at most `maxZoom`),
 * centred on the box's Mercator midpoint.
 */
export function fitView(bbox: Bounds, width: number, height: number, padding: number, maxZoom: number): View {
  const [w, s, e, n] = bbox;
  const x0 = mercatorX(w);
  const x1 = mercatorX(e);
  const y0 = mercatorY(n);
  const y1 = mercatorY(s);
  const scale = Math.min(
    (width - 2 * padding) / ((x1 - x0) * TILE_SIZE),
    (height - 2 * padding) / ((y1 - y0) * TILE_SIZE),
  );
  return { width, height, x: (x0 + x1) / 2, y: (y0 + y1) / 2, zoom: Math.min(Math.log2(scale), maxZoom) };
}

/** A lon/lat's pixel in the view (from its top left corner). */
export function project(view: View, lon: number, lat: number): [number, number] {
  const scale = TILE_SIZE * 2 ** view.zoom;
  return [(mercatorX(lon) - view.x) * scale + view.width / 2, (mercatorY(lat) - view.y) * scale + view.height / 2];
}

const lonOf = (x: number) => x * 360 - 180;
const latOf = (y: number) => (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;

/** The view's [west, south, east, north]. */
export function viewBounds(view: View): Bounds {
  const half = 2 ** -view.zoom / TILE_SIZE / 2;
  return [
    lonOf(view.x - view.width * half),
    latOf(view.y + view.height * half),
    lonOf(view.x + view.width * half),
    latOf(view.y - view.height * half),
  ];
}

/** How a single point (past the last cluster zoom) is drawn: the wall's paint for it. */
export interface PointLook {
  color: string;
  radius: number;
  stroke: string;
  strokeWidth: number;
  opacity: number;
}

export interface PictureInput {
  view: View;
  basemap: FeatureCollection;
  places: FeatureCollection | null;
  /**
   * The index's view as ClusterSource hands it to maplibre: `index.view(padBounds(viewBounds(view)),
   * Math.floor(view.zoom))`.
   */
  features: readonly ViewFeature[];
  /** The colour around clusters and under counts (the map's `outline`). */
  outline: string;
  point: (props: PointProps, zoom: number) => PointLook;
}

/** What was drawn, for the tests and the benchmark: each cluster inside the view, and the names shown. */
export interface DrawnPicture {
  clusters: { x: number; y: number; count: number; radius: number; color: string }[];
  points: number;
  labels: string[];
}

/** The part of CanvasRenderingContext2D the picture uses. */
export type PictureContext = Pick<
  CanvasRenderingContext2D,
  | 'fillStyle'
  | 'strokeStyle'
  | 'lineWidth'
  | 'lineCap'
  | 'lineJoin'
  | 'globalAlpha'
  | 'font'
  | 'textAlign'
  | 'textBaseline'
  | 'beginPath'
  | 'moveTo'
  | 'lineTo'
  | 'closePath'
  | 'arc'
  | 'fill'
  | 'stroke'
  | 'fillRect'
  | 'setLineDash'
  | 'fillText'
  | 'strokeText'
  | 'measureText'
>;

const FONT_STACK = SYSTEM_FONTS.map((f) => (f === 'sans-serif' ? f : `"${f}"`)).join(', ');

function kindOf(f: Feature): unknown {
  return f.properties?.['kind'];
}

function polygonsOf(g: Geometry): Position[][][] {
  if (g.type === 'Polygon') return [g.coordinates];
  if (g.type === 'MultiPolygon') return g.coordinates;
  return [];
}
function linesOf(g: Geometry): Position[][] {
  if (g.type === 'LineString') return [g.coordinates];
  if (g.type === 'MultiLineString') return g.coordinates;
  return [];
}

function tracePath(ctx: PictureContext, view: View, line: Position[], close: boolean): void {
  line.forEach((p, i) => {
    const [x, y] = project(view, p[0]!, p[1]!);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  if (close) ctx.closePath();
}

function drawBasemap(ctx: PictureContext, view: View, basemap: FeatureCollection): void {
  for (const fill of BASEMAP_FILLS) {
    ctx.fillStyle = fill.color;
    ctx.beginPath();
    for (const f of basemap.features)
      if (kindOf(f) === fill.kind)
        for (const polygon of polygonsOf(f.geometry)) for (const ring of polygon) tracePath(ctx, view, ring, true);
    // Inner rings are holes, as maplibre fills them.
    ctx.fill('evenodd');
  }
  for (const line of BASEMAP_LINES) {
    if (line.minzoom !== undefined && view.zoom < line.minzoom) continue;
    const width = typeof line.width === 'number' ? line.width : numberAt(line.width, view.zoom);
    ctx.strokeStyle = line.color;
    ctx.lineWidth = width;
    ctx.lineCap = line.of === 'path' ? 'round' : 'butt';
    ctx.lineJoin = line.of === 'path' ? 'round' : 'miter';
    ctx.setLineDash(line.dash ? line.dash.map((d) => d * width) : []);
    ctx.beginPath();
    for (const f of basemap.features) {
      if (kindOf(f) !== line.kind) continue;
      if (line.of === 'outline')
        for (const polygon of polygonsOf(f.geometry)) for (const ring of polygon) tracePath(ctx, view, ring, true);
      else for (const l of linesOf(f.geometry)) tracePath(ctx, view, l, false);
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

type Box = [x0: number, y0: number, x1: number, y1: number];
const overlaps = (a: Box, b: Box) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

/** maplibre's text-padding where a layer sets none (the cluster counts). */
const DEFAULT_TEXT_PADDING = 2;
/** maplibre's text-line-height (em): a line of text is this tall in its collision box. */
const LINE_HEIGHT = 1.2;

/** A text's box centred on (x, y), a line tall, grown by `pad` each way. */
function textBox(ctx: PictureContext, text: string, size: number, x: number, y: number, pad: number): Box {
  const half = ctx.measureText(text).width / 2 + pad;
  const up = (size * LINE_HEIGHT) / 2 + pad;
  return [x - half, y - up, x + half, y + up];
}

function drawText(
  ctx: PictureContext,
  text: string,
  x: number,
  y: number,
  size: number,
  color: string,
  halo: { color: string; width: number },
): void {
  ctx.font = `${size}px ${FONT_STACK}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.lineJoin = 'round';
  ctx.strokeStyle = halo.color;
  ctx.lineWidth = halo.width * 2;
  ctx.strokeText(text, x, y);
  ctx.fillStyle = color;
  ctx.fillText(text, x, y);
}

const isCluster = (f: ViewFeature): f is ViewFeature & { properties: ClusterProps } => 'cluster' in f.properties;

/**
 * Draws the view: background, basemap fills and lines, place names, clusters with their counts, single points.
 * Names are placed as maplibre places symbols: the cluster counts (the layer above) first, then each name in
 * the source's order where it does not touch one placed before (its text padding included).
 */
export function drawPicture(ctx: PictureContext, input: PictureInput): DrawnPicture {
  const { view, features } = input;
  const inside = (x: number, y: number, r: number) =>
    x + r >= 0 && y + r >= 0 && x - r <= view.width && y - r <= view.height;
  const drawn: DrawnPicture = { clusters: [], points: 0, labels: [] };

  ctx.globalAlpha = 1;
  ctx.fillStyle = BACKGROUND_COLOR;
  ctx.fillRect(0, 0, view.width, view.height);
  drawBasemap(ctx, view, input.basemap);

  // Where everything is, before anything is drawn over it: counts take their places first.
  const clusters = features.filter(isCluster).flatMap((f) => {
    const [x, y] = project(view, f.geometry.coordinates[0], f.geometry.coordinates[1]);
    const count = f.properties.point_count;
    const radius = numberAt(CLUSTER_PAINT.radius, count);
    if (!inside(x, y, radius)) return [];
    const color = colorAt(CLUSTER_PAINT.color, f.properties.on / count);
    return [{ x, y, count, radius, color, text: f.properties.point_count_abbreviated }];
  });
  const placed: Box[] = [];
  ctx.font = `${CLUSTER_PAINT.textSize}px ${FONT_STACK}`;
  for (const c of clusters) placed.push(textBox(ctx, c.text, CLUSTER_PAINT.textSize, c.x, c.y, DEFAULT_TEXT_PADDING));

  for (const style of PLACE_LABELS) {
    if (!input.places || view.zoom < style.minzoom) continue;
    ctx.font = `${style.size}px ${FONT_STACK}`;
    for (const f of input.places.features) {
      const name = f.properties?.['name'];
      if (kindOf(f) !== style.kind || typeof name !== 'string' || f.geometry.type !== 'Point') continue;
      const [x, y] = project(view, f.geometry.coordinates[0]!, f.geometry.coordinates[1]!);
      const box = textBox(ctx, name, style.size, x, y, PLACE_TEXT_PADDING);
      if (!inside(x, y, 0) || placed.some((b) => overlaps(b, box))) continue;
      placed.push(box);
      drawText(ctx, name, x, y, style.size, style.color, PLACE_HALO);
      drawn.labels.push(name);
    }
  }

  for (const c of clusters) {
    ctx.beginPath();
    ctx.arc(c.x, c.y, c.radius, 0, 2 * Math.PI);
    ctx.globalAlpha = CLUSTER_PAINT.opacity;
    ctx.fillStyle = c.color;
    ctx.fill();
    ctx.globalAlpha = 1;
    // maplibre's circle stroke lies outside the radius.
    ctx.beginPath();
    ctx.arc(c.x, c.y, c.radius + CLUSTER_PAINT.strokeWidth / 2, 0, 2 * Math.PI);
    ctx.lineWidth = CLUSTER_PAINT.strokeWidth;
    ctx.strokeStyle = input.outline;
    ctx.stroke();
    drawn.clusters.push({ x: c.x, y: c.y, count: c.count, radius: c.radius, color: c.color });
  }
  for (const c of clusters)
    drawText(ctx, c.text, c.x, c.y, CLUSTER_PAINT.textSize, CLUSTER_PAINT.textColor, {
      color: input.outline,
      width: CLUSTER_PAINT.textHaloWidth,
    });

  for (const f of features) {
    if (isCluster(f)) continue;
    const [x, y] = project(view, f.geometry.coordinates[0], f.geometry.coordinates[1]);
    const look = input.point(f.properties as PointProps, view.zoom);
    if (!inside(x, y, look.radius)) continue;
    ctx.globalAlpha = look.opacity;
    ctx.beginPath();
    ctx.arc(x, y, look.radius, 0, 2 * Math.PI);
    ctx.fillStyle = look.color;
    ctx.fill();
    ctx.beginPath();
    ctx.arc(x, y, look.radius + look.strokeWidth / 2, 0, 2 * Math.PI);
    ctx.lineWidth = look.strokeWidth;
    ctx.strokeStyle = look.stroke;
    ctx.stroke();
    drawn.points++;
  }
  ctx.globalAlpha = 1;
  return drawn;
}

/** The generated basemap and the place names, as the page got them (the wall's early answers). */
export interface BasemapData {
  basemap: FeatureCollection;
  places: FeatureCollection | null;
}

/** The first view's fit (the wall's: every point of the jurisdiction). */
export interface Fit {
  padding: number;
  maxZoom: number;
}

/**
 * The picture on its canvas (above the map's, pointer events passing through): drawn once, when the index and
 * the basemap are there and the map has not drawn its own yet; gone for good with `dismiss`.
 */
export class FirstPicture {
  private done = false;
  /** What is shown: the index and its view (kept to draw it again at a new size). */
  private shown: { index: PointIndex; view: View } | null = null;
  private readonly canvas: HTMLCanvasElement;
  private readonly container: HTMLElement;
  private readonly data: BasemapData;
  private readonly look: Pick<PictureInput, 'outline' | 'point'>;
  private readonly fit: Fit;

  constructor(
    canvas: HTMLCanvasElement,
    container: HTMLElement,
    data: BasemapData,
    look: Pick<PictureInput, 'outline' | 'point'>,
    fit: Fit,
  ) {
    this.canvas = canvas;
    this.container = container;
    this.data = data;
    this.look = look;
    this.fit = fit;
  }

  /** Draws the index's first view (the fit); false when there is nothing to draw (no box, no size, or done). */
  draw(index: PointIndex): boolean {
    const bbox = index.columns.bbox;
    const { clientWidth: width, clientHeight: height } = this.container;
    if (this.done || this.shown || !bbox || !width || !height) return false;
    const view = fitView(bbox, width, height, this.fit.padding, this.fit.maxZoom);
    // A box smaller than its padding has no fit (maplibre keeps its configured view then).
    if (!Number.isFinite(view.zoom) || !this.paint(index, view)) return false;
    performance.mark('wall-map:picture');
    // On screen: the frame after the one it was drawn for has begun (that one was committed).
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        this.container.dataset['pictureAt'] = String(Math.round(performance.now()));
      }),
    );
    return true;
  }

  /**
   * The map's camera (centre and zoom) at the map's size now: maplibre made with a box that changed since the
   * picture's fit, a new size (maplibre keeps its centre and zoom and shows more or less around them), a fit
   * of its own. The picture is drawn again for it when it differs.
   */
  follow(lon: number, lat: number, zoom: number): void {
    const { clientWidth: width, clientHeight: height } = this.container;
    const shown = this.shown;
    if (this.done || !shown || !width || !height) return;
    const view = { width, height, x: mercatorX(lon), y: mercatorY(lat), zoom };
    const same = (a: number, b: number) => Math.abs(a - b) < 1e-9;
    const was = shown.view;
    if (
      width === was.width &&
      height === was.height &&
      same(view.x, was.x) &&
      same(view.y, was.y) &&
      same(zoom, was.zoom)
    )
      return;
    this.paint(shown.index, view);
  }

  /** The map shows its own frame (or the officer moved it): the picture goes and is never drawn again. */
  dismiss(): void {
    this.done = true;
    this.shown = null;
    this.canvas.hidden = true;
    this.canvas.width = 0;
    this.canvas.height = 0;
  }

  private paint(index: PointIndex, view: View): boolean {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return false;
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(view.width * ratio);
    this.canvas.height = Math.round(view.height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const drawn = drawPicture(ctx, {
      ...this.data,
      ...this.look,
      view,
      features: index.view(padBounds(viewBounds(view)), Math.floor(view.zoom)),
    });
    this.canvas.hidden = false;
    this.shown = { index, view };
    // What it drew, for the browser tests and the benchmark (which compare it with the map's own frame).
    Object.defineProperty(this.container, 'wallPicture', { value: { ...drawn, view }, configurable: true });
    return true;
  }
}
