/**
 * Label positions for township and village polygons of the generated basemap.
 * The map has no glyphs (nothing may be fetched off-platform), so names are
 * drawn as HTML markers at a visual centre of each polygon.
 */
import type { GeoJSON, Geometry, Position as GeoPosition } from 'geojson';
import type { Position } from '@api/contract.ts';

export interface PlaceLabel {
  kind: 'township' | 'village';
  name: string;
  position: Position;
}

/** Signed-area centroid of a ring, with its absolute area. */
function ringCentroid(ring: GeoPosition[]): { lon: number; lat: number; area: number } | null {
  let area = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < ring.length - 1; i++) {
    const a = ring[i];
    const b = ring[i + 1];
    if (!a || !b) continue;
    const [x0 = 0, y0 = 0] = a;
    const [x1 = 0, y1 = 0] = b;
    const cross = x0 * y1 - x1 * y0;
    area += cross;
    cx += (x0 + x1) * cross;
    cy += (y0 + y1) * cross;
  }
  if (area === 0) return null;
  return { lon: cx / (3 * area), lat: cy / (3 * area), area: Math.abs(area / 2) };
}

/** Centre of the largest outer ring (a multipolygon's main part). */
function polygonCentre(geometry: Geometry): Position | null {
  const outerRings =
    geometry.type === 'Polygon'
      ? [geometry.coordinates[0]]
      : geometry.type === 'MultiPolygon'
        ? geometry.coordinates.map((polygon) => polygon[0])
        : [];
  let best: { lon: number; lat: number; area: number } | null = null;
  for (const ring of outerRings) {
    if (!ring) continue;
    const c = ringCentroid(ring);
    if (c && (!best || c.area > best.area)) best = c;
  }
  return best ? { lon: best.lon, lat: best.lat } : null;
}

export function placeLabels(data: GeoJSON): PlaceLabel[] {
  if (data.type !== 'FeatureCollection') return [];
  const labels: PlaceLabel[] = [];
  for (const feature of data.features) {
    const kind: unknown = feature.properties?.['kind'];
    const name: unknown = feature.properties?.['name'];
    if ((kind !== 'township' && kind !== 'village') || typeof name !== 'string' || !name) continue;
    const position = polygonCentre(feature.geometry);
    if (position) labels.push({ kind, name, position });
  }
  return labels;
}
