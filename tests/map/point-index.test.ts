/**
 * The map's point feed and the page's clustering of it (issue 15), without a
 * browser: the feed's bytes round-trip, every point is counted once at every
 * zoom, a view holds only its own cells, a cluster's expansion zoom splits
 * it, and a status delta moves the online count at every zoom.
 */
import { describe, expect, it } from 'vitest';
import { STATUS_CODES, decodePointFeed, encodePointFeed, type PointColumns } from '../../server/src/api/point-feed.ts';
import {
  CLUSTER_MAX_ZOOM,
  PointIndex,
  abbreviate,
  mercatorX,
  mercatorY,
  type ClusterProps,
  type PointProps,
  type ViewFeature,
} from '../../client/src/map/pointIndex.ts';

const WORLD: [number, number, number, number] = [-180, -85, 180, 85];
const STATUSES = ['online', 'degraded', 'offline', 'unknown'] as const;

/** A small county: `n` points scattered over ~0.6° around 118.8E 30.95N, with a few exactly on top of each other. */
function county(n: number, seed = 7): (string | number)[][] {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const rows: (string | number)[][] = [];
  for (let i = 0; i < n; i++) {
    const twin = i % 50 === 1 ? rows[i - 1] : undefined;
    rows.push([
      1000 + i,
      twin ? Number(twin[1]) : 118.5 + rnd() * 0.6,
      twin ? Number(twin[2]) : 30.7 + rnd() * 0.5,
      ['xueliang', 'tianwang', 'huiyan'][i % 3]!,
      STATUSES[i % 4]!,
    ]);
  }
  return rows;
}

