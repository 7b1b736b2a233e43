/**
 * The binding between the clustering index and maplibre's source (issue 15),
 * with a stand-in map that records what it is handed: the source gets the
 * view only, a status delta redraws without any feed, and a delta heard while
 * a feed is in flight is applied to that feed when it lands.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { STATUS_CODES, decodePointFeed, encodePointFeed } from '../../server/src/api/point-feed.ts';
import { ClusterSource } from '../../client/src/map/clusterSource.ts';
import { PointIndex, type PointProps } from '../../client/src/map/pointIndex.ts';

type Collection = { features: { properties: Record<string, number> }[] };

/** Just what ClusterSource uses of a maplibre Map. */
function standInMap(view: { w: number; s: number; e: number; n: number; zoom: number }) {
  const handlers = new Map<string, () => void>();
  const sent: Collection[] = [];
  const source = { setData: (data: Collection) => sent.push(data) };
  const map = {
    on: (event: string, f: () => void) => handlers.set(event, f),
    off: (event: string) => handlers.delete(event),
    getSource: () => source,
    getZoom: () => view.zoom,
    getBounds: () => ({
      getWest: () => view.w,
      getSouth: () => view.s,
      getEast: () => view.e,
      getNorth: () => view.n,
    }),
  };
  return { map, sent, moveEnd: () => handlers.get('moveend')?.() };
}

function index(rows: (string | number)[][]): PointIndex {
  const bytes = encodePointFeed(rows);
  return new PointIndex(decodePointFeed(bytes.buffer.slice(0) as ArrayBuffer));
}

/** A 10×10 grid of points 0.01° apart around 118.8E 30.9N, all offline. */
const grid = Array.from({ length: 100 }, (_, i) => [
  i + 1,
  118.8 + (i % 10) * 0.01,
  30.9 + Math.floor(i / 10) * 0.01,
  'xueliang',
  'offline',
]);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const onlineIn = (c: Collection) => c.features.reduce((n, f) => n + (f.properties['on'] ?? 0), 0);

beforeAll(() => {
  (globalThis as { window?: unknown }).window ??= globalThis;
});

describe('cluster source', () => {
  it('hands the source the view only, and follows the view', () => {
    const view = { w: 118.8, s: 30.9, e: 118.805, n: 30.905, zoom: 16 };
    const { map, sent, moveEnd } = standInMap(view);
    const clusters = new ClusterSource(map as never, 'points');
    clusters.setIndex(index(grid));
    // Past the last cluster zoom, points one by one: the corner point and its padded neighbours, not all 100.
    const first = sent.at(-1)!;
    expect(first.features.length).toBeGreaterThan(0);
    expect(first.features.length).toBeLessThan(10);
    Object.assign(view, { w: 118.7, s: 30.8, e: 119.0, n: 31.1, zoom: 8 });
    moveEnd();
    const far = sent.at(-1)!;
    expect(far.features.reduce((n, f) => n + (f.properties['point_count'] ?? 1), 0)).toBe(100);
  });

  it('redraws after a status delta without a new index, and replays deltas heard while a feed was in flight', async () => {
    const { map, sent } = standInMap({ w: 118.7, s: 30.8, e: 119.0, n: 31.1, zoom: 8 });
    const clusters = new ClusterSource(map as never, 'points');
    clusters.setIndex(index(grid));
    expect(onlineIn(sent.at(-1)!)).toBe(0);
    clusters.setStatus(1, STATUS_CODES.online);
    clusters.setStatus(2, STATUS_CODES.online);
    await wait(400);
    expect(onlineIn(sent.at(-1)!)).toBe(2);
    // A feed is asked for; while it travels, point 3 comes online. The feed was read before that.
    clusters.fetching();
    clusters.setStatus(3, STATUS_CODES.online);
    const stale = grid.map((r) => (r[0] === 1 || r[0] === 2 ? [...r.slice(0, 4), 'online'] : r));
    clusters.setIndex(index(stale));
    expect(onlineIn(sent.at(-1)!)).toBe(3);
    const near = clusters.current!.view([118.82 - 1e-4, 30.9 - 1e-4, 118.82 + 1e-4, 30.9 + 1e-4], 16);
    expect(near.map((f) => f.properties as PointProps)).toEqual([expect.objectContaining({ id: 3, s: 0, on: 1 })]);
    clusters.detach();
  });
});
