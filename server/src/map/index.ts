import { Router } from 'express';
import type { MapConfig } from '../api/contract.ts';
import type { AuthService } from '../auth/index.ts';
import type { AppConfig } from '../config/schema.ts';
import type { OrgRepo } from '../org/repo.ts';

interface Feature {
  type: 'Feature';
  properties: { kind: 'county' | 'township' | 'village' | 'road' | 'water'; name: string };
  geometry: unknown;
}

type Ring = number[][];

function ringOf(boundary: unknown): Ring | null {
  const b = boundary as { type?: string; coordinates?: unknown } | null;
  if (b?.type !== 'Polygon' || !Array.isArray(b.coordinates)) return null;
  const ring = b.coordinates[0];
  return Array.isArray(ring) ? (ring as Ring) : null;
}

function centroid(ring: Ring): [number, number] {
  let x = 0;
  let y = 0;
  const pts = ring.slice(0, -1);
  for (const [px = 0, py = 0] of pts) {
    x += px;
    y += py;
  }
  return [x / pts.length, y / pts.length];
}

/**
 * The locally generated basemap: org boundaries plus a schematic road
 * network and river derived from them. No tile server and no internet are
 * needed; a real deployment points `map.basemap` at its own tile server.
 */
export function buildBasemap(orgs: OrgRepo): { type: 'FeatureCollection'; features: Feature[] } {
  const features: Feature[] = [];
  const units = orgs.all();
  const townCentres: [number, number][] = [];
  let countyRing: Ring | null = null;
  for (const u of units) {
    if (!u.boundary) continue;
    features.push({ type: 'Feature', properties: { kind: u.level, name: u.name }, geometry: u.boundary });
    const ring = ringOf(u.boundary);
    if (!ring) continue;
    if (u.level === 'township') townCentres.push(centroid(ring));
    if (u.level === 'county' && !countyRing) countyRing = ring;
  }
  if (countyRing && townCentres.length) {
    const [cx, cy] = centroid(countyRing);
    // Trunk roads from the county seat to each township, and a ring road linking townships by angle.
    const sorted = [...townCentres].sort((a, b) => Math.atan2(a[1] - cy, a[0] - cx) - Math.atan2(b[1] - cy, b[0] - cx));
    for (const t of sorted) {
      features.push({
        type: 'Feature',
        properties: { kind: 'road', name: '' },
        geometry: { type: 'LineString', coordinates: [[cx, cy], t] },
      });
    }
    features.push({
      type: 'Feature',
      properties: { kind: 'road', name: '' },
      geometry: { type: 'LineString', coordinates: [...sorted, sorted[0]] },
    });
    const xs = countyRing.map((p) => p[0] ?? 0);
    const ys = countyRing.map((p) => p[1] ?? 0);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const river: number[][] = [];
    for (let i = 0; i <= 40; i++) {
      const t = i / 40;
      river.push([x0 + (x1 - x0) * t, y0 + (y1 - y0) * (0.35 + 0.12 * Math.sin(t * Math.PI * 3))]);
    }
    features.push({
      type: 'Feature',
      properties: { kind: 'water', name: '清江' },
      geometry: { type: 'LineString', coordinates: river },
    });
  }
  return { type: 'FeatureCollection', features };
}

export function mapRoutes(deps: { auth: AuthService; config: AppConfig; orgs: OrgRepo }): Router {
  const r = Router();
  r.get('/map/config', deps.auth.requireAuth, (_req, res) => {
    const out: MapConfig = {
      center: deps.config.map.center,
      zoom: deps.config.map.zoom,
      basemap: deps.config.map.basemap,
    };
    res.json(out);
  });
  r.get('/map/basemap.geojson', deps.auth.requireAuth, (_req, res) => {
    res.setHeader('Cache-Control', 'private, max-age=300');
    res.type('application/geo+json').send(JSON.stringify(buildBasemap(deps.orgs)));
  });
  return r;
}
