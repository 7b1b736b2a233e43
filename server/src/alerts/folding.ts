/**
 * Storm folding: a repeat of one source and type at one place within
 * `stormWindowSeconds` folds into the open alert (its count and last time
 * grow, its level rises to the highest seen) instead of making another. The
 * place is the same camera, or without a camera within
 * `foldDistanceMeters`, and always the same org unit, so one township's
 * report never lands in another's alert (issue 11).
 */
import {
  ALERT_LEVELS,
  type AlertLevel,
  type AlertSourceKind,
  type AlertStatus,
  type AlertType,
} from '../api/contract.ts';
import type { AppConfig } from '../config/schema.ts';
import { haversineMeters, type LonLat } from '../geo/coords.ts';
import type { OrgUnit } from '../org/repo.ts';
import type { Alert, AlertRepo } from './repo.ts';

/** Statuses a repeat folds into; after any other, a repeat is a new alert linked to it. */
const FOLDABLE: readonly AlertStatus[] = ['new', 'acknowledged'];

/** What makes two reports the same: who sent it, what it is, and which camera (if any). */
export interface FoldKey {
  sourceKind: AlertSourceKind;
  sourceId: string;
  type: AlertType;
  cameraId: number | null;
}

export function createFolding(deps: {
  repo: AlertRepo;
  config: Pick<AppConfig['alerts'], 'stormWindowSeconds' | 'foldDistanceMeters'>;
}) {
  const { repo, config } = deps;

  return {
    /** Whether repeats fold at all (a storm window is configured). */
    folds(): boolean {
      return config.stormWindowSeconds > 0;
    },
    /**
     * The latest alert of this key at this place seen within the storm window
     * before `at`, if any: the alert a new report repeats.
     */
    async repeatOf(key: FoldKey, org: OrgUnit, point: LonLat, at: Date): Promise<Alert | undefined> {
      if (config.stormWindowSeconds <= 0) return undefined;
      const since = new Date(at.getTime() - config.stormWindowSeconds * 1000).toISOString();
      const d = config.foldDistanceMeters;
      const dLat = d / 111_320;
      const dLon = dLat / Math.max(0.01, Math.cos((point[1] * Math.PI) / 180));
      const box: [number, number, number, number] = [
        point[0] - dLon,
        point[1] - dLat,
        point[0] + dLon,
        point[1] + dLat,
      ];
      return (await repo.foldCandidates({ ...key, orgUnitId: org.id }, since, box)).find(
        (a) => key.cameraId !== null || haversineMeters(point, [a.lon, a.lat]) <= d,
      );
    },
    /** Whether a repeat folds into `last` (else it is a new alert linked to it: never a silent reopening). */
    foldsInto(last: Alert): boolean {
      return FOLDABLE.includes(last.status);
    },
    /** Folds a repeat into `last`; the alert keeps the highest level reported. */
    fold(last: Alert, level: AlertLevel, at: Date): Promise<Alert> {
      const higher = ALERT_LEVELS.indexOf(level) > ALERT_LEVELS.indexOf(last.level) ? level : last.level;
      return repo.fold(last.id, at.toISOString(), higher);
    },
  };
}

export type AlertFolding = ReturnType<typeof createFolding>;
