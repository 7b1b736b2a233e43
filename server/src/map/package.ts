/**
 * Offline map packages (issue 17): a county exports its map from its GIS as
 * one MBTiles or PMTiles file, and the platform serves the tiles itself
 * (`map.basemap: { type: mbtiles | pmtiles, path }`). No tile server, no
 * internet.
 */
export type TileFormat = 'png' | 'jpg' | 'webp' | 'pbf';

export interface TilePackageInfo {
  format: TileFormat;
  minzoom: number;
  maxzoom: number;
  /** [west, south, east, north], WGS-84, when the package says. */
  bounds: [number, number, number, number] | null;
  attribution: string;
  name: string;
  /** Tiles are stored gzipped (served with Content-Encoding: gzip). */
  gzip: boolean;
}

export interface TilePackage {
  info: TilePackageInfo;
  /** The tile at XYZ z/x/y (y from the north), or null when the package has none. */
  tile(z: number, x: number, y: number): Promise<{ data: Buffer; gzip: boolean } | null>;
  close(): void;
}

export const TILE_MIME: Record<TileFormat, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  webp: 'image/webp',
  pbf: 'application/x-protobuf',
};

export function formatOf(v: string): TileFormat {
  const f = v.toLowerCase();
  if (f === 'jpeg' || f === 'jpg') return 'jpg';
  if (f === 'png' || f === 'webp' || f === 'pbf') return f;
  if (f === 'mvt') return 'pbf';
  throw new Error(`tile format "${v}" is not one of png, jpg, webp, pbf`);
}
