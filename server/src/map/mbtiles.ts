/**
 * MBTiles 1.3 (https://github.com/mapbox/mbtiles-spec): a SQLite file with a
 * `metadata` (name, value) table and a `tiles` table (or view) keyed by zoom,
 * column and TMS row (y counted from the south). Read-only; a format library
 * that knows nothing of the application.
 */
import { DatabaseSync } from 'node:sqlite';
import type { TilePackage, TilePackageInfo } from './package.ts';
import { formatOf } from './package.ts';

function parseBounds(v: string | undefined): [number, number, number, number] | null {
  if (!v) return null;
  const b = v.split(',').map(Number);
  return b.length === 4 && b.every(Number.isFinite) ? (b as [number, number, number, number]) : null;
}

function intOr(v: string | undefined, fallback: number): number {
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) ? n : fallback;
}

export function openMbtiles(path: string): TilePackage {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const meta = new Map(
      (db.prepare('SELECT name, value FROM metadata').all() as { name: string; value: string }[]).map((r) => [
        r.name,
        String(r.value),
      ]),
    );
    const range = db.prepare('SELECT MIN(zoom_level) AS lo, MAX(zoom_level) AS hi FROM tiles').get() as {
      lo: number | null;
      hi: number | null;
    };
    const info: TilePackageInfo = {
      format: formatOf(meta.get('format') ?? 'png'),
      minzoom: intOr(meta.get('minzoom'), range.lo ?? 0),
      maxzoom: intOr(meta.get('maxzoom'), range.hi ?? 0),
      bounds: parseBounds(meta.get('bounds')),
      attribution: meta.get('attribution') ?? '',
      name: meta.get('name') ?? '',
      gzip: false,
    };
    const stmt = db.prepare('SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?');
    return {
      info,
      tile(z, x, y) {
        // TMS rows count from the south; XYZ (what maplibre asks for) from the north.
        const row = stmt.get(z, x, (1 << z) - 1 - y) as { tile_data: Uint8Array } | undefined;
        if (!row) return Promise.resolve(null);
        const data = Buffer.from(row.tile_data);
        // Vector tiles in MBTiles are gzipped by convention.
        return Promise.resolve({ data, gzip: data[0] === 0x1f && data[1] === 0x8b });
      },
      close: () => db.close(),
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
