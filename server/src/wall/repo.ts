/** SQL for wall screens and their kiosk tokens (migration 8). */
import type { WallKioskTokenRecord, WallLayout, WallPointsResponse, WallScreenView } from '../api/contract.ts';
import { STATUS_CODES } from '../api/point-feed.ts';
import type { SqlValue, Store } from '../db/store.ts';
import { cameraFilterSql, type CameraFilter } from '../cameras/repo.ts';
import { pathRange, type Scope } from '../org/scope.ts';

/** 大屏 — one physical screen of a video wall, as stored. */
export interface WallScreen {
  id: number;
  orgUnitId: number;
  orgPath: string;
  name: string;
  layout: WallLayout;
  version: number;
  updatedAt: string;
  createdAt: string;
}

export interface KioskToken {
  id: number;
  screenId: number;
  userId: number;
}

interface ScreenRow {
  id: number;
  org_unit_id: number;
  org_path: string;
  name: string;
  layout_json: string;
  version: number;
  updated_at: string;
  created_at: string;
}

const COLS = 'id, org_unit_id, org_path, name, layout_json, version, updated_at, created_at';

const fromRow = (r: ScreenRow): WallScreen => ({
  id: r.id,
  orgUnitId: r.org_unit_id,
  orgPath: r.org_path,
  name: r.name,
  layout: JSON.parse(r.layout_json) as WallLayout,
  version: r.version,
  updatedAt: r.updated_at,
  createdAt: r.created_at,
});

export const screenView = (s: WallScreen): WallScreenView => ({
  id: s.id,
  orgUnitId: s.orgUnitId,
  name: s.name,
  layout: s.layout,
  version: s.version,
  updatedAt: s.updatedAt,
});

/** One camera point as the wall's map and tree need it, in a compact row. */
export type WallPointRow = WallPointsResponse['points'][number];

export type WallRepo = ReturnType<typeof createWallRepo>;

/** A status as its STATUS_CODES digit, in SQL. */
const STATUS_DIGIT = `CASE status ${Object.entries(STATUS_CODES)
  .map(([name, code]) => `WHEN '${name}' THEN '${code}'`)
  .join(' ')} ELSE '${STATUS_CODES.unknown}' END`;

