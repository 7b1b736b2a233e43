/** SQL for the place search: camera points by name, code or mounting address, always inside a scope. */
import type { Store } from '../db/store.ts';
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

const COLS = 'id, name, code, address, lon, lat, org_unit_id AS "orgUnitId"';

export function createSearchRepo(store: Store) {
  return {
    /** Points under `scope` whose name or code holds `q` (lower case), names that start with it first. */
    async points(scope: Scope, q: string, limit: number): Promise<PointHit[]> {
      const [lo, hi] = pathRange(scope.path);
      return store.all<PointHit>(
        `SELECT ${COLS} FROM camera_points
         WHERE org_path >= ? AND org_path < ? AND (${store.containsSql('lower(name)')} OR ${store.containsSql("lower(COALESCE(code, ''))")})
         ORDER BY CASE WHEN lower(name) LIKE ? ESCAPE '\\' THEN 0 ELSE 1 END, length(name), id LIMIT ?`,
        [lo, hi, q, q, `${q.replace(/[\\%_]/g, '\\$&')}%`, limit],
      );
    },
    /** Points under `scope` whose mounting address holds `q`. */
    async addresses(scope: Scope, q: string, limit: number): Promise<PointHit[]> {
      const [lo, hi] = pathRange(scope.path);
      return store.all<PointHit>(
        `SELECT ${COLS} FROM camera_points
         WHERE org_path >= ? AND org_path < ? AND address IS NOT NULL AND ${store.containsSql('lower(address)')}
         ORDER BY length(address), id LIMIT ?`,
        [lo, hi, q, limit],
      );
    },
  };
}

export type SearchRepo = ReturnType<typeof createSearchRepo>;
