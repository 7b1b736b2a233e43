/** SQL for the place search: camera points by name, code or mounting address, always inside a scope. */
import type { SqlDb } from '../db/sqlite.ts';
import { pathRange, type Scope } from '../org/scope.ts';

export interface PointHit {
  id: number;
  name: string;
  code: string | null;
  address: string | null;
  lon: number;
  lat: number;
  orgUnitId: number;
}

const COLS = 'id, name, code, address, lon, lat, org_unit_id AS orgUnitId';

export function createSearchRepo(db: SqlDb) {
  return {
    /** Points under `scope` whose name or code holds `q` (lower case), names that start with it first. */
    points(scope: Scope, q: string, limit: number): PointHit[] {
      const [lo, hi] = pathRange(scope.path);
      return db.all<PointHit>(
        `SELECT ${COLS} FROM camera_points
         WHERE org_path >= ? AND org_path < ? AND (${db.containsSql('lower(name)')} OR ${db.containsSql("lower(COALESCE(code, ''))")})
         ORDER BY CASE WHEN lower(name) LIKE ? ESCAPE '\\' THEN 0 ELSE 1 END, length(name), id LIMIT ?`,
        [lo, hi, q, q, `${q.replace(/[\\%_]/g, '\\$&')}%`, limit],
      );
    },
    /** Points under `scope` whose mounting address holds `q`. */
    addresses(scope: Scope, q: string, limit: number): PointHit[] {
      const [lo, hi] = pathRange(scope.path);
      return db.all<PointHit>(
        `SELECT ${COLS} FROM camera_points
         WHERE org_path >= ? AND org_path < ? AND address IS NOT NULL AND ${db.containsSql('lower(address)')}
         ORDER BY length(address), id LIMIT ?`,
        [lo, hi, q, limit],
      );
    },
  };
}

export type SearchRepo = ReturnType<typeof createSearchRepo>;
