/**
 * Small offline map packages made by the tests themselves (issue 17): PNG
 * tiles of one colour, written into an MBTiles file (node:sqlite) or a
 * PMTiles v3 file. Nothing is downloaded.
 */
import { writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import { tileId } from '../../server/src/map/pmtiles.ts';

export type Rgb = [number, number, number];

/** A w×h PNG of one colour (8-bit RGB, no interlace). */
export function solidPng(rgb: Rgb, w = 256, h = 256): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const row = Buffer.alloc(1 + w * 3);
  for (let x = 0; x < w; x++) row.set(rgb, 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export interface Tile {
  z: number;
  x: number;
  /** XYZ row, counted from the north. */
  y: number;
  data: Buffer;
}

/** Every tile of zooms `minzoom`..`maxzoom`, coloured by `colour(z, x, y)`. */
export function pyramid(minzoom: number, maxzoom: number, colour: (z: number, x: number, y: number) => Rgb): Tile[] {
  const tiles: Tile[] = [];
  for (let z = minzoom; z <= maxzoom; z++)
    for (let x = 0; x < 2 ** z; x++)
      for (let y = 0; y < 2 ** z; y++) tiles.push({ z, x, y, data: solidPng(colour(z, x, y)) });
  return tiles;
}

/** MBTiles 1.3: metadata and tiles tables, rows in TMS order (from the south). */
export function writeMbtiles(path: string, tiles: readonly Tile[], meta: Record<string, string>): void {
  const db = new DatabaseSync(path);
  try {
    db.exec(`CREATE TABLE metadata (name TEXT, value TEXT);
      CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
      CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);`);
    const m = db.prepare('INSERT INTO metadata (name, value) VALUES (?, ?)');
    for (const [k, v] of Object.entries(meta)) m.run(k, v);
    const t = db.prepare('INSERT INTO tiles VALUES (?, ?, ?, ?)');
    db.exec('BEGIN');
    for (const tile of tiles) t.run(tile.z, tile.x, 2 ** tile.z - 1 - tile.y, tile.data);
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}

function varints(values: readonly number[]): Buffer {
  const out: number[] = [];
  for (let v of values) {
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
  }
  return Buffer.from(out);
}

interface Entry {
  tileId: number;
  offset: number;
  length: number;
  runLength: number;
}

function directory(entries: readonly Entry[]): Buffer {
  const ids = entries.map((e, i) => e.tileId - (i ? entries[i - 1]!.tileId : 0));
  const offsets = entries.map((e, i) => {
    const prev = entries[i - 1];
    return prev && e.offset === prev.offset + prev.length ? 0 : e.offset + 1;
  });
  return gzipSync(
    Buffer.concat([
      varints([entries.length]),
      varints(ids),
      varints(entries.map((e) => e.runLength)),
      varints(entries.map((e) => e.length)),
      varints(offsets),
    ]),
  );
}

/**
 * PMTiles v3 with gzip directories and uncompressed PNG tiles. With
 * `leafSize`, the root points at leaf directories of that many tiles each (the
 * way large packages are laid out).
 */
export function writePmtiles(
  path: string,
  tiles: readonly Tile[],
  opts: { bounds: [number, number, number, number]; leafSize?: number },
): void {
  const sorted = [...tiles].map((t) => ({ ...t, id: tileId(t.z, t.x, t.y) })).sort((a, b) => a.id - b.id);
  const entries: Entry[] = [];
  let offset = 0;
  for (const t of sorted) {
    entries.push({ tileId: t.id, offset, length: t.data.length, runLength: 1 });
    offset += t.data.length;
  }
  const data = Buffer.concat(sorted.map((t) => t.data));
  let root: Buffer;
  let leaves = Buffer.alloc(0);
  if (opts.leafSize) {
    const rootEntries: Entry[] = [];
    const parts: Buffer[] = [];
    let at = 0;
    for (let i = 0; i < entries.length; i += opts.leafSize) {
      const chunk = entries.slice(i, i + opts.leafSize);
      const leaf = directory(chunk);
      rootEntries.push({ tileId: chunk[0]!.tileId, offset: at, length: leaf.length, runLength: 0 });
      parts.push(leaf);
      at += leaf.length;
    }
    root = directory(rootEntries);
    leaves = Buffer.concat(parts);
  } else {
    root = directory(entries);
  }
  const metadata = gzipSync(Buffer.from('{}'));
  const h = Buffer.alloc(127);
  h.write('PMTiles', 0, 'latin1');
  h[7] = 3;
  const rootOffset = 127;
  const metaOffset = rootOffset + root.length;
  const leafOffset = metaOffset + metadata.length;
  const dataOffset = leafOffset + leaves.length;
  const put = (at: number, v: number) => h.writeBigUInt64LE(BigInt(v), at);
  put(8, rootOffset);
  put(16, root.length);
  put(24, metaOffset);
  put(32, metadata.length);
  put(40, leafOffset);
  put(48, leaves.length);
  put(56, dataOffset);
  put(64, data.length);
  put(72, entries.length);
  put(80, entries.length);
  put(88, entries.length);
  h[96] = 1; // clustered
  h[97] = 2; // internal compression: gzip
  h[98] = 1; // tile compression: none
  h[99] = 2; // tile type: png
  h[100] = Math.min(...tiles.map((t) => t.z));
  h[101] = Math.max(...tiles.map((t) => t.z));
  const [w, s, e, n] = opts.bounds;
  h.writeInt32LE(Math.round(w * 1e7), 102);
  h.writeInt32LE(Math.round(s * 1e7), 106);
  h.writeInt32LE(Math.round(e * 1e7), 110);
  h.writeInt32LE(Math.round(n * 1e7), 114);
  h[118] = h[100]!;
  h.writeInt32LE(Math.round(((w + e) / 2) * 1e7), 119);
  h.writeInt32LE(Math.round(((s + n) / 2) * 1e7), 123);
  writeFileSync(path, Buffer.concat([h, root, metadata, leaves, data]));
}
