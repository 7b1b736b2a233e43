/**
 * The wall map's first picture (client/src/map/firstPicture.ts, issue 15), drawn into a context that records
 * every call: the view is maplibre's fit (the box's corners land on the padding, the view's bounds project to
 * its edges), the clusters are the index's for that view where the projection puts them, in the style's
 * colours and sizes, the basemap is filled and stroked from the style's tables in its order, and place names
 * are placed as maplibre places them (counts first, then names that touch nothing placed before). The browser
 * test (tests/browser/wall.test.ts) checks the same picture against maplibre's own projection.
 */
import { describe, expect, it } from 'vitest';
import type { FeatureCollection } from 'geojson';
import { decodePointFeed, encodePointFeed } from '../../server/src/api/point-feed.ts';
import { BACKGROUND_COLOR, BASEMAP_FILLS, BASEMAP_LINES } from '../../client/src/map/basemapLayers.ts';
import { PLACE_LABELS } from '../../client/src/map/placeStyle.ts';
import { CLUSTER_PAINT } from '../../client/src/map/clusterLayers.ts';
import { padBounds } from '../../client/src/map/clusterSource.ts';
import {
  drawPicture,
  fitView,
  project,
  viewBounds,
  type PictureContext,
  type PointLook,
  type View,
} from '../../client/src/map/firstPicture.ts';
import { PointIndex, type Bounds } from '../../client/src/map/pointIndex.ts';
import { colorAt, interpolateExpression, numberAt } from '../../client/src/map/stops.ts';

type Call = { op: string; args: unknown[]; fillStyle: unknown; strokeStyle: unknown; lineWidth: number; font: string };

/** A 2D context that draws nothing and remembers every call with the state it was made in. */
function recorder(): { ctx: PictureContext; calls: Call[] } {
  const calls: Call[] = [];
  const state = {
    fillStyle: '' as unknown,
    strokeStyle: '' as unknown,
    lineWidth: 1,
    lineCap: 'butt',
    lineJoin: 'miter',
    globalAlpha: 1,
    font: '10px sans-serif',
    textAlign: 'start',
    textBaseline: 'alphabetic',
  };
  const record =
    (op: string) =>
    (...args: unknown[]) => {
      calls.push({
        op,
        args,
        fillStyle: state.fillStyle,
        strokeStyle: state.strokeStyle,
        lineWidth: state.lineWidth,
        font: state.font,
      });
    };
  const ctx = Object.assign(state, {
    beginPath: record('beginPath'),
    moveTo: record('moveTo'),
    lineTo: record('lineTo'),
    closePath: record('closePath'),
    arc: record('arc'),
    fill: record('fill'),
    stroke: record('stroke'),
    fillRect: record('fillRect'),
    setLineDash: record('setLineDash'),
    fillText: record('fillText'),
    strokeText: record('strokeText'),
    // 8 px a character at any size: enough to test placement.
    measureText: (text: string) => ({ width: text.length * 8 }) as TextMetrics,
  });
  return { ctx: ctx as unknown as PictureContext, calls };
}

function index(rows: (string | number)[][]): PointIndex {
  const bytes = encodePointFeed(rows);
  return new PointIndex(decodePointFeed(bytes.buffer.slice(0) as ArrayBuffer));
}

const close = (a: number, b: number, eps = 1e-6) => Math.abs(a - b) <= eps;
const look = (): PointLook => ({ color: '#94a3b8', radius: 4, stroke: '#e2f5ff', strokeWidth: 1.5, opacity: 1 });

