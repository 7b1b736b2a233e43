import { createSerialQueue } from '../db/serial.ts';
import type {
  AlertHistoryEntry,
  AlertLevel,
  AlertSourceKind,
  AlertStatus,
  AlertType,
  CoordSystem,
} from '../api/contract.ts';
import { createCounters } from '../db/counters.ts';
import type { SqlValue, Store } from '../db/store.ts';
import { pathRange, type Scope } from '../org/scope.ts';

/** 预警 — an alert as stored. */
export interface Alert {
  id: number;
  seq: number;
  type: AlertType;
  level: AlertLevel;
  lon: number;
  lat: number;
  coordSource: CoordSystem;
  orgUnitId: number;
  orgPath: string;
  sourceKind: AlertSourceKind;
  sourceId: string;
  cameraId: number | null;
  linkedCameraIds: number[];
  title: string;
  description: string | null;
  status: AlertStatus;
  autoClosed: boolean;
  count: number;
  firstAt: string;
  lastAt: string;
  createdAt: string;
  updatedAt: string;
  /** The closed (or false, or dispatched) alert at the same place this one repeats (migration 11). */
  previousAlertId: number | null;
  /** Whether a snapshot of it is stored (read with the row: a list needs no query per alert). */
  hasSnapshot: boolean;
}

export type NewAlert = Omit<
  Alert,
  'id' | 'seq' | 'status' | 'autoClosed' | 'count' | 'createdAt' | 'updatedAt' | 'hasSnapshot'
>;

/** 报警源 — a device (alarm column, AI box, other system) that posts alerts with its own key. */
export interface AlertSource {
  id: number;
  name: string;
  keyHash: string;
  orgUnitId: number;
  orgPath: string;
  rateLimitPerMinute: number;
  createdBy: number | null;
  createdAt: string;
}

interface AlertRow {
  id: number;
  seq: number;
  type: AlertType;
  level: AlertLevel;
  lon: number;
  lat: number;
  coord_source: CoordSystem;
  org_unit_id: number;
  org_path: string;
  source_kind: AlertSourceKind;
  source_id: string;
  camera_id: number | null;
  linked_camera_ids: string;
  title: string;
  description: string | null;
  status: AlertStatus;
  auto_closed: number;
  count: number;
  first_at: string;
  last_at: string;
  created_at: string;
  updated_at: string;
  previous_alert_id: number | null;
  has_snapshot: number | boolean;
}

const fromRow = (r: AlertRow): Alert => ({
  id: r.id,
  seq: r.seq,
  type: r.type,
  level: r.level,
  lon: r.lon,
  lat: r.lat,
  coordSource: r.coord_source,
  orgUnitId: r.org_unit_id,
  orgPath: r.org_path,
  sourceKind: r.source_kind,
  sourceId: r.source_id,
  cameraId: r.camera_id,
  linkedCameraIds: JSON.parse(r.linked_camera_ids) as number[],
  title: r.title,
  description: r.description,
  status: r.status,
  autoClosed: Number(r.auto_closed) === 1,
  count: r.count,
  firstAt: r.first_at,
  lastAt: r.last_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  previousAlertId: r.previous_alert_id,
  hasSnapshot: Boolean(r.has_snapshot),
});

/** An alert row with whether its snapshot is stored. */
/** The columns a new alert is written with, in the order of `insert`'s values (after seq). */
const ALERT_COLUMNS =
  'seq, type, level, lon, lat, coord_source, org_unit_id, org_path, source_kind, source_id, camera_id, linked_camera_ids, title, description, status, count, first_at, last_at, created_at, updated_at, previous_alert_id';

const ALERT = `SELECT alerts.*, EXISTS (SELECT 1 FROM alert_snapshots s WHERE s.alert_id = alerts.id) AS has_snapshot
  FROM alerts`;

interface SourceRow {
  id: number;
  name: string;
  key_hash: string;
  org_unit_id: number;
  org_path: string;
  rate_limit_per_min: number;
  created_by: number | null;
  created_at: string;
}

