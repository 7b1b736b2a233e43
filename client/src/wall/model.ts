/**
 * The wall's data, without React: grids, tours, drag-and-drop payloads and the
 * compact point rows from GET /walls/points.
 */
import {
  WALL_GRID_TILES,
  type CameraStatus,
  type WallGrid,
  type WallLayout,
  type WallPointsResponse,
} from '@api/contract.ts';

/** Tiles per grid, in the order keys 1–7 select them. */
export const GRIDS: readonly WallGrid[] = ['1', '4', '6', '9', '16', '1+5', '1+7'];

export const GRID_TILES: Readonly<Record<WallGrid, number>> = WALL_GRID_TILES;

/** The same cameras in another grid: the first tiles keep theirs, new ones are empty. */
export function resize(layout: WallLayout, grid: WallGrid): WallLayout {
  const n = GRID_TILES[grid];
  return { ...layout, grid, tiles: Array.from({ length: n }, (_, i) => layout.tiles[i] ?? null) };
}

/** The smallest grid with room for `count` tiles (16 at most). */
export function gridFor(count: number): WallGrid {
  for (const g of ['1', '4', '6', '9', '16'] as const) if (GRID_TILES[g] >= count) return g;
  return '16';
}

/**
 * Tour group `group`: the tour's cameras taken `tiles` at a time, wrapping
 * around at the end so that the last group fills every tile too.
 */
export function tourGroup(cameraIds: readonly number[], tiles: number, group: number): number[] {
  if (!cameraIds.length) return Array.from({ length: tiles }, () => -1);
  const start = group * tiles;
  return Array.from({ length: tiles }, (_, i) => cameraIds[(start + i) % cameraIds.length]!);
}

/** How many groups a tour cycles through. */
export function tourGroups(cameraIds: readonly number[], tiles: number): number {
  return Math.max(1, Math.ceil(cameraIds.length / tiles));
}

/** Seconds before a tour switch at which the next group starts playing, hidden. */
export function preloadLeadSec(intervalSec: number): number {
  return Math.min(6, intervalSec / 2);
}

/** Drag payload: one camera id (from the tree, the map, an alert or another tile). */
export const CAMERA_MIME = 'application/x-ccc-camera';
/** Drag payload of a tile being moved: its index, so a drop swaps the two tiles. */
export const TILE_MIME = 'application/x-ccc-tile';

export interface WallPoint {
  id: number;
  lon: number;
  lat: number;
  networkId: string;
  status: CameraStatus;
  direction: number | null;
  fov: number | null;
  ptz: boolean;
  orgUnitId: number;
  name: string;
}

export function pointsFrom(res: WallPointsResponse): WallPoint[] {
  return res.points.map(([id, lon, lat, networkId, status, direction, fov, ptz, orgUnitId, name]) => ({
    id,
    lon,
    lat,
    networkId,
    status,
    direction,
    fov,
    ptz: ptz === 1,
    orgUnitId,
    name,
  }));
}

/** Puts `cameraId` into the focused tile if it is empty, else the first empty one, else the focused one. */
export function placeCamera(tiles: readonly (number | null)[], focus: number, cameraId: number): (number | null)[] {
  const next = [...tiles];
  const target = next[focus] === null ? focus : next.indexOf(null);
  next[target >= 0 ? target : focus] = cameraId;
  return next;
}

/** A view cone (扇形) as a polygon ring: `fov` degrees wide around `direction`, `radiusM` metres long. */
export function viewCone(lon: number, lat: number, direction: number, fov: number, radiusM: number): number[][] {
  const metersPerDegLat = 111_320;
  const metersPerDegLon = metersPerDegLat * Math.cos((lat * Math.PI) / 180);
  const half = Math.min(Math.max(fov, 5), 360) / 2;
  const steps = 12;
  const ring: number[][] = [[lon, lat]];
  for (let i = 0; i <= steps; i++) {
    const bearing = ((direction - half + (2 * half * i) / steps) * Math.PI) / 180;
    ring.push([
      lon + (Math.sin(bearing) * radiusM) / metersPerDegLon,
      lat + (Math.cos(bearing) * radiusM) / metersPerDegLat,
    ]);
  }
  ring.push([lon, lat]);
  return ring;
}
