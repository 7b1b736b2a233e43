/**
 * Pure geometry for alerts: which org unit holds a point, and which cameras
 * can see it. No application imports beyond types.
 */
import { haversineMeters, type LonLat } from '../geo/coords.ts';

type Ring = readonly (readonly number[])[];

/** Ray casting on one ring (lon/lat treated as planar: fine at village scale). */
function inRing(p: LonLat, ring: Ring): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi = 0, yi = 0] = ring[i] ?? [];
    const [xj = 0, yj = 0] = ring[j] ?? [];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function polygons(geometry: unknown): Ring[][] {
  const g = geometry as { type?: unknown; coordinates?: unknown } | null;
  if (!g || !Array.isArray(g.coordinates)) return [];
  if (g.type === 'Polygon') return [g.coordinates as Ring[]];
  if (g.type === 'MultiPolygon') return g.coordinates as Ring[][];
  return [];
}

/** Whether a GeoJSON Polygon/MultiPolygon contains the point (holes excluded). */
export function pointInGeometry(p: LonLat, geometry: unknown): boolean {
  return polygons(geometry).some(
    ([outer, ...holes]) => outer !== undefined && inRing(p, outer) && !holes.some((h) => inRing(p, h)),
  );
}

/** A rough centre of a boundary (mean of its outer ring vertices), for the nearest-village fallback. */
export function centroid(geometry: unknown): LonLat | null {
  const outer = polygons(geometry)[0]?.[0];
  if (!outer?.length) return null;
  let x = 0;
  let y = 0;
  for (const [lon = 0, lat = 0] of outer) {
    x += lon;
    y += lat;
  }
  return [x / outer.length, y / outer.length];
}

/** Initial bearing from a to b, degrees clockwise from north, 0–360. */
export function bearingDeg(a: LonLat, b: LonLat): number {
  const r = Math.PI / 180;
  const y = Math.sin((b[0] - a[0]) * r) * Math.cos(b[1] * r);
  const x =
    Math.cos(a[1] * r) * Math.sin(b[1] * r) - Math.sin(a[1] * r) * Math.cos(b[1] * r) * Math.cos((b[0] - a[0]) * r);
  return (((Math.atan2(y, x) / r) % 360) + 360) % 360;
}

export interface LinkCandidate {
  id: number;
  lon: number;
  lat: number;
  direction: number | null;
  fov: number | null;
  ptz: boolean;
}

/** A point closer than this is seen by any camera whatever its direction. */
const AT_THE_CAMERA_M = 5;

/**
 * 联动 — the cameras that can see `p`, best first: those whose view cone
 * covers it (and PTZ domes, which can turn to it) before omnidirectional
 * ones (no direction registered), nearest first within each; fixed cameras
 * looking away are left out: they cannot show the place.
 */
export function rankLinkedCameras(p: LonLat, cams: readonly LinkCandidate[], radiusM: number, max: number): number[] {
  const ranked: { id: number; tier: number; d: number }[] = [];
  for (const c of cams) {
    const d = haversineMeters([c.lon, c.lat], p);
    if (d > radiusM) continue;
    let tier: number;
    if (c.ptz || d < AT_THE_CAMERA_M) tier = 0;
    else if (c.direction === null) tier = 1;
    else {
      const fov = c.fov ?? 60;
      const diff = Math.abs(((bearingDeg([c.lon, c.lat], p) - c.direction + 540) % 360) - 180);
      if (diff > fov / 2) continue;
      tier = 0;
    }
    ranked.push({ id: c.id, tier, d });
  }
  ranked.sort((a, b) => a.tier - b.tier || a.d - b.d || a.id - b.id);
  return ranked.slice(0, max).map((r) => r.id);
}