const sourceFromRow = (r: SourceRow): AlertSource => ({
  id: r.id,
  name: r.name,
  keyHash: r.key_hash,
  orgUnitId: r.org_unit_id,
  orgPath: r.org_path,
  rateLimitPerMinute: r.rate_limit_per_min,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

/** Where a PTZ preset looks, WGS-84. */
export interface PresetPlace {
  token: string;
  name: string;
  lon: number;
  lat: number;
}

/** A point to keep an ONVIF event subscription on. */
export interface EventTarget {
  cameraId: number;
  onvifUrl: string;
  credentialsSealed: string;
}

/** What the alert list filters by (GET /alerts/search, /alerts/export.csv); scope is applied on top. */
export interface AlertFilter {
  levels?: readonly AlertLevel[];
  types?: readonly AlertType[];
  statuses?: readonly AlertStatus[];
  /** An org unit's path inside the caller's scope: that unit and everything under it. */
  orgPath?: string;
  /** ISO instants (UTC, as stored): active in [from, to]. */
  from?: string;
  to?: string;
  /** Lower-case text in the title or description, or an alert's number. */
  q?: string;
}

/** Keyset position in the newest-first list: the last row's time and id. */
export interface AlertListPosition {
  lastAt: string;
  id: number;
}

function filterSql(store: Store, scope: Scope, f: AlertFilter): { sql: string; params: SqlValue[] } {
  const path = f.orgPath && f.orgPath.startsWith(scope.path) ? f.orgPath : scope.path;
  const [lo, hi] = pathRange(path);
  const clauses = ['org_path >= ? AND org_path < ?'];
  const params: SqlValue[] = [lo, hi];
  const oneOf = (column: string, values: readonly string[] | undefined) => {
    if (!values?.length) return;
    clauses.push(`${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  };
  oneOf('level', f.levels);
  oneOf('type', f.types);
  oneOf('status', f.statuses);
  if (f.from) {
    clauses.push('last_at >= ?');
    params.push(f.from);
  }
  if (f.to) {
    clauses.push('first_at <= ?');
    params.push(f.to);
  }
  if (f.q) {
    const id = /^#?(\d{1,15})$/.exec(f.q)?.[1];
    clauses.push(`(${store.containsSql("lower(title || ' ' || COALESCE(description, ''))")}${id ? ' OR id = ?' : ''})`);
    params.push(f.q.toLowerCase());
    if (id) params.push(Number(id));
  }
  return { sql: clauses.join(' AND '), params };
}

export function createAlertRepo(store: Store, now: () => Date) {
  const counters = createCounters(store);
  // Alert writes queue here, in this process, before they take a connection: the counter row serialises them
  // in the database anyway (db/serial.ts).
  const writes = createSerialQueue();
  const writeTransaction = <T>(fn: () => Promise<T>): Promise<T> => writes.run(() => store.transaction(fn));
  // Every change takes the next cursor value and writes it in one transaction: commits follow seq order, so a
  // replay (seq > cursor) never sees a later value before an earlier one.
  const withSeq = <T>(write: (seq: number) => Promise<T>): Promise<T> =>
    writes.run(() => store.atomic(async () => write(await counters.next('alerts.seq'))));
  const byIdUnscoped = async (id: number) => {
    const r = await store.get<AlertRow>(`${ALERT} WHERE id = ?`, [id]);
    return r ? fromRow(r) : undefined;
  };
  return {
    byIdUnscoped,
    /** The last cursor value handed out. */
    cursor: () => counters.current('alerts.seq'),
    /**
     * A transaction that changes alerts (its checks and writes together), queued behind this process's other
     * alert writes before it takes a connection.
     */
    writeTransaction,
    async byId(scope: Scope, id: number): Promise<Alert | undefined> {
      const a = await byIdUnscoped(id);
      return a && a.orgPath.startsWith(scope.path) ? a : undefined;
    },
    /**
     * A new alert and its first history entry (`created`, by `created.actor`). On PostgreSQL the counter, the
     * alert and the entry are one statement: the counter row (and a storm's lock) is held from it to COMMIT,
     * and every round trip inside that window waits for a turn of an event loop that is also writing the
     * pushes; four statements there held it long enough that two instances took fewer than 100 alerts a
     * second between them (bench:cluster: ingest answered after 0.85 s).
     */
    async insert(a: NewAlert, created: { actor: string; note: string | null }): Promise<Alert> {
      const at = now().toISOString();
      const params = [
        a.type,
        a.level,
        a.lon,
        a.lat,
        a.coordSource,
        a.orgUnitId,
        a.orgPath,
        a.sourceKind,
        a.sourceId,
        a.cameraId,
        JSON.stringify(a.linkedCameraIds),
        a.title,
        a.description,
        a.firstAt,
        a.lastAt,
        at,
        at,
        a.previousAlertId,
      ];
      if (store.dialect === 'postgres') {
        const row = await writes.run(() =>
          store.get<AlertRow>(
            `WITH c AS (UPDATE counters SET value = value + 1 WHERE name = 'alerts.seq' RETURNING value),
             a AS (
               INSERT INTO alerts (${ALERT_COLUMNS})
               SELECT c.value, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', 1, ?, ?, ?, ?, ? FROM c
               RETURNING *),
             h AS (INSERT INTO alert_history (alert_id, at, actor, action, note) SELECT a.id, ?, ?, 'created', ? FROM a)
             SELECT a.*, false AS has_snapshot FROM a`,
            [...params, at, created.actor, created.note],
          ),
        );
        if (!row) throw new Error('counter alerts.seq does not exist (migration 17 creates it)');
        return fromRow(row);
      }
      // The alert and its entry together (inside the caller's transaction when there is one).
      const id = await withSeq(async (seq) => {
        const id = await store.insert(
          `INSERT INTO alerts (${ALERT_COLUMNS})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', 1, ?, ?, ?, ?, ?)`,
          [seq, ...params],
        );
        await store.run('INSERT INTO alert_history (alert_id, at, actor, action, note) VALUES (?, ?, ?, ?, ?)', [
          id,
          at,
          created.actor,
          'created',
          created.note,
        ]);
        return id;
      });
      return (await byIdUnscoped(id))!;
    },
    /**
     * Alerts a repeat may belong to, newest first, whatever their status: same
     * source, type, camera and org unit, seen since `since`, and (without a
     * camera) inside `box` [minLon, minLat, maxLon, maxLat]. The caller
     * measures the distance.
     */
    async foldCandidates(
      k: { sourceKind: AlertSourceKind; sourceId: string; type: AlertType; cameraId: number | null; orgUnitId: number },
      since: string,
      box: readonly [number, number, number, number],
    ): Promise<Alert[]> {
      const place =
        k.cameraId === null
          ? {
              sql: 'camera_id IS NULL AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?',
              args: [box[0], box[2], box[1], box[3]],
            }
          : { sql: 'camera_id = ?', args: [k.cameraId] };
      return (
        await store.all<AlertRow>(
          `${ALERT} WHERE source_kind = ? AND source_id = ? AND type = ? AND ${place.sql}
             AND org_unit_id = ? AND last_at >= ?
           ORDER BY id DESC LIMIT 50`,
          [k.sourceKind, k.sourceId, k.type, ...place.args, k.orgUnitId, since],
        )
      ).map(fromRow);
    },
    /** A repeat of an open alert: count + 1, last time, level raised if higher. */
    async fold(id: number, lastAt: string, level: AlertLevel): Promise<Alert> {
      if (store.dialect === 'postgres') {
        // One round trip: the counter row is held from here to COMMIT, and a storm's repeats come one after
        // another (100 a second in bench:cluster), so every statement inside that window counts.
        const row = await writes.run(() =>
          store.get<AlertRow>(
            `WITH c AS (UPDATE counters SET value = value + 1 WHERE name = 'alerts.seq' RETURNING value)
             UPDATE alerts SET seq = c.value, count = count + 1, last_at = ?, level = ?, updated_at = ? FROM c
             WHERE alerts.id = ?
             RETURNING alerts.*, EXISTS (SELECT 1 FROM alert_snapshots s WHERE s.alert_id = alerts.id) AS has_snapshot`,
            [lastAt, level, now().toISOString(), id],
          ),
        );
        if (!row) throw new Error(`alert ${id} to fold into is gone`);
        return fromRow(row);
      }
      await withSeq((seq) =>
        store.run('UPDATE alerts SET seq = ?, count = count + 1, last_at = ?, level = ?, updated_at = ? WHERE id = ?', [
          seq,
          lastAt,
          level,
          now().toISOString(),
          id,
        ]),
      );
      return (await byIdUnscoped(id))!;
    },
    async setStatus(id: number, status: AlertStatus, autoClosed = false): Promise<Alert> {
      await withSeq((seq) =>
        store.run('UPDATE alerts SET seq = ?, status = ?, auto_closed = ?, updated_at = ? WHERE id = ?', [
          seq,
          status,
          autoClosed ? 1 : 0,
          now().toISOString(),
          id,
        ]),
      );
      return (await byIdUnscoped(id))!;
    },
    /** Marks (or unmarks) a point whose ONVIF events become alerts. */
    async setEventCamera(cameraId: number, on: boolean): Promise<void> {
      if (on)
        await store.run(
          'INSERT INTO alert_event_cameras (camera_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
          [cameraId, now().toISOString()],
        );
      else await store.run('DELETE FROM alert_event_cameras WHERE camera_id = ?', [cameraId]);
    },
    async isEventCamera(cameraId: number): Promise<boolean> {
      return (await store.get('SELECT 1 AS x FROM alert_event_cameras WHERE camera_id = ?', [cameraId])) !== undefined;
    },
    /** Marked points that can be subscribed to: an ONVIF address and credentials. Oldest mark first. */
    async eventTargets(limit: number): Promise<EventTarget[]> {
      return (
        await store.all<{ id: number; onvif_url: string; credentials_sealed: string }>(
          `SELECT c.id, c.onvif_url, c.credentials_enc AS credentials_sealed FROM alert_event_cameras e
           JOIN camera_points c ON c.id = e.camera_id
           WHERE c.onvif_url IS NOT NULL AND c.credentials_enc IS NOT NULL
           ORDER BY e.created_at, e.camera_id LIMIT ?`,
          [limit],
        )
      ).map((r) => ({ cameraId: r.id, onvifUrl: r.onvif_url, credentialsSealed: r.credentials_sealed }));
    },
    async openFor(sourceKind: AlertSourceKind, sourceId: string, type: AlertType): Promise<Alert[]> {
      return (
        await store.all<AlertRow>(
          `${ALERT} WHERE source_kind = ? AND source_id = ? AND type = ? AND status IN ('new', 'acknowledged')`,
          [sourceKind, sourceId, type],
        )
      ).map(fromRow);
    },
    /** Changes in scope after cursor `since`, oldest first. */
    async changedSince(scope: Scope, since: number, limit: number): Promise<Alert[]> {
      const [lo, hi] = pathRange(scope.path);
      return (
        await store.all<AlertRow>(`${ALERT} WHERE org_path >= ? AND org_path < ? AND seq > ? ORDER BY seq LIMIT ?`, [
          lo,
          hi,
          since,
          limit,
        ])
      ).map(fromRow);
    },
    /** The list in scope matching `f`, newest first (last seen, then id), after `after`. */
    async search(scope: Scope, f: AlertFilter, after: AlertListPosition | null, limit: number): Promise<Alert[]> {
      const w = filterSql(store, scope, f);
      const page = after ? ' AND (last_at < ? OR (last_at = ? AND id < ?))' : '';
      const pageParams = after ? [after.lastAt, after.lastAt, after.id] : [];
      return (
        await store.all<AlertRow>(`${ALERT} WHERE ${w.sql}${page} ORDER BY last_at DESC, id DESC LIMIT ?`, [
          ...w.params,
          ...pageParams,
          limit,
        ])
      ).map(fromRow);
    },
    async count(scope: Scope, f: AlertFilter): Promise<number> {
      const w = filterSql(store, scope, f);
      return (await store.get<{ n: number }>(`SELECT COUNT(*) AS n FROM alerts WHERE ${w.sql}`, w.params))?.n ?? 0;
    },
    async addHistory(alertId: number, actor: string, action: string, note: string | null): Promise<void> {
      await store.run('INSERT INTO alert_history (alert_id, at, actor, action, note) VALUES (?, ?, ?, ?, ?)', [
        alertId,
        now().toISOString(),
        actor,
        action,
        note,
      ]);
    },
    history(alertId: number): Promise<AlertHistoryEntry[]> {
      return store.all<AlertHistoryEntry>(
        'SELECT at, actor, action, note FROM alert_history WHERE alert_id = ? ORDER BY id',
        [alertId],
      );
    },
    async insertSource(s: Omit<AlertSource, 'id' | 'createdAt'>): Promise<AlertSource> {
      const id = await store.insert(
        'INSERT INTO alert_sources (name, key_hash, org_unit_id, org_path, rate_limit_per_min, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [s.name, s.keyHash, s.orgUnitId, s.orgPath, s.rateLimitPerMinute, s.createdBy, now().toISOString()],
      );
      return sourceFromRow((await store.get<SourceRow>('SELECT * FROM alert_sources WHERE id = ?', [id]))!);
    },
    async sourceByKeyHash(hash: string): Promise<AlertSource | undefined> {
      const r = await store.get<SourceRow>('SELECT * FROM alert_sources WHERE key_hash = ?', [hash]);
      return r ? sourceFromRow(r) : undefined;
    },
    /** A change that is not a status change (a snapshot landed): new cursor, so replay sees it. */
    async touch(id: number): Promise<Alert> {
      await withSeq((seq) =>
        store.run('UPDATE alerts SET seq = ?, updated_at = ? WHERE id = ?', [seq, now().toISOString(), id]),
      );
      return (await byIdUnscoped(id))!;
    },
    async putSnapshot(alertId: number, cameraId: number, jpeg: Buffer): Promise<void> {
      await store.run('INSERT INTO alert_snapshots (alert_id, jpeg, taken_at, camera_id) VALUES (?, ?, ?, ?)', [
        alertId,
        jpeg,
        now().toISOString(),
        cameraId,
      ]);
    },
    async hasSnapshot(alertId: number): Promise<boolean> {
      return (await store.get('SELECT 1 AS x FROM alert_snapshots WHERE alert_id = ?', [alertId])) !== undefined;
    },
    async snapshot(alertId: number): Promise<Buffer | undefined> {
      const r = await store.get<{ jpeg: Uint8Array }>('SELECT jpeg FROM alert_snapshots WHERE alert_id = ?', [alertId]);
      return r ? Buffer.from(r.jpeg) : undefined;
    },
    /** Replaces a PTZ camera's preset places. */
    async setPresetPlaces(cameraId: number, places: readonly PresetPlace[]): Promise<void> {
      await store.transaction(async () => {
        await store.lock(`camera.presets:${cameraId}`);
        await store.run('DELETE FROM camera_preset_places WHERE camera_id = ?', [cameraId]);
        for (const p of places)
          await store.run(
            'INSERT INTO camera_preset_places (camera_id, preset_token, name, lon, lat) VALUES (?, ?, ?, ?, ?)',
            [cameraId, p.token, p.name, p.lon, p.lat],
          );
      });
    },
    presetPlaces(cameraId: number): Promise<PresetPlace[]> {
      return store.all<PresetPlace>(
        'SELECT preset_token AS token, name, lon, lat FROM camera_preset_places WHERE camera_id = ? ORDER BY preset_token',
        [cameraId],
      );
    },
    async sources(scope: Scope): Promise<AlertSource[]> {
      const [lo, hi] = pathRange(scope.path);
      return (
        await store.all<SourceRow>('SELECT * FROM alert_sources WHERE org_path >= ? AND org_path < ? ORDER BY id', [
          lo,
          hi,
        ])
      ).map(sourceFromRow);
    },
  };
}

export type AlertRepo = ReturnType<typeof createAlertRepo>;
