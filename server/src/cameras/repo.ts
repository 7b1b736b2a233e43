import type { CameraStatus, CoordSystem } from '../api/contract.ts';
import type { SqlValue, Store } from '../db/store.ts';
import { pathRange, type Scope } from '../org/scope.ts';

/** 点位 — one camera at one place, as stored (credentials sealed). */
export interface CameraPoint {
  id: number;
  code: string | null;
  name: string;
  networkId: string;
  orgUnitId: number;
  orgPath: string;
  lon: number;
  lat: number;
  coordSource: CoordSystem;
  address: string | null;
  direction: number | null;
  fov: number | null;
  onvifUrl: string | null;
  mainStreamUri: string | null;
  subStreamUri: string | null;
  credentialsSealed: string | null;
  ptz: boolean;
  status: CameraStatus;
  statusReason: string | null;
  lastSeenAt: string | null;
  lastCheckedAt: string | null;
  /** Identity read from the device over ONVIF, when known (registration by discovery). */
  manufacturer: string | null;
  model: string | null;
  serial: string | null;
  mac: string | null;
  /** WS-Discovery endpoint reference (urn:uuid:…): the device's own identity, first in dedup. */
  deviceEndpoint: string | null;
  /** RTSP towards the camera: 'auto' tries TCP, then UDP (issue 12). */
  rtspTransport: RtspTransportMode;
  /** The transport that delivered video last (relay or health check); tried first in 'auto'. */
  rtspTransportSeen: 'tcp' | 'udp' | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export type RtspTransportMode = 'auto' | 'tcp' | 'udp';

export interface DeviceIdentity {
  manufacturer: string | null;
  model: string | null;
  serial: string | null;
  mac: string | null;
  endpoint?: string | null;
}

/**
 * Serials that name no device: factory placeholders and blanks that NVR-fronting proxies and cheap
 * cameras report (issue 12: two devices with `00000000` were taken for one).
 */
export function isPlaceholderSerial(serial: string): boolean {
  const s = serial.trim().toLowerCase();
  return (
    s.length < 4 ||
    /^(.)\1*$/.test(s) ||
    /^(0123456789?|123456789?0?|unknown|none|n\/?a|null|default|serial(number)?|sn|xxx+)$/.test(s)
  );
}

/** What a health check needs of a point: no scope, internal use only. */
export interface HealthTarget {
  id: number;
  orgPath: string;
  onvifUrl: string | null;
  mainStreamUri: string | null;
  subStreamUri: string | null;
  credentialsSealed: string | null;
  status: CameraStatus;
  rtspTransport: RtspTransportMode;
  rtspTransportSeen: 'tcp' | 'udp' | null;
}

/** Fields a caller sets; the rest are managed by the repository or health checks. */
export type CameraFields = Omit<
  CameraPoint,
  | 'id'
  | 'status'
  | 'statusReason'
  | 'lastSeenAt'
  | 'lastCheckedAt'
  | 'manufacturer'
  | 'model'
  | 'serial'
  | 'mac'
  | 'deviceEndpoint'
  | 'rtspTransport'
  | 'rtspTransportSeen'
  | 'createdAt'
  | 'updatedAt'
  | 'version'
> & { /** Default 'auto'. */ rtspTransport?: RtspTransportMode };

export interface CameraFilter {
  q?: string;
  orgPath?: string;
  networkId?: string;
  status?: CameraStatus;
  ptz?: boolean;
  bbox?: [number, number, number, number];
}

export interface CameraRepo {
  /** Points in `scope` matching `filter`, ascending id, after `afterId`; the total when asked. */
  search(
    scope: Scope,
    filter: CameraFilter,
    afterId: number,
    limit: number,
    withTotal?: boolean,
  ): Promise<{ rows: CameraPoint[]; total?: number }>;
  count(scope: Scope, filter: CameraFilter): Promise<number>;
  byId(scope: Scope, id: number): Promise<CameraPoint | undefined>;
  /** Whether a code is taken by any point, in or out of scope (codes are unique county-wide). */
  codeTaken(code: string, exceptId?: number): Promise<boolean>;
  existingCodes(codes: string[]): Promise<Set<string>>;
  insert(fields: CameraFields): Promise<CameraPoint>;
  /** Inserts all or none. */
  insertMany(rows: CameraFields[]): Promise<number>;
  /** Updates when `version` still matches; returns undefined on a lost race. */
  update(id: number, version: number, fields: CameraFields): Promise<CameraPoint | undefined>;
  delete(id: number): Promise<boolean>;
  /** Per org unit (not rolled up) totals and online counts within scope. */
  countsByOrg(scope: Scope): Promise<{ orgUnitId: number; total: number; online: number }[]>;
  countsByNetwork(scope: Scope): Promise<{ networkId: string; total: number; online: number }[]>;
  setDevice(id: number, device: DeviceIdentity): Promise<void>;
  /**
   * A registered point that is the same device, unscoped. Identity in order (issue 12): the WS-Discovery
   * endpoint reference; else the MAC; else the serial together with make and model (a serial alone never
   * makes two devices one, placeholder serials never count); else the same ONVIF address. Known and
   * different endpoint references (or MACs) mean different devices, whatever else they share.
   */
  findSameDevice(d: {
    endpoint?: string | null;
    serial: string | null;
    mac: string | null;
    manufacturer?: string | null;
    model?: string | null;
    onvifUrl: string | null;
  }): Promise<number | undefined>;
  /** The transport that delivered video (null: forget it, e.g. after the address changed). */
  setTransportSeen(id: number, transport: 'tcp' | 'udp' | null): Promise<void>;
  /**
   * Chunked import (issue 12): rows written under an import id, visible at once, removable together. `writer`
   * names the instance (logs); `beatMs` (epoch ms) starts its heartbeat.
   */
  beginImport(rows: number, createdBy: number | null, at: string, writer: string, beatMs: number): Promise<number>;
  /**
   * Writes rows of an import that is still being written, renewing its heartbeat in the same transaction.
   * Throws ImportAbandonedError, writing nothing, when the import was given up meanwhile (reaped as abandoned).
   */
  insertImportChunk(importId: number, rows: CameraFields[], beatMs: number): Promise<number>;
  /** Deletes up to `limit` rows of an import; returns how many (repeat until 0). */
  deleteImportChunk(importId: number, limit: number): Promise<number>;
  /** Ends an import still being written; false when it was not (another instance gave it up first). */
  finishImport(importId: number, status: 'done' | 'failed', at: string): Promise<boolean>;
  /**
   * Gives up, as failed, the imports still being written whose heartbeat is older than `staleBeforeMs` (null:
   * every one: a single process starting, no writer can be alive); returns their ids. Each is claimed by one
   * statement: of two instances reaping at once, one gets it, and a writer mid-chunk holds it until its commit.
   */
  abandonImports(staleBeforeMs: number | null, at: string): Promise<number[]>;
  /** Failed imports that still have rows (their clean-up was cut short). */
  failedImportsWithRows(): Promise<number[]>;
  healthTargets(afterId: number, limit: number): Promise<HealthTarget[]>;
  /** Records a health result; returns the previous status and the (new) last-seen time. */
  setStatus(
    id: number,
    status: CameraStatus,
    reason: string | null,
    checkedAt: string,
    seen: boolean,
  ): Promise<{ prev: CameraStatus; lastSeenAt: string | null } | undefined>;
  /** Status counts in scope, per network and per org unit (not rolled up). */
  statusCounts(scope: Scope): Promise<{ networkId: string; orgUnitId: number; status: CameraStatus; n: number }[]>;
}

interface CameraRow {
  id: number;
  code: string | null;
  name: string;
  network_id: string;
  org_unit_id: number;
  org_path: string;
  lon: number;
  lat: number;
  coord_source: CoordSystem;
  address: string | null;
  direction: number | null;
  fov: number | null;
  onvif_url: string | null;
  main_stream_uri: string | null;
  sub_stream_uri: string | null;
  credentials_enc: string | null;
  ptz: number | boolean;
  status: CameraStatus;
  status_reason: string | null;
  last_seen_at: string | null;
  last_checked_at: string | null;
  manufacturer: string | null;
  model: string | null;
  serial: string | null;
  mac: string | null;
  device_endpoint: string | null;
  rtsp_transport: RtspTransportMode;
  rtsp_transport_seen: 'tcp' | 'udp' | null;
  created_at: string;
  updated_at: string;
  version: number;
}

const COLUMNS =
  'id, code, name, network_id, org_unit_id, org_path, lon, lat, coord_source, address, direction, fov, onvif_url, main_stream_uri, sub_stream_uri, credentials_enc, ptz, status, status_reason, last_seen_at, last_checked_at, manufacturer, model, serial, mac, device_endpoint, rtsp_transport, rtsp_transport_seen, created_at, updated_at, version';

function fromRow(r: CameraRow): CameraPoint {
  return {
    id: r.id,
    code: r.code,
    name: r.name,
    networkId: r.network_id,
    orgUnitId: r.org_unit_id,
    orgPath: r.org_path,
    lon: r.lon,
    lat: r.lat,
    coordSource: r.coord_source,
    address: r.address,
    direction: r.direction,
    fov: r.fov,
    onvifUrl: r.onvif_url,
    mainStreamUri: r.main_stream_uri,
    subStreamUri: r.sub_stream_uri,
    credentialsSealed: r.credentials_enc,
    ptz: Number(r.ptz) === 1,
    status: r.status,
    statusReason: r.status_reason,
    lastSeenAt: r.last_seen_at,
    lastCheckedAt: r.last_checked_at,
    manufacturer: r.manufacturer,
    model: r.model,
    serial: r.serial,
    mac: r.mac,
    deviceEndpoint: r.device_endpoint,
    rtspTransport: r.rtsp_transport,
    rtspTransportSeen: r.rtsp_transport_seen,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    version: r.version,
  };
}

/** Lower-cased name, code and address: what the text search matches. */
export function searchText(f: Pick<CameraFields, 'name' | 'code' | 'address'>): string {
  return [f.name, f.code ?? '', f.address ?? ''].join('\u0001').toLowerCase();
}

function where(
  db: Pick<Store, 'containsSql' | 'dialect'>,
  scope: Scope,
  f: CameraFilter,
  wholeRegistry: (path: string) => boolean,
  keepRange = false,
): { sql: string; params: SqlValue[] } {
  const clauses: string[] = [];
  const params: SqlValue[] = [];
  // The scope is always applied; an org filter can only narrow it (checked by
  // the caller). When it spans the whole registry the range is left out: it
  // selects every row, and leaving it in steers the planner to the org_path
  // index plus a sort instead of a scan in id order.
  const path = f.orgPath && f.orgPath.startsWith(scope.path) ? f.orgPath : scope.path;
  if (keepRange || !wholeRegistry(path)) {
    const [lo, hi] = pathRange(path);
    clauses.push('org_path >= ? AND org_path < ?');
    params.push(lo, hi);
  }
  if (f.q) {
    const term = f.q.toLowerCase();
    // On PostgreSQL a term of two or more characters first selects, through the index of character pairs
    // (migration 19), the rows whose search text holds each of its pairs; the substring test confirms them.
    if (db.dialect === 'postgres' && [...term].length >= 2) {
      clauses.push('search_pairs @> ccc_char_pairs(?)');
      params.push(term);
    }
    // A plain substring test: no wildcard characters to escape, and faster than LIKE.
    clauses.push(db.containsSql('search_text'));
    params.push(term);
  }
  // For text search these filters are written so that no index can serve
  // them (`x || ''`, `x + 0`, valid in SQLite and PostgreSQL alike): the
  // planner then scans the covering (org_path, search_text, …) index instead
  // of walking a barely selective status or network index row by row.
  if (f.networkId) {
    clauses.push(keepRange ? "network_id || '' = ?" : 'network_id = ?');
    params.push(f.networkId);
  }
  if (f.status) {
    clauses.push(keepRange ? "status || '' = ?" : 'status = ?');
    params.push(f.status);
  }
  if (f.ptz !== undefined) {
    clauses.push(keepRange ? 'ptz + 0 = ?' : 'ptz = ?');
    params.push(f.ptz ? 1 : 0);
  }
  if (f.bbox) {
    const [minLon, minLat, maxLon, maxLat] = f.bbox;
    clauses.push('lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?');
    params.push(minLat, maxLat, minLon, maxLon);
  }
  return { sql: clauses.length ? clauses.join(' AND ') : '1 = 1', params };
}

/**
 * The registry's filter as a WHERE clause over camera_points, the scope always
 * in it: for other modules' bulk reads of the same selection (the wall's point
 * GeoJSON that the registry map draws).
 */
export function cameraFilterSql(
  db: Pick<Store, 'containsSql' | 'dialect'>,
  scope: Scope,
  f: CameraFilter,
): { sql: string; params: SqlValue[] } {
  return where(db, scope, f, () => false, true);
}

function values(f: CameraFields): SqlValue[] {
  return [
    f.code,
    f.name,
    f.networkId,
    f.orgUnitId,
    f.orgPath,
    f.lon,
    f.lat,
    f.coordSource,
    f.address,
    f.direction,
    f.fov,
    f.onvifUrl,
    f.mainStreamUri,
    f.subStreamUri,
    f.credentialsSealed,
    f.ptz ? 1 : 0,
    f.rtspTransport ?? 'auto',
    searchText(f),
  ];
}

const INSERT = `INSERT INTO camera_points (code, name, network_id, org_unit_id, org_path, lon, lat, coord_source, address, direction, fov, onvif_url, main_stream_uri, sub_stream_uri, credentials_enc, ptz, rtsp_transport, search_text, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
/**
 * Imported and seeded rows go in multi-row INSERTs of up to this many rows (21 parameters each, well inside both engines'
 * limits): one statement per batch instead of one per row, which on PostgreSQL is one network round trip per
 * row (issue 13: a 50,000-row import spent 25 of its 37 s in 50,000 round trips).
 */
const IMPORT_BATCH = 256;
/** An import chunk refused because the import is no longer being written (it was given up as abandoned). */
export class ImportAbandonedError extends Error {
  readonly importId: number;
  constructor(importId: number) {
    super(`import ${importId} was given up as abandoned`);
    this.importId = importId;
  }
}

/** The columns of an imported or seeded row, in `values()` order, then created_at, updated_at, import_id. */
const IMPORTED_COLUMNS =
  'code, name, network_id, org_unit_id, org_path, lon, lat, coord_source, address, direction, fov, onvif_url, main_stream_uri, sub_stream_uri, credentials_enc, ptz, rtsp_transport, search_text, created_at, updated_at, import_id';
/** PostgreSQL: rows a statement takes as column arrays (insertBatched). */
const UNNEST_BATCH = 2_000;
/** The column types of an imported row in INSERT_UNNEST, in `values()` order, then created_at, updated_at, import_id. */
const IMPORT_COLUMN_TYPES = [
  'text', // code
  'text', // name
  'text', // network_id
  'bigint', // org_unit_id
  'text', // org_path
  'float8', // lon
  'float8', // lat
  'text', // coord_source
  'text', // address
  'float8', // direction
  'float8', // fov
  'text', // onvif_url
  'text', // main_stream_uri
  'text', // sub_stream_uri
  'text', // credentials_enc
  'bigint', // ptz
  'text', // rtsp_transport
  'text', // search_text
  'text', // created_at
  'text', // updated_at
  'bigint', // import_id
] as const;
const INSERT_UNNEST = `INSERT INTO camera_points (${IMPORTED_COLUMNS})
SELECT * FROM unnest(${IMPORT_COLUMN_TYPES.map((type) => `?::${type}[]`).join(', ')})`;
const importedSql = new Map<number, string>();
/** The INSERT of `rows` rows with their import id (null when seeded); only powers of two up to IMPORT_BATCH are asked for, so a handful of texts. */
function insertImportedSql(rows: number): string {
  let sql = importedSql.get(rows);
  if (sql === undefined) {
    const row = `(${new Array<string>(21).fill('?').join(', ')})`;
    sql = `INSERT INTO camera_points (${IMPORTED_COLUMNS})
VALUES ${new Array<string>(rows).fill(row).join(', ')}`;
    importedSql.set(rows, sql);
  }
  return sql;
}

/**
 * `rootPaths` lists the org paths of tree roots; a scope equal to the only
 * root covers every row.
 */
export function createCameraRepo(store: Store, now: () => Date, rootPaths: () => string[] = () => []): CameraRepo {
  const db = store;
  const wholeRegistry = (path: string) => {
    const roots = rootPaths();
    return roots.length === 1 && roots[0] === path;
  };
  const get = async (id: number) => {
    const r = await db.get<CameraRow>(`SELECT ${COLUMNS} FROM camera_points WHERE id = ?`, [id]);
    return r ? fromRow(r) : undefined;
  };
  /**
   * Rows in multi-row INSERTs: 256-row batches, then at most one each of 128, 64, … 1 (the largest that fits).
   * On PostgreSQL one statement takes up to 2,000 rows as 21 arrays, a column each, unnested into rows: a
   * statement of 5,376 parameters is parsed and bound anew each time (50,000 rows: 4.3 s against 3.1 s).
   */
  const insertBatched = async (rows: CameraFields[], importId: number | null): Promise<number> => {
    const t = now().toISOString();
    if (db.dialect === 'postgres') {
      for (let i = 0; i < rows.length; i += UNNEST_BATCH) {
        const batch = rows.slice(i, i + UNNEST_BATCH).map((r) => [...values(r), t, t, importId]);
        const columns = IMPORT_COLUMN_TYPES.map((_, j) => batch.map((r) => r[j] ?? null));
        await db.run(INSERT_UNNEST, columns as unknown as SqlValue[]);
      }
      return rows.length;
    }
    for (let i = 0; i < rows.length;) {
      let n = IMPORT_BATCH;
      while (n > rows.length - i) n >>= 1;
      const params: SqlValue[] = [];
      for (let k = i; k < i + n; k++) params.push(...values(rows[k]!), t, t, importId);
      await db.run(insertImportedSql(n), params);
      i += n;
    }
    return rows.length;
  };
  const count = async (scope: Scope, filter: CameraFilter) => {
    const w = where(db, scope, filter, wholeRegistry);
    return (await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM camera_points WHERE ${w.sql}`, w.params))?.n ?? 0;
  };
  return {
    async search(scope, filter, afterId, limit, withTotal = false) {
      if (filter.q) {
        const w = where(db, scope, filter, wholeRegistry, true);
        // Text search scans the narrow (org_path, search_text) index once for
        // all matching ids; the page and the total both come from that scan.
        const ids = await db.all<{ id: number }>(`SELECT id FROM camera_points WHERE ${w.sql} ORDER BY id`, w.params);
        const page: number[] = [];
        for (const { id } of ids) {
          if (id <= afterId) continue;
          page.push(id);
          if (page.length >= limit) break;
        }
        const rows = page.length
          ? (
              await db.all<CameraRow>(
                `SELECT ${COLUMNS} FROM camera_points WHERE id IN (${page.map(() => '?').join(',')}) ORDER BY id`,
                page,
              )
            ).map(fromRow)
          : [];
        return withTotal ? { rows, total: ids.length } : { rows };
      }
      const w = where(db, scope, filter, wholeRegistry);
      const rows = (
        await db.all<CameraRow>(`SELECT ${COLUMNS} FROM camera_points WHERE ${w.sql} AND id > ? ORDER BY id LIMIT ?`, [
          ...w.params,
          afterId,
          limit,
        ])
      ).map(fromRow);
      return withTotal ? { rows, total: await count(scope, filter) } : { rows };
    },
    count,
    async byId(scope, id) {
      const [lo, hi] = pathRange(scope.path);
      const r = await db.get<CameraRow>(
        `SELECT ${COLUMNS} FROM camera_points WHERE id = ? AND org_path >= ? AND org_path < ?`,
        [id, lo, hi],
      );
      return r ? fromRow(r) : undefined;
    },
    async codeTaken(code, exceptId) {
      return !!(await db.get('SELECT 1 AS x FROM camera_points WHERE code = ? AND id <> ?', [code, exceptId ?? -1]));
    },
    async existingCodes(codes) {
      const out = new Set<string>();
      for (let i = 0; i < codes.length; i += 500) {
        const chunk = codes.slice(i, i + 500);
        const rows = await db.all<{ code: string }>(
          `SELECT code FROM camera_points WHERE code IN (${chunk.map(() => '?').join(',')})`,
          chunk,
        );
        for (const r of rows) out.add(r.code);
      }
      return out;
    },
    async insert(fields) {
      const t = now().toISOString();
      const created = await get(await db.insert(INSERT, [...values(fields), t, t]));
      if (!created) throw new Error('camera point vanished after insert');
      return created;
    },
    async insertMany(rows) {
      const n = await db.transaction(() => insertBatched(rows, null));
      // Keep planner statistics current after bulk loads.
      if (n >= 1000) await db.exec(db.dialect === 'sqlite' ? 'PRAGMA optimize' : 'ANALYZE camera_points');
      return n;
    },
    async update(id, version, fields) {
      const t = now().toISOString();
      const { changes } = await db.run(
        `UPDATE camera_points SET code = ?, name = ?, network_id = ?, org_unit_id = ?, org_path = ?, lon = ?, lat = ?, coord_source = ?, address = ?, direction = ?, fov = ?, onvif_url = ?, main_stream_uri = ?, sub_stream_uri = ?, credentials_enc = ?, ptz = ?, rtsp_transport = ?, search_text = ?, updated_at = ?, version = version + 1
         WHERE id = ? AND version = ?`,
        [...values(fields), t, id, version],
      );
      return changes === 1 ? await get(id) : undefined;
    },
    async delete(id) {
      return (await db.run('DELETE FROM camera_points WHERE id = ?', [id])).changes === 1;
    },
    async countsByOrg(scope) {
      const [lo, hi] = pathRange(scope.path);
      return db.all<{ orgUnitId: number; total: number; online: number }>(
        `SELECT org_unit_id AS "orgUnitId", COUNT(*) AS total, SUM(CASE WHEN status = 'online' THEN 1 ELSE 0 END) AS online
         FROM camera_points WHERE org_path >= ? AND org_path < ? GROUP BY org_unit_id`,
        [lo, hi],
      );
    },
    async countsByNetwork(scope) {
      const [lo, hi] = pathRange(scope.path);
      return db.all<{ networkId: string; total: number; online: number }>(
        `SELECT network_id AS "networkId", COUNT(*) AS total, SUM(CASE WHEN status = 'online' THEN 1 ELSE 0 END) AS online
         FROM camera_points WHERE org_path >= ? AND org_path < ? GROUP BY network_id`,
        [lo, hi],
      );
    },
    async setDevice(id, d) {
      await db.run(
        'UPDATE camera_points SET manufacturer = ?, model = ?, serial = ?, mac = ?, device_endpoint = ? WHERE id = ?',
        [d.manufacturer, d.model, d.serial, d.mac, d.endpoint ?? null, id],
      );
    },
    async findSameDevice(d) {
      type Known = {
        id: number;
        device_endpoint: string | null;
        mac: string | null;
        manufacturer: string | null;
        model: string | null;
      };
      const cols = 'id, device_endpoint, mac, manufacturer, model';
      // Different known endpoint references (or MACs) are different devices, whatever else they share.
      const differs = (r: Known) =>
        (!!d.endpoint && !!r.device_endpoint && d.endpoint !== r.device_endpoint) ||
        (!!d.mac && !!r.mac && d.mac !== r.mac);
      if (d.endpoint) {
        const r = await db.get<{ id: number }>('SELECT id FROM camera_points WHERE device_endpoint = ? LIMIT 1', [
          d.endpoint,
        ]);
        if (r) return r.id;
      }
      if (d.mac) {
        const r = (await db.all<Known>(`SELECT ${cols} FROM camera_points WHERE mac = ? LIMIT 20`, [d.mac])).find(
          (x) => !differs(x),
        );
        if (r) return r.id;
      }
      if (d.serial && !isPlaceholderSerial(d.serial) && d.manufacturer && d.model) {
        const same = (a: string | null, b: string) => (a ?? '').trim().toLowerCase() === b.trim().toLowerCase();
        const r = (await db.all<Known>(`SELECT ${cols} FROM camera_points WHERE serial = ? LIMIT 20`, [d.serial])).find(
          (x) => same(x.manufacturer, d.manufacturer!) && same(x.model, d.model!) && !differs(x),
        );
        if (r) return r.id;
      }
      if (d.onvifUrl) {
        const r = (
          await db.all<Known>(`SELECT ${cols} FROM camera_points WHERE onvif_url = ? LIMIT 20`, [d.onvifUrl])
        ).find((x) => !differs(x));
        if (r) return r.id;
      }
      return undefined;
    },
    async setTransportSeen(id, transport) {
      await db.run('UPDATE camera_points SET rtsp_transport_seen = ? WHERE id = ?', [transport, id]);
    },
    beginImport(rows, createdBy, at, writer, beatMs) {
      return db.insert(
        "INSERT INTO camera_imports (status, created_by, rows, started_at, writer, heartbeat_at) VALUES ('writing', ?, ?, ?, ?, ?)",
        [createdBy, rows, at, writer, beatMs],
      );
    },
    insertImportChunk(importId, rows, beatMs) {
      return db.transaction(async () => {
        const beat = await db.run("UPDATE camera_imports SET heartbeat_at = ? WHERE id = ? AND status = 'writing'", [
          beatMs,
          importId,
        ]);
        if (beat.changes !== 1) throw new ImportAbandonedError(importId);
        return insertBatched(rows, importId);
      });
    },
    async deleteImportChunk(importId, limit) {
      return (
        await db.run(
          'DELETE FROM camera_points WHERE id IN (SELECT id FROM camera_points WHERE import_id = ? LIMIT ?)',
          [importId, limit],
        )
      ).changes;
    },
    async finishImport(importId, status, at) {
      const r = await db.run(
        "UPDATE camera_imports SET status = ?, finished_at = ? WHERE id = ? AND status = 'writing'",
        [status, at, importId],
      );
      return r.changes === 1;
    },
    async abandonImports(staleBeforeMs, at) {
      // null: every import being written (a heartbeat is epoch ms, always below the largest safe integer).
      const before = staleBeforeMs ?? Number.MAX_SAFE_INTEGER;
      const stale = "status = 'writing' AND (heartbeat_at IS NULL OR heartbeat_at < ?)";
      const ids = (await db.all<{ id: number }>(`SELECT id FROM camera_imports WHERE ${stale}`, [before])).map((r) =>
        Number(r.id),
      );
      const taken: number[] = [];
      for (const id of ids) {
        // The staleness is checked again in the claim itself: a writer's chunk may have beaten since the read.
        const r = await db.run(
          `UPDATE camera_imports SET status = 'failed', finished_at = ? WHERE id = ? AND ${stale}`,
          [at, id, before],
        );
        if (r.changes === 1) taken.push(id);
      }
      return taken;
    },
    async failedImportsWithRows() {
      return (
        await db.all<{ id: number }>(
          "SELECT i.id FROM camera_imports i WHERE i.status = 'failed' AND EXISTS (SELECT 1 FROM camera_points p WHERE p.import_id = i.id)",
        )
      ).map((r) => Number(r.id));
    },
    async healthTargets(afterId, limit) {
      return (
        await db.all<{
          id: number;
          org_path: string;
          onvif_url: string | null;
          main_stream_uri: string | null;
          sub_stream_uri: string | null;
          credentials_enc: string | null;
          status: CameraStatus;
          rtsp_transport: RtspTransportMode;
          rtsp_transport_seen: 'tcp' | 'udp' | null;
        }>(
          'SELECT id, org_path, onvif_url, main_stream_uri, sub_stream_uri, credentials_enc, status, rtsp_transport, rtsp_transport_seen FROM camera_points WHERE id > ? ORDER BY id LIMIT ?',
          [afterId, limit],
        )
      ).map((r) => ({
        id: r.id,
        orgPath: r.org_path,
        onvifUrl: r.onvif_url,
        mainStreamUri: r.main_stream_uri,
        subStreamUri: r.sub_stream_uri,
        credentialsSealed: r.credentials_enc,
        status: r.status,
        rtspTransport: r.rtsp_transport,
        rtspTransportSeen: r.rtsp_transport_seen,
      }));
    },
    setStatus(id, status, reason, checkedAt, seen) {
      return db.transaction(async () => {
        const row = await db.get<{ status: CameraStatus; last_seen_at: string | null }>(
          'SELECT status, last_seen_at FROM camera_points WHERE id = ?',
          [id],
        );
        if (row === undefined) return undefined;
        await db.run(
          `UPDATE camera_points SET status = ?, status_reason = ?, last_checked_at = ?${seen ? ', last_seen_at = ?' : ''} WHERE id = ?`,
          seen ? [status, reason, checkedAt, checkedAt, id] : [status, reason, checkedAt, id],
        );
        if (row.status !== status) {
          await db.run(
            'INSERT INTO camera_status_events (camera_id, at, from_status, to_status, reason) VALUES (?, ?, ?, ?, ?)',
            [id, checkedAt, row.status, status, reason],
          );
        }
        return { prev: row.status, lastSeenAt: seen ? checkedAt : row.last_seen_at };
      });
    },
    async statusCounts(scope) {
      const [lo, hi] = pathRange(scope.path);
      return db.all<{ networkId: string; orgUnitId: number; status: CameraStatus; n: number }>(
        `SELECT network_id AS "networkId", org_unit_id AS "orgUnitId", status, COUNT(*) AS n FROM camera_points
         WHERE org_path >= ? AND org_path < ? GROUP BY network_id, org_unit_id, status`,
        [lo, hi],
      );
    },
  };
}