describe('the first picture’s view', () => {
  const boxes: Bounds[] = [
    [118.6, 30.8, 119.0, 31.1],
    [118.79, 30.94, 118.81, 30.95],
    [-74.3, 40.5, -73.7, 40.9],
    [100, -10, 140, 10],
  ];
  for (const box of boxes)
    it(`fits ${JSON.stringify(box)} as maplibre's fitBounds: the box inside the padding, touching it on one axis`, () => {
      const [width, height, pad] = [470, 799, 40];
      const view = fitView(box, width, height, pad, 22);
      const [x0, y0] = project(view, box[0], box[3]);
      const [x1, y1] = project(view, box[2], box[1]);
      expect(x0).toBeGreaterThanOrEqual(pad - 1e-6);
      expect(y0).toBeGreaterThanOrEqual(pad - 1e-6);
      expect(x1).toBeLessThanOrEqual(width - pad + 1e-6);
      expect(y1).toBeLessThanOrEqual(height - pad + 1e-6);
      // Centred, and tight on the limiting axis.
      expect(close(x0 + x1, width, 1e-6) && close(y0 + y1, height, 1e-6)).toBe(true);
      expect(close(x0, pad, 1e-6) || close(y0, pad, 1e-6)).toBe(true);
    });

  it('stops at the maximum zoom for a box of one point', () => {
    const view = fitView([118.8, 30.9, 118.8, 30.9], 800, 600, 40, 15);
    expect(view.zoom).toBe(15);
    expect(project(view, 118.8, 30.9)).toEqual([400, 300]);
  });

  it("projects its bounds to its edges, and pads them as the map's source is padded", () => {
    const view: View = { ...fitView([118.6, 30.8, 119.0, 31.1], 1000, 700, 40, 15) };
    const [w, s, e, n] = viewBounds(view);
    const [left, bottom] = project(view, w, s);
    const [right, top] = project(view, e, n);
    for (const [got, want] of [
      [left, 0],
      [bottom, 700],
      [right, 1000],
      [top, 0],
    ] as const)
      expect(close(got, want, 1e-6)).toBe(true);
    const padded = padBounds([w, s, e, n]);
    expect(close(padded[2] - padded[0], 2 * (e - w))).toBe(true);
    expect(close(padded[3] - padded[1], 2 * (n - s))).toBe(true);
  });
});

describe('stops', () => {
  const stops = [
    [0, '#b91c1c'],
    [0.8, '#d97706'],
    [0.95, '#16a34a'],
  ] as const;
  it('interpolates numbers and colours linearly between stops, clamped at both ends', () => {
    expect(numberAt(CLUSTER_PAINT.radius, 1)).toBe(10);
    expect(numberAt(CLUSTER_PAINT.radius, 51)).toBe(14);
    expect(numberAt(CLUSTER_PAINT.radius, 100_000)).toBe(36);
    expect(colorAt(stops, -1)).toBe('#b91c1c');
    // Halfway between #b91c1c and #d97706.
    expect(colorAt(stops, 0.4)).toBe('#c94a11');
    expect(colorAt(stops, 1)).toBe('#16a34a');
  });
  it("is the same table the map's style interpolates", () => {
    expect(
      interpolateExpression(['zoom'], [
        [8, 1],
        [14, 4],
      ] as const),
    ).toEqual(['interpolate', ['linear'], ['zoom'], 8, 1, 14, 4]);
  });
});

