/** SQL of recording: record plans, the segment index, evidence clips. Scope (org path) in every caller query. */
import type { Store } from '../db/store.ts';
import { pathRange, type Scope } from '../org/scope.ts';

export type RecordMode = 'continuous' | 'schedule' | 'alert';

/** One weekly window: ISO day (1 = Monday … 7 = Sunday), minutes from local midnight [from, to). */
export interface ScheduleWindow {
  day: number;
  from: string;
  to: string;
}

/** 录像计划 — what a point, or every point of an org unit, records and how long it is kept. */
export interface RecordPlan {
  id: number;
  cameraId: number | null;
  orgUnitId: number | null;
  orgPath: string;
  mode: RecordMode;
  schedule: ScheduleWindow[];
  preRollSeconds: number;
  retentionDays: number;
  enabled: boolean;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SegmentRow {
  id: number;
  cameraId: number;
  orgPath: string;
  startMs: number;
  endMs: number;
  bytes: number;
  path: string;
}

export interface ClipRow {
  id: number;
  alertId: number;
  cameraId: number;
  orgPath: string;
  startMs: number;
  endMs: number;
  status: 'pending' | 'ready' | 'failed';
  reason: string | null;
  path: string | null;
  bytes: number | null;
  createdAt: string;
}

interface PlanRaw extends Omit<RecordPlan, 'schedule' | 'enabled'> {
  schedule: string;
  enabled: number;
}

const PLAN_COLS = `id, camera_id AS "cameraId", org_unit_id AS "orgUnitId", org_path AS "orgPath", mode, schedule,
  pre_roll_seconds AS "preRollSeconds", retention_days AS "retentionDays", enabled, created_by AS "createdBy",
  created_at AS "createdAt", updated_at AS "updatedAt"`;
const SEG_COLS = `id, camera_id AS "cameraId", org_path AS "orgPath", start_ms AS "startMs", end_ms AS "endMs", bytes, path`;
const CLIP_COLS = `id, alert_id AS "alertId", camera_id AS "cameraId", org_path AS "orgPath", start_ms AS "startMs",
  end_ms AS "endMs", status, reason, path, bytes, created_at AS "createdAt"`;

const toPlan = (r: PlanRaw): RecordPlan => ({
  ...r,
  schedule: JSON.parse(r.schedule) as ScheduleWindow[],
  enabled: r.enabled === 1,
});

/** A clip's holder in the caller's scope (each takes the scope's two bounds). */
const ALERT_IN_SCOPE = 'EXISTS (SELECT 1 FROM alerts a WHERE a.id = c.alert_id AND a.org_path >= ? AND a.org_path < ?)';
const ORDER_IN_SCOPE =
  'EXISTS (SELECT 1 FROM work_orders w WHERE w.id = c.order_id AND w.place_path >= ? AND w.place_path < ?)';

export function createRecordingRepo(store: Store) {
  /** Clips of one alert or one order, camera in scope and `holder` (in scope) present. */
  const clipsBy = (scope: Scope, column: 'alert_id' | 'order_id', id: number, holder: string): Promise<ClipRow[]> => {
    const [lo, hi] = pathRange(scope.path);
    return store.all<ClipRow>(
      `SELECT ${CLIP_COLS} FROM recording_clips c WHERE ${column} = ? AND org_path >= ? AND org_path < ? AND ${holder}
       ORDER BY camera_id`,
      [id, lo, hi, lo, hi],
    );
  };
  return {
    async plans(scope: Scope): Promise<RecordPlan[]> {
      const [lo, hi] = pathRange(scope.path);
      return (
        await store.all<PlanRaw>(
          `SELECT ${PLAN_COLS} FROM record_plans WHERE org_path >= ? AND org_path < ? ORDER BY id`,
          [lo, hi],
        )
      ).map(toPlan);
    },
    async plan(scope: Scope, id: number): Promise<RecordPlan | undefined> {
      const [lo, hi] = pathRange(scope.path);
      const r = await store.get<PlanRaw>(
        `SELECT ${PLAN_COLS} FROM record_plans WHERE id = ? AND org_path >= ? AND org_path < ?`,
        [id, lo, hi],
      );
      return r ? toPlan(r) : undefined;
    },
    /** Every enabled plan (the recorder pass acts for no caller). */
    async allEnabled(): Promise<RecordPlan[]> {
      return (await store.all<PlanRaw>(`SELECT ${PLAN_COLS} FROM record_plans WHERE enabled = 1`)).map(toPlan);
    },
    /** Creates or replaces the plan of a point or of a unit (one each). */
    async upsertPlan(p: Omit<RecordPlan, 'id' | 'createdAt' | 'updatedAt'>, now: string): Promise<RecordPlan> {
      // One transaction: the look-up and the write stay one step, as they were when both were synchronous.
      return store.transaction(async () => {
        await store.lock(p.cameraId !== null ? `record.plan.camera:${p.cameraId}` : `record.plan.unit:${p.orgUnitId}`);
        const existing = await store.get<{ id: number }>(
          p.cameraId !== null
            ? 'SELECT id FROM record_plans WHERE camera_id = ?'
            : 'SELECT id FROM record_plans WHERE org_unit_id = ?',
          [p.cameraId ?? p.orgUnitId],
        );
        const fields = [
          p.orgPath,
          p.mode,
          JSON.stringify(p.schedule),
          p.preRollSeconds,
          p.retentionDays,
          p.enabled ? 1 : 0,
          p.createdBy,
        ];
        if (existing) {
          await store.run(
            `UPDATE record_plans SET org_path = ?, mode = ?, schedule = ?, pre_roll_seconds = ?, retention_days = ?, enabled = ?,
               created_by = ?, updated_at = ? WHERE id = ?`,
            [...fields, now, existing.id],
          );
          return (await this.plan({ orgUnitId: 0, path: '/' }, existing.id))!;
        }
        const id = await store.insert(
          `INSERT INTO record_plans (camera_id, org_unit_id, org_path, mode, schedule, pre_roll_seconds, retention_days, enabled,
             created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [p.cameraId, p.orgUnitId, ...fields, now, now],
        );
        return (await this.plan({ orgUnitId: 0, path: '/' }, id))!;
      });
    },
    async deletePlan(id: number): Promise<void> {
      await store.run('DELETE FROM record_plans WHERE id = ?', [id]);
    },

    /** Index a segment once (a repaired or recovered one may be announced twice). */
    async addSegment(s: Omit<SegmentRow, 'id'>): Promise<boolean> {
      return (
        (
          await store.run(
            `INSERT INTO recording_segments (camera_id, org_path, start_ms, end_ms, bytes, path) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (path) DO NOTHING`,
            [s.cameraId, s.orgPath, s.startMs, s.endMs, s.bytes, s.path],
          )
        ).changes > 0
      );
    },
    /** Segments of a point overlapping [fromMs, toMs), oldest first; scope-checked by the caller's path. */
    segments(scope: Scope, cameraId: number, fromMs: number, toMs: number): Promise<SegmentRow[]> {
      const [lo, hi] = pathRange(scope.path);
      return store.all<SegmentRow>(
        `SELECT ${SEG_COLS} FROM recording_segments
         WHERE camera_id = ? AND org_path >= ? AND org_path < ? AND start_ms < ? AND end_ms > ?
         ORDER BY start_ms`,
        [cameraId, lo, hi, toMs, fromMs],
      );
    },
    segment(scope: Scope, id: number): Promise<SegmentRow | undefined> {
      const [lo, hi] = pathRange(scope.path);
      return store.get<SegmentRow>(
        `SELECT ${SEG_COLS} FROM recording_segments WHERE id = ? AND org_path >= ? AND org_path < ?`,
        [id, lo, hi],
      );
    },
    /** Oldest first, never one an evidence clip still waits for. */
    oldestUnheld(limit: number): Promise<SegmentRow[]> {
      return store.all<SegmentRow>(
        `SELECT ${SEG_COLS} FROM recording_segments s
         WHERE NOT EXISTS (SELECT 1 FROM recording_clips c WHERE c.status = 'pending' AND c.camera_id = s.camera_id
                           AND c.start_ms < s.end_ms AND c.end_ms > s.start_ms)
         ORDER BY start_ms LIMIT ?`,
        [limit],
      );
    },
    /** A point's segments that ended before `beforeMs`, not held by a pending clip. */
    expired(cameraId: number, beforeMs: number, limit: number): Promise<SegmentRow[]> {
      return store.all<SegmentRow>(
        `SELECT ${SEG_COLS} FROM recording_segments s
         WHERE camera_id = ? AND end_ms < ?
           AND NOT EXISTS (SELECT 1 FROM recording_clips c WHERE c.status = 'pending' AND c.camera_id = s.camera_id
                           AND c.start_ms < s.end_ms AND c.end_ms > s.start_ms)
         ORDER BY start_ms LIMIT ?`,
        [cameraId, beforeMs, limit],
      );
    },
    /** Ids of the points under an org path (a unit's plan covers them); read-only look at the registry's table. */
    async cameraIdsUnder(path: string): Promise<number[]> {
      const [lo, hi] = pathRange(path);
      return (
        await store.all<{ id: number }>(
          'SELECT id FROM camera_points WHERE org_path >= ? AND org_path < ? ORDER BY id',
          [lo, hi],
        )
      ).map((r) => r.id);
    },
    /** Points that have recordings (retention walks them). */
    recordedCameras(): Promise<Array<{ cameraId: number; orgPath: string }>> {
      return store.all(
        `SELECT camera_id AS "cameraId", MAX(org_path) AS "orgPath" FROM recording_segments GROUP BY camera_id`,
      );
    },
    async deleteSegment(id: number): Promise<void> {
      await store.run('DELETE FROM recording_segments WHERE id = ?', [id]);
    },
    async totalBytes(): Promise<number> {
      const a = (await store.get<{ n: number | null }>('SELECT SUM(bytes) AS n FROM recording_segments'))?.n ?? 0;
      const b =
        (await store.get<{ n: number | null }>("SELECT SUM(bytes) AS n FROM recording_clips WHERE status = 'ready'"))
          ?.n ?? 0;
      return Number(a) + Number(b);
    },
    async segmentCount(): Promise<number> {
      return (await store.get<{ n: number }>('SELECT COUNT(*) AS n FROM recording_segments'))?.n ?? 0;
    },

    async addClip(c: Omit<ClipRow, 'id' | 'status' | 'reason' | 'path' | 'bytes'>): Promise<void> {
      await store.run(
        `INSERT INTO recording_clips (alert_id, camera_id, org_path, start_ms, end_ms, status, created_at)
         VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (alert_id, camera_id) DO NOTHING`,
        [c.alertId, c.cameraId, c.orgPath, c.startMs, c.endMs, c.createdAt],
      );
    },
    dueClips(beforeMs: number): Promise<ClipRow[]> {
      return store.all<ClipRow>(
        `SELECT ${CLIP_COLS} FROM recording_clips WHERE status = 'pending' AND end_ms < ? ORDER BY id`,
        [beforeMs],
      );
    },
    async finishClip(
      id: number,
      r: { status: 'ready' | 'failed'; reason: string | null; path: string | null; bytes: number | null },
    ): Promise<void> {
      await store.run('UPDATE recording_clips SET status = ?, reason = ?, path = ?, bytes = ? WHERE id = ?', [
        r.status,
        r.reason,
        r.path,
        r.bytes,
        id,
      ]);
    },
    /** Remembers a work order made of a clip's alert: the order keeps the clip after the alert is gone. */
    async linkClipsToOrder(alertId: number, orderId: number): Promise<void> {
      await store.run('UPDATE recording_clips SET order_id = ? WHERE alert_id = ? AND order_id IS NULL', [
        orderId,
        alertId,
      ]);
    },
    /** The same for every order the listener may have missed (one made while this server did not record). */
    async linkClipsToOrders(): Promise<void> {
      await store.run(
        `UPDATE recording_clips SET order_id = (SELECT w.id FROM work_orders w WHERE w.alert_id = recording_clips.alert_id)
         WHERE order_id IS NULL AND EXISTS (SELECT 1 FROM work_orders w WHERE w.alert_id = recording_clips.alert_id)`,
      );
    },
    /** Clips neither their alert nor their work order holds any more (both gone), oldest first. */
    releasedClips(limit: number): Promise<ClipRow[]> {
      return store.all<ClipRow>(
        `SELECT ${CLIP_COLS} FROM recording_clips c
         WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = c.alert_id)
           AND NOT EXISTS (SELECT 1 FROM work_orders w WHERE w.id = c.order_id)
           AND NOT EXISTS (SELECT 1 FROM work_orders w WHERE w.alert_id = c.alert_id)
         ORDER BY id LIMIT ?`,
        [limit],
      );
    },
    async deleteClip(id: number): Promise<void> {
      await store.run('DELETE FROM recording_clips WHERE id = ?', [id]);
    },
    /** Paths of the clip files rows name (a file no row names is an orphan). */
    async clipPaths(): Promise<Set<string>> {
      return new Set(
        (await store.all<{ path: string }>('SELECT path FROM recording_clips WHERE path IS NOT NULL')).map(
          (r) => r.path,
        ),
      );
    },
    clipsOfAlert(scope: Scope, alertId: number): Promise<ClipRow[]> {
      // The alert must be in scope too: a linked camera of one's own says nothing of another township's alert.
      return clipsBy(scope, 'alert_id', alertId, ALERT_IN_SCOPE);
    },
    /** The clips a work order holds: its alert's, also once the alert is gone. The order must be in scope. */
    clipsOfOrder(scope: Scope, orderId: number): Promise<ClipRow[]> {
      return clipsBy(scope, 'order_id', orderId, ORDER_IN_SCOPE);
    },
    /** A clip whose camera is in scope, and its alert or (the alert gone) its work order. */
    clip(scope: Scope, id: number): Promise<ClipRow | undefined> {
      const [lo, hi] = pathRange(scope.path);
      return store.get<ClipRow>(
        `SELECT ${CLIP_COLS} FROM recording_clips c WHERE id = ? AND org_path >= ? AND org_path < ?
           AND (${ALERT_IN_SCOPE} OR ${ORDER_IN_SCOPE})`,
        [id, lo, hi, lo, hi, lo, hi],
      );
    },
    /** Alerts (of the point, in the range) for the timeline's markers. */
    alertsOf(scope: Scope, cameraId: number, fromIso: string, toIso: string) {
      const [lo, hi] = pathRange(scope.path);
      // The alert's linked cameras are a JSON array of ids.
      const linkedHas =
        store.dialect === 'postgres'
          ? 'SELECT 1 FROM json_array_elements_text(a.linked_camera_ids::json) j(value) WHERE j.value::bigint = ?'
          : 'SELECT 1 FROM json_each(a.linked_camera_ids) j WHERE j.value = ?';
      return store.all<{ id: number; level: string; at: string; title: string }>(
        `SELECT a.id, a.level, a.first_at AS "at", a.title FROM alerts a
         WHERE a.org_path >= ? AND a.org_path < ? AND a.first_at >= ? AND a.first_at < ?
           AND (a.camera_id = ? OR EXISTS (${linkedHas}))
         ORDER BY a.first_at LIMIT 500`,
        [lo, hi, fromIso, toIso, cameraId, cameraId],
      );
    },
  };
}

export type RecordingRepo = ReturnType<typeof createRecordingRepo>;
