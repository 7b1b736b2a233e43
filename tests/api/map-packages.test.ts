/**
 * Offline map packages served by the platform (issue 17): an MBTiles and a
 * PMTiles file the test writes itself (PNG tiles of known colours) are chosen
 * in config, described by /map/config and served tile by tile at XYZ
 * addresses (MBTiles rows are TMS: flipped), only to signed-in users; bad
 * coordinates are 400s naming the field; a wrong path stops the server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config/load.ts';
import { tileId } from '../../server/src/map/pmtiles.ts';
import { pyramid, writeMbtiles, writePmtiles, type Tile } from '../helpers/map-packages.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

const BOUNDS: [number, number, number, number] = [118.5, 30.7, 119.1, 31.2];
const colour = (z: number, x: number, y: number): [number, number, number] => [40 + z * 60, x * 50, 20 + y * 50];

let dir: string;
let tiles: Tile[];
const servers: Record<'mbtiles' | 'pmtiles', TestServer | null> = { mbtiles: null, pmtiles: null };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ccc-map-'));
  tiles = pyramid(0, 3, colour);
  writeMbtiles(path.join(dir, 'county.mbtiles'), tiles, {
    name: '示范县',
    format: 'png',
    minzoom: '0',
    maxzoom: '3',
    bounds: BOUNDS.join(','),
    attribution: '示范县自然资源局',
  });
  // Leaves of 7 tiles each: the reader has to follow the root into leaf directories.
  writePmtiles(path.join(dir, 'county.pmtiles'), tiles, { bounds: BOUNDS, leafSize: 7 });
  for (const type of ['mbtiles', 'pmtiles'] as const) {
    servers[type] = await startTestServer({
      cameras: 5,
      overrides: { map: { basemap: { type, path: path.join(dir, `county.${type}`) } } },
    });
  }
});

afterAll(async () => {
  for (const s of Object.values(servers)) await s?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(['mbtiles', 'pmtiles'] as const)('a %s package', (type) => {
  const server = () => servers[type]!;

  it('is described to the client as raster tiles on the platform, with its extent and zooms', async () => {
    const viewer = client(server().api, await server().login('viewer'));
    const r = await viewer.get('/map/config');
    expect(r.status).toBe(200);
    expect(r.json.basemap).toMatchObject({
      type: 'raster',
      tiles: ['/api/v1/map/tiles/{z}/{x}/{y}'],
      tileSize: 256,
      minzoom: 0,
      maxzoom: 3,
    });
    const b = r.json.basemap.bounds as number[];
    for (const [i, v] of BOUNDS.entries()) expect(b[i]).toBeCloseTo(v, 6);
    if (type === 'mbtiles') expect(r.json.basemap.attribution).toBe('示范县自然资源局');
  });

  it('serves every tile at its XYZ address, byte for byte', async () => {
    const token = await server().login('viewer');
    const get = (url: string) => fetch(`${server().api}${url}`, { headers: { authorization: `Bearer ${token}` } });
    for (const t of tiles) {
      const res = await get(`/map/tiles/${t.z}/${t.x}/${t.y}`);
      expect(res.status, `${t.z}/${t.x}/${t.y}`).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await res.arrayBuffer()).equals(t.data), `${t.z}/${t.x}/${t.y}`).toBe(true);
    }
    const withExt = await get('/map/tiles/2/3/1.png');
    expect(
      Buffer.from(await withExt.arrayBuffer()).equals(tiles.find((t) => t.z === 2 && t.x === 3 && t.y === 1)!.data),
    ).toBe(true);
  });

  it('answers 404 for a tile it does not hold, 400 naming the field for bad coordinates, 401 without a session', async () => {
    const viewer = client(server().api, await server().login('viewer'));
    expect((await viewer.get('/map/tiles/4/1/1')).status).toBe(404);
    for (const [url, field] of [
      ['/map/tiles/25/0/0', 'z'],
      ['/map/tiles/2/4/0', 'x'],
      ['/map/tiles/2/0/4', 'y'],
      ['/map/tiles/2/0/abc', 'y'],
      ['/map/tiles/x/0/0', 'z'],
    ] as const) {
      const r = await viewer.get(url);
      expect(r.status, url).toBe(400);
      expect(
        (r.json.error.fields as { path: string }[]).map((f) => f.path),
        url,
      ).toContain(field);
    }
    expect((await client(server().api).get('/map/tiles/0/0/0')).status).toBe(401);
  });
});

describe('configuration', () => {
  it('stops the server at start when the package is missing or not a package, naming map.basemap.path', async () => {
    await expect(
      startTestServer({
        overrides: { map: { basemap: { type: 'mbtiles', path: path.join(dir, 'missing.mbtiles') } } },
      }),
    ).rejects.toThrow(/map\.basemap\.path/);
    writeFileSync(path.join(dir, 'junk.pmtiles'), 'not a map');
    await expect(
      startTestServer({ overrides: { map: { basemap: { type: 'pmtiles', path: path.join(dir, 'junk.pmtiles') } } } }),
    ).rejects.toThrow(/map\.basemap\.path: .* not a readable pmtiles file/);
  });

  it('refuses a package without a path, or with an unknown key, naming it', () => {
    expect(() =>
      loadConfig({ profile: 'test', env: {}, overrides: { map: { basemap: { type: 'pmtiles' } } } }),
    ).toThrow(/map\.basemap\.path/);
    expect(() =>
      loadConfig({
        profile: 'test',
        env: {},
        overrides: { map: { basemap: { type: 'mbtiles', path: 'a', url: 'b' } } },
      }),
    ).toThrow(/map\.basemap\.url: unknown key/);
  });

  it('numbers PMTiles tiles as the spec does (Hilbert order within a zoom)', () => {
    expect([
      tileId(0, 0, 0),
      tileId(1, 0, 0),
      tileId(1, 0, 1),
      tileId(1, 1, 1),
      tileId(1, 1, 0),
      tileId(2, 0, 0),
    ]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(tileId(12, 3423, 1763)).toBe(19078479);
  });
});
