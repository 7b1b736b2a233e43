/**
 * The configured offline map package (MBTiles or PMTiles): checked when the
 * server starts (a wrong path stops it, naming `map.basemap.path`), opened on
 * the first tile request and closed again after a minute without one, so an
 * idle platform holds no file open.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { openMbtiles } from './mbtiles.ts';
import type { TilePackage, TilePackageInfo } from './package.ts';
import { openPmtiles, parseHeader } from './pmtiles.ts';

const IDLE_CLOSE_MS = 60_000;

export interface TileSource {
  info: TilePackageInfo;
  tile(z: number, x: number, y: number): Promise<{ data: Buffer; gzip: boolean } | null>;
  close(): void;
}

function check(kind: 'mbtiles' | 'pmtiles', path: string): TilePackageInfo {
  try {
    if (kind === 'mbtiles') {
      const pkg = openMbtiles(path);
      pkg.close();
      return pkg.info;
    }
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(127);
      readSync(fd, head, 0, 127, 0);
      const h = parseHeader(head);
      return {
        format: ({ 1: 'pbf', 2: 'png', 3: 'jpg', 4: 'webp' } as const)[h.tileType as 1 | 2 | 3 | 4] ?? 'png',
        minzoom: h.minZoom,
        maxzoom: h.maxZoom,
        bounds: h.bounds,
        attribution: '',
        name: '',
        gzip: h.tileCompression === 2,
      };
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new Error(`map.basemap.path: ${path} is not a readable ${kind} file: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export function createTileSource(basemap: {
  type: 'mbtiles' | 'pmtiles';
  path: string;
  attribution: string;
}): TileSource {
  const checked = check(basemap.type, basemap.path);
  if (checked.format === 'pbf')
    throw new Error(
      `map.basemap.path: ${basemap.path} holds vector tiles; only raster packages (png, jpg, webp) can be drawn without a style`,
    );
  const info: TilePackageInfo = { ...checked, attribution: basemap.attribution || checked.attribution };
  let opened: Promise<TilePackage> | null = null;
  let idle: NodeJS.Timeout | undefined;
  const release = () => {
    const p = opened;
    opened = null;
    void p?.then((pkg) => pkg.close()).catch(() => undefined);
  };
  return {
    info,
    async tile(z, x, y) {
      opened ??= basemap.type === 'mbtiles' ? Promise.resolve(openMbtiles(basemap.path)) : openPmtiles(basemap.path);
      const current = opened;
      clearTimeout(idle);
      idle = setTimeout(release, IDLE_CLOSE_MS);
      idle.unref();
      try {
        return await (await current).tile(z, x, y);
      } catch (err) {
        // A file replaced or damaged meanwhile: open it afresh next time.
        if (opened === current) release();
        throw err;
      }
    },
    close() {
      clearTimeout(idle);
      release();
    },
  };
}
