/**
 * Binds a PointIndex to a plain (unclustered) maplibre GeoJSON source: the
 * source holds only what the view shows (clusters, or points past the last
 * cluster zoom), recomputed from the index as the view moves and after
 * status deltas. maplibre never sees the whole jurisdiction, so the first
 * render costs the same at 200,000 points as at 2,000 (issue 15).
 */
import type { GeoJSONSource, Map as MaplibreMap } from 'maplibre-gl';
import { CLUSTER_MAX_ZOOM, type PointIndex, type Bounds } from './pointIndex.ts';

/** Least time between two recomputations while the view moves (the source follows within this). */
const MOVE_REFRESH_MS = 120;
/** A status burst (a sweep finishing) redraws once. */
const DELTA_REFRESH_MS = 250;

/**
 * The view padded by half a screen each way, so a short pan shows no empty border before the next refresh
 * (the wall's first picture asks the index for the same: firstPicture.ts).
 */
export function padBounds([west, south, east, north]: Bounds): Bounds {
  const dx = (east - west) / 2;
  const dy = (north - south) / 2;
  return [Math.max(-180, west - dx), Math.max(-85, south - dy), Math.min(180, east + dx), Math.min(85, north + dy)];
}

export class ClusterSource {
  private index: PointIndex | null = null;
  private moveTimer: number | undefined;
  private deltaTimer: number | undefined;
  private lastKey = '';
  private version = 0;
  private readonly onMove = () => {
    if (this.moveTimer === undefined) this.moveTimer = window.setTimeout(() => this.refresh(), MOVE_REFRESH_MS);
  };
  private readonly onMoveEnd = () => this.refresh();

  private readonly map: MaplibreMap;
  private readonly sourceId: string;
  /** Called after each setData with the number of features handed to the source. */
  private readonly onSet: ((features: number) => void) | undefined;
  /** Up to this many points every point is drawn by itself at every zoom (the registry's placement map). */
  private readonly clusterAbove: number;

  constructor(map: MaplibreMap, sourceId: string, onSet?: (features: number) => void, clusterAbove = 0) {
    this.map = map;
    this.sourceId = sourceId;
    this.onSet = onSet;
    this.clusterAbove = clusterAbove;
    map.on('move', this.onMove);
    map.on('moveend', this.onMoveEnd);
  }

  get current(): PointIndex | null {
    return this.index;
  }

  /**
   * Statuses heard since the feed in flight was asked for: a delta that arrives after the server read the
   * feed but before it is here would otherwise be lost with the old index. Statuses are absolute values,
   * so applying one the feed already has changes nothing.
   */
  private sinceFetch = new Map<number, number>();

  /** A feed is being fetched: deltas from now on are replayed onto it. */
  fetching(): void {
    this.sinceFetch = new Map();
  }

  setIndex(index: PointIndex): void {
    this.index = index;
    for (const [id, status] of this.sinceFetch) index.setStatus(id, status);
    this.version++;
    this.refresh();
  }

  /** A status delta (camera:status, as a STATUS_CODES value): the view is redrawn once for a burst. */
  setStatus(id: number, status: number): void {
    this.sinceFetch.set(id, status);
    if (this.index?.setStatus(id, status)) this.changed();
  }

  /** After the index changed in place: one redraw for a burst. */
  private changed(): void {
    this.version++;
    window.clearTimeout(this.deltaTimer);
    this.deltaTimer = window.setTimeout(() => this.refresh(), DELTA_REFRESH_MS);
  }

  private bounds(): Bounds {
    const b = this.map.getBounds();
    return padBounds([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]);
  }

  refresh(): void {
    window.clearTimeout(this.moveTimer);
    this.moveTimer = undefined;
    const source = this.map.getSource<GeoJSONSource>(this.sourceId);
    if (!this.index || !source) return;
    const zoom = this.index.count <= this.clusterAbove ? CLUSTER_MAX_ZOOM + 1 : Math.floor(this.map.getZoom());
    const bounds = this.bounds();
    // Same zoom, same padded view (to ~1/8 screen) and no delta: nothing to send.
    const step = (bounds[2] - bounds[0]) / 16;
    const key = `${this.version}|${zoom}|${bounds.map((v) => Math.round(v / step)).join(',')}`;
    if (key === this.lastKey) return;
    this.lastKey = key;
    const features = this.index.view(bounds, zoom);
    source.setData({ type: 'FeatureCollection', features });
    this.onSet?.(features.length);
  }

  detach(): void {
    window.clearTimeout(this.moveTimer);
    window.clearTimeout(this.deltaTimer);
    this.map.off('move', this.onMove);
    this.map.off('moveend', this.onMoveEnd);
    this.index = null;
  }
}
