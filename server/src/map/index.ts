import { Router } from 'express';
import { z } from 'zod';
import type { MapConfig } from '../api/contract.ts';
import type { AuthService } from '../auth/index.ts';
import type { AppConfig } from '../config/schema.ts';
import { HttpError, parseOr400 } from '../http/errors.ts';
import type { OrgRepo } from '../org/repo.ts';
import { TILE_MIME } from './package.ts';
import { createTileSource } from './tiles.ts';

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

/** A label point for each org unit with a boundary: its name at its centre (drawn by the map, no glyph server). */
export function buildPlaceLabels(orgs: OrgRepo): {
  type: 'FeatureCollection';
  features: {
    type: 'Feature';
    properties: { kind: string; name: string };
    geometry: { type: 'Point'; coordinates: [number, number] };
  }[];
} {
  const features = [];
  for (const u of orgs.all()) {
    const ring = ringOf(u.boundary);
    if (!ring || u.level === 'county') continue;
    features.push({
      type: 'Feature' as const,
      properties: { kind: u.level, name: u.name },
      geometry: { type: 'Point' as const, coordinates: centroid(ring) },
    });
  }
  return { type: 'FeatureCollection', features };
}

const tileParams = z
  .object({
    z: z.coerce.number().int().min(0).max(24),
    x: z.coerce.number().int().min(0),
    y: z.string().regex(/^\d+(\.(png|jpe?g|webp|pbf))?$/, 'a tile row, optionally with its extension'),
  })
  .strict()
  .transform((p, ctx) => {
    const y = Number(p.y.split('.')[0]);
    const n = 2 ** p.z;
    if (p.x >= n) ctx.addIssue({ code: 'custom', path: ['x'], message: `at zoom ${p.z}, below ${n}` });
    if (y >= n) ctx.addIssue({ code: 'custom', path: ['y'], message: `at zoom ${p.z}, below ${n}` });
    return { z: p.z, x: p.x, y };
  });

/** The tiles of an offline package as the client's map asks for them. */
const PACKAGE_TILES = '/api/v1/map/tiles/{z}/{x}/{y}';

export function mapRoutes(deps: { auth: AuthService; config: AppConfig; orgs: OrgRepo }): Router {
  const r = Router();
  const basemapConfig = deps.config.map.basemap;
  // Checked now: a wrong path stops the server at start, naming map.basemap.path.
  const tiles =
    basemapConfig.type === 'mbtiles' || basemapConfig.type === 'pmtiles' ? createTileSource(basemapConfig) : null;
  const basemap: MapConfig['basemap'] = tiles
    ? {
        type: 'raster',
        tiles: [PACKAGE_TILES],
        tileSize: 256,
        minzoom: tiles.info.minzoom,
        maxzoom: tiles.info.maxzoom,
        attribution: tiles.info.attribution,
        ...(tiles.info.bounds ? { bounds: tiles.info.bounds } : {}),
      }
    : (basemapConfig as MapConfig['basemap']);
  r.get('/map/config', deps.auth.requireAuth, (_req, res) => {
    const out: MapConfig = { center: deps.config.map.center, zoom: deps.config.map.zoom, basemap };
    res.json(out);
  });
  r.get('/map/basemap.geojson', deps.auth.requireAuth, (_req, res) => {
    res.setHeader('Cache-Control', 'private, max-age=300');
    res.type('application/geo+json').send(JSON.stringify(buildBasemap(deps.orgs)));
  });
  r.get('/map/places.geojson', deps.auth.requireAuth, (_req, res) => {
    res.setHeader('Cache-Control', 'private, max-age=300');
    res.type('application/geo+json').send(JSON.stringify(buildPlaceLabels(deps.orgs)));
  });
  r.get('/map/tiles/:z/:x/:y', deps.auth.requireAuth, async (req, res) => {
    const p = parseOr400(tileParams, req.params);
    if (!tiles) throw new HttpError(404, 'not_found', 'no map package is configured (map.basemap)');
    const tile = await tiles.tile(p.z, p.x, p.y);
    if (!tile) throw new HttpError(404, 'not_found', `no tile ${p.z}/${p.x}/${p.y} in the map package`);
    // Tiles of one package never change while it is configured: let the browser keep them.
    res.setHeader('Cache-Control', 'private, max-age=86400');
    if (tile.gzip) res.setHeader('Content-Encoding', 'gzip');
    res.type(TILE_MIME[tiles.info.format]).send(tile.data);
  });
  return r;
}
