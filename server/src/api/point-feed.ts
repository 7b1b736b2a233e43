/**
 * The map's point feed (GET /api/v1/walls/points.bin, issue 15): every camera
 * point of the caller's jurisdiction (and filter) as columns of typed arrays,
 * 14 bytes a point, so 200,000 points are 2.8 MB that the browser reads with
 * no parse at all (GeoJSON: ~25 MB of text to build, send and parse).
 *
 * Shared by the server (encode) and the client (decode); pure, no imports.
 *
 * Layout, little-endian:
 *   u32 magic 'PTF1' | u32 header length H | H bytes UTF-8 JSON header
 *   (`{ count, networks, bbox }`) | zero padding to a multiple of 4 |
 *   u32 id[count] | i32 lon[count] | i32 lat[count] (both in 1e-6 degrees,
 *   ~0.1 m) | u8 network[count] (index into `networks`) | u8 status[count]
 *   (STATUS_CODES).
 */

export const POINT_FEED_MAGIC = 0x31465450; // 'PTF1' read as a little-endian u32
export const POINT_FEED_MIME = 'application/vnd.ccc.points';

/** Status codes of the feed (the same as the GeoJSON source's `s`): online 0, degraded 1, offline 2, unknown 3. */
export const STATUS_CODES = { online: 0, degraded: 1, offline: 2, unknown: 3 } as const;
export type FeedStatus = keyof typeof STATUS_CODES;
export const STATUS_OF_CODE: readonly FeedStatus[] = ['online', 'degraded', 'offline', 'unknown'];

export interface PointFeedHeader {
  count: number;
  /** Network ids in the order the `network` column indexes them. */
  networks: string[];
  /** [west, south, east, north] of every point, or null when there is none. */
  bbox: [number, number, number, number] | null;
}

/** Columns of a decoded feed: views over the one buffer, nothing copied. */
export interface PointColumns {
  count: number;
  networks: readonly string[];
  bbox: [number, number, number, number] | null;
  ids: Uint32Array;
  /** 1e-6 degrees. */
  lon: Int32Array;
  lat: Int32Array;
  network: Uint8Array;
  /** STATUS_CODES; the client patches it in place with status deltas. */
  status: Uint8Array;
}

const MICRO = 1e6;

/** The status code of a stored status (anything unknown to the feed is 'unknown'). */
export function statusCode(status: string): number {
  return (STATUS_CODES as Record<string, number>)[status] ?? STATUS_CODES.unknown;
}

/**
 * Encodes rows `[id, lon, lat, networkId, status]` (WGS-84 degrees). Ids must
 * fit a u32 (SQLite row ids of a registry do); 256 networks at most.
 */
export function encodePointFeed(rows: readonly (readonly unknown[])[]): Uint8Array {
  const count = rows.length;
  const networks: string[] = [];
  const netIndex = new Map<string, number>();
  const ids = new Uint32Array(count);
  const lon = new Int32Array(count);
  const lat = new Int32Array(count);
  const network = new Uint8Array(count);
  const status = new Uint8Array(count);
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  for (let i = 0; i < count; i++) {
    const row = rows[i]!;
    const id = Number(row[0]);
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff)
      throw new RangeError(`point id ${id} does not fit the feed`);
    const x = Number(row[1]);
    const y = Number(row[2]);
    const net = String(row[3]);
    let k = netIndex.get(net);
    if (k === undefined) {
      k = networks.length;
      if (k > 255) throw new RangeError('more than 256 networks');
      networks.push(net);
      netIndex.set(net, k);
    }
    ids[i] = id;
    lon[i] = Math.round(x * MICRO);
    lat[i] = Math.round(y * MICRO);
    network[i] = k;
    status[i] = statusCode(String(row[4]));
    if (x < w) w = x;
    if (x > e) e = x;
    if (y < s) s = y;
    if (y > n) n = y;
  }
  const header: PointFeedHeader = { count, networks, bbox: count ? [w, s, e, n] : null };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = align4(8 + json.length);
  const out = new Uint8Array(start + count * 14);
  const view = new DataView(out.buffer);
  view.setUint32(0, POINT_FEED_MAGIC, true);
  view.setUint32(4, json.length, true);
  out.set(json, 8);
  let at = start;
  // Typed arrays are in the machine's byte order; every platform this runs on is little-endian.
  for (const column of [ids, lon, lat, network, status]) {
    out.set(new Uint8Array(column.buffer, column.byteOffset, column.byteLength), at);
    at += column.byteLength;
  }
  return out;
}

/** Where an encoded feed's columns begin: after the magic, the header's length, the header and its padding. */
function columnsStart(view: DataView): number {
  return align4(8 + view.getUint32(4, true));
}

/**
 * A copy of an encoded feed with its status column replaced by `codes` (STATUS_CODES, one a point, in the
 * feed's order); null when `codes` does not hold one a point. The status column is the feed's last.
 */
export function withStatuses(feed: Uint8Array, codes: Uint8Array): Uint8Array | null {
  const start = columnsStart(new DataView(feed.buffer, feed.byteOffset, feed.byteLength));
  if (start + codes.length * 14 !== feed.byteLength) return null;
  const out = feed.slice();
  out.set(codes, out.length - codes.length);
  return out;
}

/** Reads a feed; throws on anything that is not one. The columns are views over `buffer`. */
export function decodePointFeed(buffer: ArrayBuffer): PointColumns {
  if (buffer.byteLength < 8) throw new Error('point feed: too short');
  const view = new DataView(buffer);
  if (view.getUint32(0, true) !== POINT_FEED_MAGIC) throw new Error('point feed: not a point feed');
  const length = view.getUint32(4, true);
  if (8 + length > buffer.byteLength) throw new Error('point feed: header cut short');
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, length))) as PointFeedHeader;
  const count = header.count;
  const start = columnsStart(view);
  if (!Number.isInteger(count) || count < 0 || start + count * 14 !== buffer.byteLength)
    throw new Error('point feed: length does not match its count');
  let at = start;
  const take = <T>(make: (b: ArrayBuffer, offset: number, n: number) => T, bytes: number): T => {
    const column = make(buffer, at, count);
    at += bytes * count;
    return column;
  };
  return {
    count,
    networks: header.networks,
    bbox: header.bbox,
    ids: take((b, o, n) => new Uint32Array(b, o, n), 4),
    lon: take((b, o, n) => new Int32Array(b, o, n), 4),
    lat: take((b, o, n) => new Int32Array(b, o, n), 4),
    network: take((b, o, n) => new Uint8Array(b, o, n), 1),
    status: take((b, o, n) => new Uint8Array(b, o, n), 1),
  };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
