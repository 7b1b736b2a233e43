/**
 * Clusters of camera points by zoom, computed in the page from the binary
 * point feed (issue 15). No maplibre, no DOM: pure and unit-tested
 * (tests/map/point-index.test.ts).
 *
 * Grid clustering on a quadtree: every point gets a Morton (Z-order) code of
 * its Web Mercator cell at the finest level; points sorted by that code make
 * every cell of every coarser level one contiguous run. A cluster at zoom z
 * is the points of one cell of 64 map pixels at that zoom (maplibre's world
 * is 512·2^z pixels wide, so 2^(z+3) cells a side). Building is one sort and
 * one pass per zoom (200,000 points: ~0.15 s on a busy 2-core machine); a view asks only
 * for the cells it shows (hundreds), so the map draws hundreds of features,
 * never the whole jurisdiction. A status delta moves one `on` count per zoom
 * (a binary search each): nothing is fetched or rebuilt.
 */
// Relative, not '@api/…': the node tests type-check this file with the root tsconfig, which has no alias.
import type { PointColumns } from '../../../server/src/api/point-feed.ts';

/** STATUS_CODES.online of the feed (a type-only import keeps this module loadable by the node tests). */
const ONLINE = 0;

/** The last zoom with clusters; from the next one on every point is drawn by itself. */
export const CLUSTER_MAX_ZOOM = 13;
/** Cells a side at CLUSTER_MAX_ZOOM: 2^(13+3). */
const FINE_BITS = CLUSTER_MAX_ZOOM + 3;
const FINE_CELLS = 2 ** FINE_BITS;
/** Point indices take the low 21 bits of a sort key (code · 2^21 + index stays an exact double). */
const INDEX_BITS = 21;
export const MAX_POINTS = 2 ** INDEX_BITS;
/** At most this many single points in one view (a wall zoomed into the densest street). */
const MAX_VIEW_POINTS = 20_000;

const MICRO = 1e-6;

export type Bounds = [west: number, south: number, east: number, north: number];

export interface ClusterProps {
  cluster: true;
  cluster_id: number;
  point_count: number;
  point_count_abbreviated: string;
  /** Online points in the cluster. */
  on: number;
}
export interface PointProps {
  id: number;
  net: string;
  /** STATUS_CODES. */
  s: number;
  /** 1 when online. */
  on: 0 | 1;
}
export interface ViewFeature {
  type: 'Feature';
  geometry: { type: 'Point'; coordinates: [number, number] };
  properties: ClusterProps | PointProps;
}

/** One zoom's cells, as typed arrays (so a worker can build them and hand them over without copying). */
export interface Level {
  codes: Uint32Array;
  start: Uint32Array;
  count: Uint32Array;
  on: Uint32Array;
  sumLon: Float64Array;
  sumLat: Float64Array;
}

/** Spreads the 16 low bits of `v` to the even bits of a 32-bit word. */
function spread(v: number): number {
  let x = v & 0xffff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x >>> 0;
}
function squeeze(v: number): number {
  let x = v & 0x55555555;
  x = (x | (x >>> 1)) & 0x33333333;
  x = (x | (x >>> 2)) & 0x0f0f0f0f;
  x = (x | (x >>> 4)) & 0x00ff00ff;
  x = (x | (x >>> 8)) & 0x0000ffff;
  return x;
}
const morton = (cx: number, cy: number): number => (spread(cx) | (spread(cy) << 1)) >>> 0;

/** Web Mercator x and y in [0, 1) (y down, as tiles count). */
export function mercatorX(lon: number): number {
  return (lon + 180) / 360;
}
export function mercatorY(lat: number): number {
  const clamped = Math.max(-85.05112878, Math.min(85.05112878, lat));
  const s = Math.sin((clamped * Math.PI) / 180);
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
}
const cell = (v: number, n: number): number => Math.min(n - 1, Math.max(0, Math.floor(v * n)));

/** As supercluster abbreviates a count: 1234 → "1.2k", 12345 → "12k". */
export function abbreviate(count: number): string {
  if (count >= 10_000) return `${Math.round(count / 1000)}k`;
  if (count >= 1000) return `${Math.round(count / 100) / 10}k`;
  return String(count);
}

