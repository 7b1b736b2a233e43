/**
 * PMTiles version 3 (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md):
 * one file, a 127-byte header, a root directory, optional leaf directories,
 * tiles addressed by a Hilbert tile id. Read with positional reads, nothing
 * loaded whole; directories cached. A format library: no application imports.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { TileFormat, TilePackage, TilePackageInfo } from './package.ts';

const HEADER_BYTES = 127;
const COMPRESSION = { none: 1, gzip: 2 } as const;
const TILE_TYPES: Record<number, TileFormat> = { 1: 'pbf', 2: 'png', 3: 'jpg', 4: 'webp' };

export interface PmtilesHeader {
  rootOffset: number;
  rootLength: number;
  leafOffset: number;
  tileDataOffset: number;
  internalCompression: number;
  tileCompression: number;
  tileType: number;
  minZoom: number;
  maxZoom: number;
  bounds: [number, number, number, number];
}

export interface DirEntry {
  tileId: number;
  offset: number;
  length: number;
  /** 0: the entry points at a leaf directory. */
  runLength: number;
}

function u64(b: Buffer, at: number): number {
  return Number(b.readBigUInt64LE(at));
}

export function parseHeader(b: Buffer): PmtilesHeader {
  if (b.length < HEADER_BYTES || b.toString('latin1', 0, 7) !== 'PMTiles')
    throw new Error('not a PMTiles file (no PMTiles magic)');
  if (b[7] !== 3) throw new Error(`PMTiles version ${b[7]} is not supported (version 3 is)`);
  const e7 = (at: number) => b.readInt32LE(at) / 1e7;
  return {
    rootOffset: u64(b, 8),
    rootLength: u64(b, 16),
    leafOffset: u64(b, 40),
    tileDataOffset: u64(b, 56),
    internalCompression: b[97]!,
    tileCompression: b[98]!,
    tileType: b[99]!,
    minZoom: b[100]!,
    maxZoom: b[101]!,
    bounds: [e7(102), e7(106), e7(110), e7(114)],
  };
}

function decompress(data: Buffer, compression: number): Buffer {
  if (compression === COMPRESSION.none || compression === 0) return data;
  if (compression === COMPRESSION.gzip) return gunzipSync(data);
  throw new Error(`PMTiles compression ${compression} is not supported (none and gzip are)`);
}

/** A directory: varint count, then tile ids (deltas), run lengths, lengths, offsets (0: right after the previous). */
export function parseDirectory(data: Buffer): DirEntry[] {
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 1;
    for (;;) {
      if (pos >= data.length) throw new Error('PMTiles directory ends inside a varint');
      const byte = data[pos++]!;
      value += (byte & 0x7f) * shift;
      if (byte < 0x80) return value;
      shift *= 128;
    }
  };
  const n = varint();
  const entries: DirEntry[] = Array.from({ length: n }, () => ({ tileId: 0, offset: 0, length: 0, runLength: 0 }));
  let last = 0;
  for (const e of entries) {
    last += varint();
    e.tileId = last;
  }
  for (const e of entries) e.runLength = varint();
  for (const e of entries) e.length = varint();
  for (const [i, e] of entries.entries()) {
    const v = varint();
    const prev = entries[i - 1];
    e.offset = v === 0 && prev ? prev.offset + prev.length : v - 1;
  }
  return entries;
}

/** Position of (x, y) along the Hilbert curve of a 2^z × 2^z grid. */
function hilbert(z: number, x: number, y: number): number {
  const n = 2 ** z;
  let d = 0;
  for (let s = n / 2; s >= 1; s /= 2) {
    const rx = (x & s) > 0 ? 1 : 0;
    const ry = (y & s) > 0 ? 1 : 0;
    d += s * s * ((3 * rx) ^ ry);
    if (ry === 0) {
      if (rx === 1) {
        x = s - 1 - x;
        y = s - 1 - y;
      }
      [x, y] = [y, x];
    }
  }
  return d;
}

/** The spec's tile id: every tile of lower zooms first, then the Hilbert index. */
export function tileId(z: number, x: number, y: number): number {
  return (4 ** z - 1) / 3 + hilbert(z, x, y);
}

function findEntry(entries: readonly DirEntry[], id: number): DirEntry | null {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = entries[mid]!.tileId - id;
    if (c === 0) return entries[mid]!;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  // The last entry before the id: a run of tiles, or a leaf directory covering it.
  const e = hi >= 0 ? entries[hi]! : null;
  if (!e) return null;
  if (e.runLength === 0) return e;
  return id - e.tileId < e.runLength ? e : null;
}

export async function openPmtiles(path: string): Promise<TilePackage> {
  const fh: FileHandle = await open(path, 'r');
  const read = async (offset: number, length: number): Promise<Buffer> => {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    if (bytesRead !== length) throw new Error(`PMTiles: short read at ${offset} (${bytesRead} of ${length} bytes)`);
    return buf;
  };
  try {
    const header = parseHeader(await read(0, HEADER_BYTES));
    const format = TILE_TYPES[header.tileType];
    if (!format) throw new Error(`PMTiles tile type ${header.tileType} is not supported (mvt, png, jpeg, webp are)`);
    const root = parseDirectory(
      decompress(await read(header.rootOffset, header.rootLength), header.internalCompression),
    );
    const leaves = new Map<number, DirEntry[]>();
    const leaf = async (offset: number, length: number): Promise<DirEntry[]> => {
      let dir = leaves.get(offset);
      if (!dir) {
        dir = parseDirectory(decompress(await read(header.leafOffset + offset, length), header.internalCompression));
        if (leaves.size > 256) leaves.delete(leaves.keys().next().value!);
        leaves.set(offset, dir);
      }
      return dir;
    };
    const info: TilePackageInfo = {
      format,
      minzoom: header.minZoom,
      maxzoom: header.maxZoom,
      bounds: header.bounds,
      attribution: '',
      name: '',
      gzip: header.tileCompression === COMPRESSION.gzip,
    };
    return {
      info,
      async tile(z, x, y) {
        const id = tileId(z, x, y);
        let dir = root;
        // The spec allows at most three levels of leaves below the root.
        for (let depth = 0; depth < 4; depth++) {
          const e = findEntry(dir, id);
          if (!e) return null;
          if (e.runLength > 0) {
            const data = await read(header.tileDataOffset + e.offset, e.length);
            return { data, gzip: header.tileCompression === COMPRESSION.gzip };
          }
          dir = await leaf(e.offset, e.length);
        }
        return null;
      },
      close: () => void fh.close().catch(() => undefined),
    };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
