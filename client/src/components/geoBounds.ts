import type { Position } from '@api/contract.ts';

/** [west, south, east, north] of some positions, or null when there are none. */
export function boundsOf(positions: readonly Position[]): [number, number, number, number] | null {
  if (!positions.length) return null;
  let [minLon, minLat, maxLon, maxLat] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const p of positions) {
    minLon = Math.min(minLon, p.lon);
    minLat = Math.min(minLat, p.lat);
    maxLon = Math.max(maxLon, p.lon);
    maxLat = Math.max(maxLat, p.lat);
  }
  return [minLon, minLat, maxLon, maxLat];
}