function lowerBound(a: Uint32Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * What a built index is made of besides the feed's columns: typed arrays only, so a Web Worker builds
 * them and posts them to the page as transferables (client/src/map/pointWorker.ts, issue 15).
 */
export interface PointIndexParts {
  /** Point indices in Morton order. */
  order: Uint32Array;
  /** Each point's cell code at the finest level. */
  fine: Uint32Array;
  /** levels[z] for z = 0 … CLUSTER_MAX_ZOOM. */
  levels: Level[];
}

export class PointIndex {
  readonly columns: PointColumns;
  private readonly order: Uint32Array;
  private readonly fine: Uint32Array;
  private readonly levels: Level[];
  private byId: Map<number, number> | null = null;

  /** Builds the index over `columns`, or takes `parts` built over the same columns elsewhere (a worker). */
  constructor(columns: PointColumns, parts?: PointIndexParts) {
    const n = columns.count;
    if (n > MAX_POINTS) throw new RangeError(`at most ${MAX_POINTS} points`);
    this.columns = columns;
    if (parts) {
      if (parts.order.length !== n || parts.fine.length !== n || parts.levels.length !== CLUSTER_MAX_ZOOM + 1)
        throw new RangeError('point index: parts do not match the feed');
      this.order = parts.order;
      this.fine = parts.fine;
      this.levels = parts.levels;
      return;
    }
    const fine = new Uint32Array(n);
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const code = morton(
        cell(mercatorX(columns.lon[i]! * MICRO), FINE_CELLS),
        cell(mercatorY(columns.lat[i]! * MICRO), FINE_CELLS),
      );
      fine[i] = code;
      keys[i] = code * MAX_POINTS + i;
    }
    keys.sort();
    const order = new Uint32Array(n);
    for (let k = 0; k < n; k++) order[k] = keys[k]! % MAX_POINTS;
    this.order = order;
    this.fine = fine;
    const levels: Level[] = [];
    levels[CLUSTER_MAX_ZOOM] = finestLevel(columns, order, fine);
    for (let z = CLUSTER_MAX_ZOOM - 1; z >= 0; z--) levels[z] = coarser(levels[z + 1]!);
    this.levels = levels;
  }

  get count(): number {
    return this.columns.count;
  }

  /** The built arrays, for a worker to post (with `transferables()`); `new PointIndex(columns, parts)` takes them. */
  parts(): PointIndexParts {
    return { order: this.order, fine: this.fine, levels: this.levels };
  }

  /** Every buffer the index holds, the feed's own included: posted as transferables, none is copied. */
  transferables(): ArrayBuffer[] {
    const buffers = new Set<ArrayBuffer>();
    const add = (a: { buffer: ArrayBufferLike }) => {
      if (a.buffer instanceof ArrayBuffer) buffers.add(a.buffer);
    };
    const c = this.columns;
    for (const a of [c.ids, c.lon, c.lat, c.network, c.status, this.order, this.fine]) add(a);
    for (const l of this.levels) for (const a of [l.codes, l.start, l.count, l.on, l.sumLon, l.sumLat]) add(a);
    return [...buffers];
  }

  /**
   * What the map draws for a view at `zoom`: clusters (and lone points) up to
   * CLUSTER_MAX_ZOOM, every point of the view's cells beyond it.
   */
  view(bounds: Bounds, zoom: number): ViewFeature[] {
    const z = Math.max(0, Math.floor(zoom));
    const out: ViewFeature[] = [];
    if (!this.count) return out;
    const level = this.levels[Math.min(z, CLUSTER_MAX_ZOOM)]!;
    const bits = Math.min(z, CLUSTER_MAX_ZOOM) + 3;
    const n = 2 ** bits;
    const [w, s, e, north] = bounds;
    const x0 = cell(mercatorX(w), n);
    const x1 = cell(mercatorX(e), n);
    const y0 = cell(mercatorY(north), n);
    const y1 = cell(mercatorY(s), n);
    // Every cell of the rectangle lies between its corners' codes in Z-order; the few outside it are skipped.
    const lo = lowerBound(level.codes, morton(x0, y0));
    const hi = lowerBound(level.codes, morton(x1, y1) + 1);
    const singles = z > CLUSTER_MAX_ZOOM;
    for (let c = lo; c < hi; c++) {
      const code = level.codes[c]!;
      const cx = squeeze(code);
      const cy = squeeze(code >>> 1);
      if (cx < x0 || cx > x1 || cy < y0 || cy > y1) continue;
      const count = level.count[c]!;
      if (count === 1 || singles) {
        for (let k = level.start[c]!, end = k + count; k < end; k++) {
          out.push(this.pointFeature(this.order[k]!));
          if (out.length >= MAX_VIEW_POINTS) return out;
        }
        continue;
      }
      out.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [level.sumLon[c]! / count, level.sumLat[c]! / count] },
        properties: {
          cluster: true,
          cluster_id: z * 2 ** 32 + code,
          point_count: count,
          point_count_abbreviated: abbreviate(count),
          on: level.on[c]!,
        },
      });
    }
    return out;
  }

  private pointFeature(i: number): ViewFeature {
    const { columns } = this;
    const s = columns.status[i]!;
    return {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [columns.lon[i]! * MICRO, columns.lat[i]! * MICRO] },
      properties: {
        id: columns.ids[i]!,
        net: columns.networks[columns.network[i]!] ?? '',
        s,
        on: s === ONLINE ? 1 : 0,
      },
    };
  }

  /** The zoom at which a cluster's points first fall into more than one cell (CLUSTER_MAX_ZOOM + 1 if never). */
  expansionZoom(clusterId: number): number {
    const z = Math.floor(clusterId / 2 ** 32);
    const code = clusterId % 2 ** 32;
    const level = this.levels[z];
    if (!level) return CLUSTER_MAX_ZOOM + 1;
    const c = lowerBound(level.codes, code);
    if (level.codes[c] !== code) return CLUSTER_MAX_ZOOM + 1;
    const first = this.fine[this.order[level.start[c]!]!]!;
    const last = this.fine[this.order[level.start[c]! + level.count[c]! - 1]!]!;
    for (let zz = z + 1; zz <= CLUSTER_MAX_ZOOM; zz++) {
      const shift = 2 * (CLUSTER_MAX_ZOOM - zz);
      if (first >>> shift !== last >>> shift) return zz;
    }
    return CLUSTER_MAX_ZOOM + 1;
  }

  /** Position of a point by id, or undefined when the feed does not hold it. */
  position(id: number): [number, number] | undefined {
    const i = this.indexOf(id);
    return i === undefined ? undefined : [this.columns.lon[i]! * MICRO, this.columns.lat[i]! * MICRO];
  }

  private indexOf(id: number): number | undefined {
    if (!this.byId) {
      // Built on the first delta, off the first render's path.
      this.byId = new Map();
      const { ids } = this.columns;
      for (let i = 0; i < ids.length; i++) this.byId.set(ids[i]!, i);
    }
    return this.byId.get(id);
  }

  /**
   * A status delta (camera:status): patches the point and the online count of
   * its cell at every zoom. False when nothing changed (unknown point, same status).
   */
  setStatus(id: number, status: number): boolean {
    const i = this.indexOf(id);
    if (i === undefined) return false;
    const before = this.columns.status[i]!;
    if (before === status) return false;
    this.columns.status[i] = status;
    const wasOn = before === ONLINE;
    const isOn = status === ONLINE;
    if (wasOn === isOn) return true;
    const code = this.fine[i]!;
    for (let z = 0; z <= CLUSTER_MAX_ZOOM; z++) {
      const level = this.levels[z]!;
      const c = lowerBound(level.codes, code >>> (2 * (CLUSTER_MAX_ZOOM - z)));
      level.on[c] = level.on[c]! + (isOn ? 1 : -1);
    }
    return true;
  }
}