describe('drawing the picture', () => {
  /** Two dense groups of points and one lone point, around 118.8E 30.9N. */
  const rows: (string | number)[][] = [];
  for (let i = 0; i < 60; i++)
    rows.push([
      i + 1,
      118.7 + (i % 6) * 0.001,
      30.9 + Math.floor(i / 6) * 0.001,
      'xueliang',
      i % 3 ? 'online' : 'offline',
    ]);
  for (let i = 0; i < 30; i++)
    rows.push([100 + i, 118.95 + (i % 5) * 0.001, 31.0 + Math.floor(i / 5) * 0.001, 'skynet', 'online']);
  rows.push([500, 118.82, 30.8, 'traffic', 'online']);
  const idx = index(rows);
  const view = fitView(idx.columns.bbox!, 600, 400, 40, 15);
  const features = idx.view(padBounds(viewBounds(view)), Math.floor(view.zoom));
  const square = (lon: number, lat: number, d: number) => [
    [lon - d, lat - d],
    [lon + d, lat - d],
    [lon + d, lat + d],
    [lon - d, lat + d],
    [lon - d, lat - d],
  ];
  const basemap: FeatureCollection = {
    type: 'FeatureCollection',
    features: [
      {
        type: 'Feature',
        properties: { kind: 'township' },
        geometry: { type: 'Polygon', coordinates: [square(118.8, 30.9, 0.05)] },
      },
      {
        type: 'Feature',
        properties: { kind: 'county' },
        geometry: { type: 'Polygon', coordinates: [square(118.8, 30.9, 0.3)] },
      },
      {
        type: 'Feature',
        properties: { kind: 'road' },
        geometry: {
          type: 'LineString',
          coordinates: [
            [118.6, 30.9],
            [119.0, 30.95],
          ],
        },
      },
    ],
  };
  const place = (name: string, lon: number, lat: number) => ({
    type: 'Feature' as const,
    properties: { kind: 'township', name },
    geometry: { type: 'Point' as const, coordinates: [lon, lat] },
  });

  it("draws the index's clusters where the view projects them, in the style's colours and sizes", () => {
    const { ctx, calls } = recorder();
    const drawn = drawPicture(ctx, { view, basemap, places: null, features, outline: '#0b1220', point: look });
    const clusters = features.filter((f) => 'cluster' in f.properties);
    expect(clusters.length).toBeGreaterThanOrEqual(2);
    expect(drawn.clusters).toHaveLength(clusters.length);
    for (const f of clusters) {
      const p = f.properties as { point_count: number; on: number; point_count_abbreviated: string };
      const [x, y] = project(view, ...f.geometry.coordinates);
      const arc = calls.find((c) => c.op === 'arc' && c.args[0] === x && c.args[1] === y);
      expect(arc?.args[2]).toBe(numberAt(CLUSTER_PAINT.radius, p.point_count));
      const filled = calls.findIndex((c) => c === arc);
      expect(calls.slice(filled).find((c) => c.op === 'fill')?.fillStyle).toBe(
        colorAt(CLUSTER_PAINT.color, p.on / p.point_count),
      );
      const text = calls.find((c) => c.op === 'fillText' && c.args[0] === p.point_count_abbreviated);
      expect(text?.args.slice(1)).toEqual([x, y]);
    }
    // The lone point is drawn by itself, with the wall's look.
    expect(drawn.points).toBe(features.length - clusters.length);
    expect(drawn.points).toBeGreaterThan(0);
  });

  it('fills the basemap in the style’s order and colours, then strokes its lines, over the background', () => {
    const { ctx, calls } = recorder();
    drawPicture(ctx, { view, basemap, places: null, features: [], outline: '#0b1220', point: look });
    expect(calls[0]).toMatchObject({ op: 'fillRect', fillStyle: BACKGROUND_COLOR });
    const fills = calls.filter((c) => c.op === 'fill').map((c) => c.fillStyle);
    expect(fills).toEqual(BASEMAP_FILLS.map((f) => f.color));
    const strokes = calls.filter((c) => c.op === 'stroke').map((c) => c.strokeStyle);
    // The village outline starts at zoom 10; this view is below it.
    expect(view.zoom).toBeLessThan(10);
    expect(strokes).toEqual(BASEMAP_LINES.filter((l) => (l.minzoom ?? 0) <= view.zoom).map((l) => l.color));
    // The road's width at this zoom, from its stops.
    const road = BASEMAP_LINES.find((l) => l.kind === 'road')!;
    expect(calls.find((c) => c.op === 'stroke' && c.strokeStyle === road.color)?.lineWidth).toBe(
      numberAt(road.width as [number, number][], view.zoom),
    );
    // The township square is traced into the township fill, not into the county's.
    const townshipFill = calls.findIndex((c) => c.op === 'fill' && c.fillStyle === BASEMAP_FILLS[1]!.color);
    const countyFill = calls.findIndex((c) => c.op === 'fill' && c.fillStyle === BASEMAP_FILLS[0]!.color);
    const traced = (from: number, to: number) => calls.slice(from, to).filter((c) => c.op === 'moveTo').length;
    expect(traced(countyFill + 1, townshipFill)).toBe(1);
  });

  it('places names as maplibre does: none under a cluster count, none over a name placed before', () => {
    const { ctx, calls } = recorder();
    const cluster = features.find((f) => 'cluster' in f.properties)!;
    const [cx, cy] = cluster.geometry.coordinates;
    const places: FeatureCollection = {
      type: 'FeatureCollection',
      features: [
        place('城关镇', 118.8, 30.85),
        place('东湖街道', 118.8, 30.85), // the same spot: hidden by the first
        place('压在簇上', cx, cy), // under a cluster's count: hidden
        place('南山乡', 118.9, 30.82),
      ],
    };
    const drawn = drawPicture(ctx, { view, basemap, places, features, outline: '#0b1220', point: look });
    expect(drawn.labels).toEqual(['城关镇', '南山乡']);
    const size = PLACE_LABELS.find((l) => l.kind === 'township')!.size;
    expect(calls.find((c) => c.op === 'fillText' && c.args[0] === '城关镇')?.font).toMatch(new RegExp(`^${size}px`));
  });

  it('draws nothing outside the view', () => {
    const { ctx } = recorder();
    const far = index([[1, 100, 10, 'x', 'online']]).view([-180, -85, 180, 85], 5);
    const drawn = drawPicture(ctx, { view, basemap, places: null, features: far, outline: '#0b1220', point: look });
    expect(drawn).toEqual({ clusters: [], points: 0, labels: [] });
  });
});