export function createWallRepo(store: Store, now: () => Date) {
  // The database writes the JSON (SQLite's json_* functions, PostgreSQL's json_build_* and json_agg).
  const pg = store.dialect === 'postgres';
  const [agg, obj, arr] = pg
    ? ['json_agg', 'json_build_object', 'json_build_array']
    : ['json_group_array', 'json_object', 'json_array'];
  const round6 = (c: string) => (pg ? `round(${c}::numeric, 6)` : `round(${c}, 6)`);
  const asText = (sql: string) => (pg ? `(${sql})::text` : sql);
  const geoJson = async (where: string, params: SqlValue[]): Promise<string> => {
    const r = await store.get<{ j: string | null }>(
      `SELECT ${asText(`${agg}(${obj}(
         'type', 'Feature',
         'geometry', ${obj}('type', 'Point', 'coordinates', ${arr}(${round6('lon')}, ${round6('lat')})),
         'properties', ${obj}(
           'id', id,
           'net', network_id,
           's', CASE status WHEN 'online' THEN 0 WHEN 'degraded' THEN 1 WHEN 'offline' THEN 2 ELSE 3 END,
           'on', CASE status WHEN 'online' THEN 1 ELSE 0 END)))`)} AS j
       FROM camera_points WHERE ${where}`,
      params,
    );
    return `{"type":"FeatureCollection","features":${r?.j ?? '[]'}}`;
  };
  const byIdAny = async (id: number) => {
    const r = await store.get<ScreenRow>(`SELECT ${COLS} FROM wall_screens WHERE id = ?`, [id]);
    return r ? fromRow(r) : undefined;
  };
  return {
    /** Screens of the units under `path` (the caller's scope, or a lower unit inside it). */
    async list(path: string): Promise<WallScreen[]> {
      const [lo, hi] = pathRange(path);
      return (
        await store.all<ScreenRow>(
          `SELECT ${COLS} FROM wall_screens WHERE org_path >= ? AND org_path < ? ORDER BY org_path, id`,
          [lo, hi],
        )
      ).map(fromRow);
    },
    /** A screen inside `scope`; out of scope is the same as missing. */
    async byId(scope: Scope, id: number): Promise<WallScreen | undefined> {
      const s = await byIdAny(id);
      return s && s.orgPath.startsWith(scope.path) ? s : undefined;
    },
    async insert(s: { orgUnitId: number; orgPath: string; name: string; layout: WallLayout }): Promise<WallScreen> {
      const at = now().toISOString();
      const id = await store.insert(
        'INSERT INTO wall_screens (org_unit_id, org_path, name, layout_json, version, updated_at, created_at) VALUES (?, ?, ?, ?, 1, ?, ?)',
        [s.orgUnitId, s.orgPath, s.name, JSON.stringify(s.layout), at, at],
      );
      const created = await byIdAny(id);
      if (!created) throw new Error('wall screen vanished after insert');
      return created;
    },
    /** Saves a layout if the stored version is still `version`; undefined on a conflict. */
    async saveLayout(id: number, version: number, layout: WallLayout): Promise<WallScreen | undefined> {
      const { changes } = await store.run(
        'UPDATE wall_screens SET layout_json = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?',
        [JSON.stringify(layout), now().toISOString(), id, version],
      );
      return changes === 1 ? await byIdAny(id) : undefined;
    },
    /** Deletes a screen and its kiosk tokens; the kiosk account's sessions are auth's to end (routes do). */
    async delete(id: number): Promise<void> {
      await store.transaction(async () => {
        await store.run('DELETE FROM wall_kiosk_tokens WHERE screen_id = ?', [id]);
        await store.run('DELETE FROM wall_screens WHERE id = ?', [id]);
      });
    },

    async addKioskToken(screenId: number, tokenHash: string, userId: number, createdBy: number): Promise<void> {
      await store.run(
        'INSERT INTO wall_kiosk_tokens (screen_id, token_hash, user_id, created_by, created_at) VALUES (?, ?, ?, ?, ?)',
        [screenId, tokenHash, userId, createdBy, now().toISOString()],
      );
    },
    async kioskToken(tokenHash: string): Promise<KioskToken | undefined> {
      const r = await store.get<{ id: number; screen_id: number; user_id: number }>(
        'SELECT id, screen_id, user_id FROM wall_kiosk_tokens WHERE token_hash = ? AND revoked_at IS NULL',
        [tokenHash],
      );
      return r ? { id: r.id, screenId: r.screen_id, userId: r.user_id } : undefined;
    },
    /** Every kiosk token issued for a screen, newest first: when, by whom, whether revoked (never the token). */
    async kioskTokens(screenId: number): Promise<WallKioskTokenRecord[]> {
      return (
        await store.all<{ id: number; created_at: string; created_by: string | null; revoked_at: string | null }>(
          `SELECT t.id, t.created_at, u.username AS created_by, t.revoked_at
           FROM wall_kiosk_tokens t LEFT JOIN users u ON u.id = t.created_by
           WHERE t.screen_id = ? ORDER BY t.id DESC`,
          [screenId],
        )
      ).map((r) => ({ id: r.id, createdAt: r.created_at, createdBy: r.created_by, revokedAt: r.revoked_at }));
    },
    async rename(id: number, name: string): Promise<WallScreen | undefined> {
      // The layout's version stays: a rename must not make an open wall's next layout save conflict.
      await store.run('UPDATE wall_screens SET name = ?, updated_at = ? WHERE id = ?', [name, now().toISOString(), id]);
      return await byIdAny(id);
    },
    /** Revokes every kiosk token of a screen; the sessions they opened are ended by auth (routes do). */
    async revokeKiosk(screenId: number): Promise<number> {
      const { changes } = await store.run(
        'UPDATE wall_kiosk_tokens SET revoked_at = ? WHERE screen_id = ? AND revoked_at IS NULL',
        [now().toISOString(), screenId],
      );
      return changes;
    },

    /**
     * Every camera point under `path`, compact, for the wall's map and tree,
     * as the JSON text of a `WallPointRow[]`. SQLite builds the JSON itself:
     * for 50,000 points that is several times faster than rows → objects →
     * JSON.stringify, and the event loop is blocked that much less (the map's
     * basemap request waits behind it). PostgreSQL: json_agg(json_build_array(…)).
     */
    async pointsJson(path: string): Promise<string> {
      const [lo, hi] = pathRange(path);
      const r = await store.get<{ j: string | null }>(
        `SELECT ${asText(`${agg}(${arr}(id, lon, lat, network_id, status, direction, fov, ptz, org_unit_id, name))`)} AS j
         FROM camera_points WHERE org_path >= ? AND org_path < ?`,
        [lo, hi],
      );
      return r?.j ?? '[]';
    },
    /**
     * The same points as a GeoJSON FeatureCollection for the map's worker to
     * fetch and cluster itself: the page never clones 50,000 features into the
     * worker. Properties: id, net (network id), s (status code: online 0,
     * degraded 1, offline 2, unknown 3), on (1 when online); coordinates
     * rounded to 6 decimals (~0.1 m), a fifth less to send and parse. PostgreSQL:
     * json_build_object / json_agg.
     */
    pointsGeoJson(path: string): Promise<string> {
      const [lo, hi] = pathRange(path);
      return geoJson('org_path >= ? AND org_path < ?', [lo, hi]);
    },
    /** The same for the points of the registry's filter inside `scope` (the registry map's source). */
    pointsGeoJsonFiltered(scope: Scope, filter: CameraFilter): Promise<string> {
      const where = cameraFilterSql(store, scope, filter);
      return geoJson(where.sql, where.params);
    },
    /**
     * Rows `[id, lon, lat, network_id, status]` of the jurisdiction under `path`, or of the registry's
     * filter inside a scope: the map's binary point feed (api/point-feed.ts) is built from them.
     */
    pointFeedRows(path: string): Promise<SqlValue[][]> {
      const [lo, hi] = pathRange(path);
      return store.rows(
        'SELECT id, lon, lat, network_id, status FROM camera_points WHERE org_path >= ? AND org_path < ?',
        [lo, hi],
      );
    },
    /**
     * `pointFeedRows`, read in chunks of `chunk` rows in the covering index's (org_path, id) order, with the
     * event loop free between them (`pause`): 200,000 points took the loop 0.5-1.2 s in one piece on the loaded
     * machine, and the wall's own session and screen requests, asked for just after the feed (issue 15: the
     * feed starts as the page opens), waited behind it. A point moved between two chunks could be read twice:
     * each id is kept once (the move itself sends `camera:changed`, after which the page fetches again).
     */
    async pointFeedRowsChunked(path: string, chunk: number, pause: () => Promise<void>): Promise<SqlValue[][]> {
      const [lo, hi] = pathRange(path);
      const rows: SqlValue[][] = [];
      const seen = new Set<number>();
      let after: [SqlValue, SqlValue] | null = null;
      for (;;) {
        const part: SqlValue[][] = after
          ? await store.rows(
              'SELECT id, lon, lat, network_id, status, org_path FROM camera_points WHERE org_path >= ? AND org_path < ? AND (org_path, id) > (?, ?) ORDER BY org_path, id LIMIT ?',
              [lo, hi, after[0], after[1], chunk],
            )
          : await store.rows(
              'SELECT id, lon, lat, network_id, status, org_path FROM camera_points WHERE org_path >= ? AND org_path < ? ORDER BY org_path, id LIMIT ?',
              [lo, hi, chunk],
            );
        for (const r of part) {
          const id = Number(r[0]);
          if (seen.has(id)) continue;
          seen.add(id);
          rows.push(r.slice(0, 5));
        }
        if (part.length < chunk) return rows;
        const last = part[part.length - 1]!;
        after = [last[5]!, last[0]!];
        await pause();
      }
    },
    pointFeedRowsFiltered(scope: Scope, filter: CameraFilter): Promise<SqlValue[][]> {
      const where = cameraFilterSql(store, scope, filter);
      return store.rows(`SELECT id, lon, lat, network_id, status FROM camera_points WHERE ${where.sql}`, where.params);
    },
    /** The camera points' version (migration 21): bumped by every committed change of what the feed holds. */
    async feedVersion(): Promise<number> {
      const row = await store.get<{ v: number | string }>('SELECT v FROM camera_feed_version WHERE one = 1');
      return Number(row?.v ?? 0);
    },
    /**
     * The statuses of the jurisdiction under `path` as STATUS_CODES, one a point, in the order the feed is read
     * (`pointFeedRowsChunked`: org_path, id), as one value from the database (SQLite's ordered group_concat:
     * ~30 ms for 200,000 points, against ~0.3 s for the whole feed). For the kept feed (feed-cache.ts).
     */
    async feedStatuses(path: string): Promise<Uint8Array> {
      const [lo, hi] = pathRange(path);
      const row = await store.get<{ s: string | null }>(
        `SELECT group_concat(${STATUS_DIGIT}, '' ORDER BY org_path, id) AS s
         FROM camera_points WHERE org_path >= ? AND org_path < ?`,
        [lo, hi],
      );
      const digits = row?.s ?? '';
      const codes = new Uint8Array(digits.length);
      for (let i = 0; i < digits.length; i++) codes[i] = digits.charCodeAt(i) - 48;
      return codes;
    },
  };
}