const load = (rows: (string | number)[][]): PointColumns => {
  const bytes = encodePointFeed(rows);
  return decodePointFeed(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
};

const isCluster = (f: ViewFeature): f is ViewFeature & { properties: ClusterProps } => 'cluster' in f.properties;
const counted = (features: ViewFeature[]) =>
  features.reduce((sum, f) => sum + (isCluster(f) ? f.properties.point_count : 1), 0);
const online = (features: ViewFeature[]) => features.reduce((sum, f) => sum + f.properties.on, 0);

describe('point feed', () => {
  it('round-trips ids, positions (to 1e-6°), networks and statuses, with the bbox of every point', () => {
    const rows = county(500);
    const c = load(rows);
    expect(c.count).toBe(500);
    expect(c.networks).toEqual(['xueliang', 'tianwang', 'huiyan']);
    rows.forEach((r, i) => {
      expect(c.ids[i]).toBe(r[0]);
      expect(Math.abs(c.lon[i]! / 1e6 - Number(r[1]))).toBeLessThanOrEqual(5e-7);
      expect(Math.abs(c.lat[i]! / 1e6 - Number(r[2]))).toBeLessThanOrEqual(5e-7);
      expect(c.networks[c.network[i]!]).toBe(r[3]);
      expect(c.status[i]).toBe(STATUS_CODES[r[4] as keyof typeof STATUS_CODES]);
    });
    const lons = rows.map((r) => Number(r[1]));
    expect(c.bbox![0]).toBe(Math.min(...lons));
    expect(c.bbox![2]).toBe(Math.max(...lons));
  });

  it('answers an empty jurisdiction with no points and no bbox', () => {
    const c = load([]);
    expect(c.count).toBe(0);
    expect(c.bbox).toBeNull();
    expect(new PointIndex(c).view(WORLD, 3)).toEqual([]);
  });

  it('refuses bytes that are not a feed, or are cut short', () => {
    expect(() => decodePointFeed(new ArrayBuffer(4))).toThrow(/too short/);
    expect(() => decodePointFeed(new Uint8Array(16).buffer)).toThrow(/not a point feed/);
    const bytes = encodePointFeed(county(10));
    expect(() => decodePointFeed(bytes.buffer.slice(0, bytes.byteLength - 1) as ArrayBuffer)).toThrow(/length/);
  });
});

describe('point index', () => {
  const rows = county(5000);
  const index = new PointIndex(load(rows));
  const onlineRows = rows.filter((r) => r[4] === 'online').length;

  it('counts every point exactly once at every zoom, with its online points', () => {
    for (let z = 0; z <= CLUSTER_MAX_ZOOM; z++) {
      const view = index.view(WORLD, z + 0.5);
      expect(counted(view), `zoom ${z}`).toBe(5000);
      expect(online(view), `zoom ${z}`).toBe(onlineRows);
    }
  });

  it('clusters when zoomed out and draws single points (with id, network, status) past the last cluster zoom', () => {
    const far = index.view(WORLD, 5);
    expect(far.length).toBeLessThan(20);
    expect(far.every(isCluster)).toBe(true);
    for (const f of far)
      expect((f.properties as ClusterProps).point_count_abbreviated).toBe(
        abbreviate((f.properties as ClusterProps).point_count),
      );
    expect([abbreviate(999), abbreviate(1234), abbreviate(12_345)]).toEqual(['999', '1.2k', '12k']);
    const [lon, lat] = [118.8, 30.95];
    const near = index.view([lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01], CLUSTER_MAX_ZOOM + 1);
    expect(near.length).toBeGreaterThan(0);
    expect(near.some(isCluster)).toBe(false);
    const p = near[0]!.properties as PointProps;
    const row = rows.find((r) => r[0] === p.id)!;
    expect(p.net).toBe(row[3]);
    expect(p.s).toBe(STATUS_CODES[row[4] as keyof typeof STATUS_CODES]);
  });

  it("holds only the view's cells", () => {
    const box: [number, number, number, number] = [118.5, 30.7, 118.65, 30.8];
    const view = index.view(box, 12);
    const inBox = rows.filter((r) => {
      const [x, y] = [Number(r[1]), Number(r[2])];
      return x >= box[0] && x <= box[2] && y >= box[1] && y <= box[3];
    }).length;
    // Whole cells of the box's edges come with it, never more than a cell's width outside.
    expect(counted(view)).toBeGreaterThanOrEqual(inBox);
    expect(counted(view)).toBeLessThan(5000 / 2);
    const cellDeg = 360 / 2 ** (12 + 3);
    for (const f of view) {
      const [x, y] = f.geometry.coordinates;
      expect(x).toBeGreaterThanOrEqual(box[0] - cellDeg);
      expect(x).toBeLessThanOrEqual(box[2] + cellDeg);
      expect(y).toBeGreaterThanOrEqual(box[1] - cellDeg);
      expect(y).toBeLessThanOrEqual(box[3] + cellDeg);
    }
  });

  it('splits a cluster at its expansion zoom, and not a zoom sooner', () => {
    const Z = 6;
    const big = index
      .view(WORLD, Z)
      .filter(isCluster)
      .sort((a, b) => b.properties.point_count - a.properties.point_count)[0]!;
    const zoom = index.expansionZoom(big.properties.cluster_id);
    expect(zoom).toBeGreaterThan(Z);
    expect(zoom).toBeLessThanOrEqual(CLUSTER_MAX_ZOOM + 1);
    // The cluster's cell at zoom Z (64 px: 2^(Z+3) cells a side); the features inside it at another zoom are its parts.
    const n = 2 ** (Z + 3);
    const cellOf = ([x, y]: [number, number]) => `${Math.floor(mercatorX(x) * n)},${Math.floor(mercatorY(y) * n)}`;
    const cell = cellOf(big.geometry.coordinates);
    const parts = (z: number) => {
      const inside = index.view(WORLD, z).filter((f) => cellOf(f.geometry.coordinates) === cell);
      expect(counted(inside), `zoom ${z}`).toBe(big.properties.point_count);
      return inside.length;
    };
    expect(parts(zoom)).toBeGreaterThan(1);
    if (zoom - 1 > Z) expect(parts(zoom - 1)).toBe(1);
  });

  it('applies a status delta to the point and to the online count of its cluster at every zoom', () => {
    const r = rows.find((x) => x[4] === 'offline')!;
    const id = Number(r[0]);
    const before = Array.from({ length: CLUSTER_MAX_ZOOM + 1 }, (_, z) => online(index.view(WORLD, z)));
    expect(index.setStatus(id, STATUS_CODES.online)).toBe(true);
    expect(index.setStatus(id, STATUS_CODES.online)).toBe(false);
    for (let z = 0; z <= CLUSTER_MAX_ZOOM; z++) expect(online(index.view(WORLD, z)), `zoom ${z}`).toBe(before[z]! + 1);
    const near = index.view([Number(r[1]) - 1e-4, Number(r[2]) - 1e-4, Number(r[1]) + 1e-4, Number(r[2]) + 1e-4], 16);
    expect(near.find((f) => (f.properties as PointProps).id === id)?.properties).toMatchObject({ s: 0, on: 1 });
    // Online to degraded: still counted as not online once.
    expect(index.setStatus(id, STATUS_CODES.degraded)).toBe(true);
    for (let z = 0; z <= CLUSTER_MAX_ZOOM; z++) expect(online(index.view(WORLD, z))).toBe(before[z]!);
    expect(index.setStatus(999_999, STATUS_CODES.online)).toBe(false);
  });
});