function finestLevel(columns: PointColumns, order: Uint32Array, fine: Uint32Array): Level {
  const n = order.length;
  let cells = 0;
  for (let k = 0; k < n; k++) if (k === 0 || fine[order[k]!] !== fine[order[k - 1]!]) cells++;
  const level = emptyLevel(cells);
  let c = -1;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (k === 0 || fine[i] !== fine[order[k - 1]!]) {
      c++;
      level.codes[c] = fine[i]!;
      level.start[c] = k;
    }
    level.count[c] = level.count[c]! + 1;
    if (columns.status[i] === ONLINE) level.on[c] = level.on[c]! + 1;
    level.sumLon[c] = level.sumLon[c]! + columns.lon[i]! * MICRO;
    level.sumLat[c] = level.sumLat[c]! + columns.lat[i]! * MICRO;
  }
  return level;
}

function emptyLevel(cells: number): Level {
  return {
    codes: new Uint32Array(cells),
    start: new Uint32Array(cells),
    count: new Uint32Array(cells),
    on: new Uint32Array(cells),
    sumLon: new Float64Array(cells),
    sumLat: new Float64Array(cells),
  };
}

/** The next zoom out: four cells of `finer` become one (their codes share all but the last two bits). */
function coarser(finer: Level): Level {
  const m = finer.codes.length;
  let cells = 0;
  for (let c = 0; c < m; c++) if (c === 0 || finer.codes[c]! >>> 2 !== finer.codes[c - 1]! >>> 2) cells++;
  const level = emptyLevel(cells);
  let o = -1;
  for (let c = 0; c < m; c++) {
    const code = finer.codes[c]! >>> 2;
    if (c === 0 || code !== finer.codes[c - 1]! >>> 2) {
      o++;
      level.codes[o] = code;
      level.start[o] = finer.start[c]!;
    }
    level.count[o] = level.count[o]! + finer.count[c]!;
    level.on[o] = level.on[o]! + finer.on[c]!;
    level.sumLon[o] = level.sumLon[o]! + finer.sumLon[c]!;
    level.sumLat[o] = level.sumLat[o]! + finer.sumLat[c]!;
  }
  return level;
}
