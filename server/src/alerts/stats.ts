/**
 * Alert counts for the leaders' reports (issue 16): every alert created in a time range inside an org
 * subtree, as (place, type, level, time). Scoped by the org path range like every alert query.
 */
import type { AlertLevel, AlertType } from '../api/contract.ts';
import type { Store } from '../db/store.ts';
import { pathRange } from '../org/scope.ts';

export interface AlertFact {
  orgPath: string;
  type: AlertType;
  level: AlertLevel;
  createdAt: string;
}

export async function alertFacts(store: Store, path: string, fromIso: string, toIso: string): Promise<AlertFact[]> {
  const [lo, hi] = pathRange(path);
  return store.all<AlertFact>(
    `SELECT org_path AS "orgPath", type, level, created_at AS "createdAt" FROM alerts
     WHERE org_path >= ? AND org_path < ? AND created_at >= ? AND created_at < ?`,
    [lo, hi, fromIso, toIso],
  );
}
