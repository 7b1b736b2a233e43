/**
 * SQL of picture quality (migration 13). Every read for a caller carries its org path range; checks keep
 * their point's org path and network, so history and reports stay scoped after a point moves or goes.
 */
import type { CameraStatus, QualityKind, QualityReason } from '../api/contract.ts';
import type { Store } from '../db/store.ts';
import { pathRange, type Scope } from '../org/scope.ts';

export type CheckStatus = 'good' | 'faulty' | 'failed';

export interface QualityCheck {
  id: number;
  cameraId: number;
  orgPath: string;
  networkId: string;
  sweepId: number | null;
  at: string;
  status: CheckStatus;
  kinds: QualityKind[];
  reason: QualityReason | null;
  measures: Record<string, number | null> | null;
  ms: number;
  hasThumbnail: boolean;
}

export interface QualityStateRow {
  cameraId: number;
  name: string;
  networkId: string;
  orgUnitId: number;
  orgPath: string;
  online: CameraStatus;
  status: CheckStatus | null;
  kinds: QualityKind[];
  reason: QualityReason | null;
  checkedAt: string | null;
  lastCheckId: number | null;
  hasThumbnail: boolean;
  referenceAt: string | null;
  referenceBy: string | null;
}

export interface SweepRow {
  id: number;
  orgUnitId: number;
  orgPath: string;
  networkId: string | null;
  trigger: 'schedule' | 'manual';
  status: 'running' | 'paused' | 'done' | 'cancelled' | 'failed';
  localDate: string;
  total: number;
  checked: number;
  good: number;
  faulty: number;
  failed: number;
  afterId: number;
  cpuMs: number;
  startedAt: string;
  finishedAt: string | null;
}

/** A point as a sweep needs it. */
export interface SweepTarget {
  id: number;
  name: string;
  orgPath: string;
  orgUnitId: number;
  networkId: string;
  lon: number;
  lat: number;
  mainStreamUri: string | null;
  subStreamUri: string | null;
  credentialsSealed: string | null;
  online: CameraStatus;
}

export interface DailyRow {
  day: string;
  orgPath: string;
  networkId: string;
  total: number;
  online: number;
  intact: number;
  faults: Partial<Record<QualityKind, number>>;
}

const kindsOf = (s: string | null): QualityKind[] => (s ? (s.split(',') as QualityKind[]) : []);

interface CheckRow {
  id: number;
  camera_id: number;
  org_path: string;
  network_id: string;
  sweep_id: number | null;
  at: string;
  status: CheckStatus;
  kinds: string;
  reason: QualityReason | null;
  measures: string | null;
  ms: number;
  thumb: number;
}

const toCheck = (r: CheckRow): QualityCheck => ({
  id: r.id,
  cameraId: r.camera_id,
  orgPath: r.org_path,
  networkId: r.network_id,
  sweepId: r.sweep_id,
  at: r.at,
  status: r.status,
  kinds: kindsOf(r.kinds),
  reason: r.reason,
  measures: r.measures ? (JSON.parse(r.measures) as Record<string, number | null>) : null,
  ms: r.ms,
  hasThumbnail: Number(r.thumb) === 1,
});

interface SweepDbRow {
  id: number;
  org_unit_id: number;
  org_path: string;
  network_id: string | null;
  trigger: 'schedule' | 'manual';
  status: SweepRow['status'];
  local_date: string;
  total: number;
  checked: number;
  good: number;
  faulty: number;
  failed: number;
  after_id: number;
  cpu_ms: number;
  started_at: string;
  finished_at: string | null;
}

const toSweep = (r: SweepDbRow): SweepRow => ({
  id: r.id,
  orgUnitId: r.org_unit_id,
  orgPath: r.org_path,
  networkId: r.network_id,
  trigger: r.trigger,
  status: r.status,
  localDate: r.local_date,
  total: r.total,
  checked: r.checked,
  good: r.good,
  faulty: r.faulty,
  failed: r.failed,
  afterId: r.after_id,
  cpuMs: r.cpu_ms,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

const CHECK_COLUMNS = `q.id, q.camera_id, q.org_path, q.network_id, q.sweep_id, q.at, q.status, q.kinds, q.reason, q.measures, q.ms,
  EXISTS (SELECT 1 FROM quality_thumbnails t WHERE t.check_id = q.id) AS thumb`;

export function createQualityRepo(store: Store) {
  return {
    /** Points of a sweep: in `path`'s subtree (and network), after `afterId`, by id. */
    async targets(path: string, networkId: string | null, afterId: number, limit: number): Promise<SweepTarget[]> {
      const [lo, hi] = pathRange(path);
      return (
        await store.all<{
          id: number;
          name: string;
          org_path: string;
          org_unit_id: number;
          network_id: string;
          lon: number;
          lat: number;
          main_stream_uri: string | null;
          sub_stream_uri: string | null;
          credentials_enc: string | null;
          status: CameraStatus;
        }>(
          `SELECT id, name, org_path, org_unit_id, network_id, lon, lat, main_stream_uri, sub_stream_uri, credentials_enc, status
           FROM camera_points WHERE org_path >= ? AND org_path < ? AND id > ? ${networkId ? 'AND network_id = ?' : ''}
           ORDER BY id LIMIT ?`,
          networkId ? [lo, hi, afterId, networkId, limit] : [lo, hi, afterId, limit],
        )
      ).map((r) => ({
        id: r.id,
        name: r.name,
        orgPath: r.org_path,
        orgUnitId: r.org_unit_id,
        networkId: r.network_id,
        lon: r.lon,
        lat: r.lat,
        mainStreamUri: r.main_stream_uri,
        subStreamUri: r.sub_stream_uri,
        credentialsSealed: r.credentials_enc,
        online: r.status,
      }));
    },

    async countTargets(path: string, networkId: string | null): Promise<number> {
      const [lo, hi] = pathRange(path);
      return (
        (
          await store.get<{ n: number }>(
            `SELECT COUNT(*) AS n FROM camera_points WHERE org_path >= ? AND org_path < ? ${networkId ? 'AND network_id = ?' : ''}`,
            networkId ? [lo, hi, networkId] : [lo, hi],
          )
        )?.n ?? 0
      );
    },

    async state(
      cameraId: number,
    ): Promise<{ status: CheckStatus; kinds: QualityKind[]; reason: QualityReason | null } | undefined> {
      const r = await store.get<{ status: CheckStatus; kinds: string; reason: QualityReason | null }>(
        'SELECT status, kinds, reason FROM quality_state WHERE camera_id = ?',
        [cameraId],
      );
      return r ? { status: r.status, kinds: kindsOf(r.kinds), reason: r.reason } : undefined;
    },

    async reference(cameraId: number): Promise<{ signature: string; createdAt: string } | undefined> {
      return store.get<{ signature: string; createdAt: string }>(
        'SELECT signature, created_at AS "createdAt" FROM quality_references WHERE camera_id = ?',
        [cameraId],
      );
    },

    /** One diagnosis: the check, its thumbnail, the point's current state (and its first reference). */
    async record(input: {
      camera: SweepTarget;
      sweepId: number | null;
      at: string;
      status: CheckStatus;
      kinds: QualityKind[];
      reason: QualityReason | null;
      measures: Record<string, number | null> | null;
      ms: number;
      thumbnail: Buffer | null;
      signature: string | null;
      takeReference: boolean;
    }): Promise<number> {
      return store.transaction(async () => {
        const id = await store.insert(
          `INSERT INTO quality_checks (camera_id, org_path, network_id, sweep_id, at, status, kinds, reason, measures, ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            input.camera.id,
            input.camera.orgPath,
            input.camera.networkId,
            input.sweepId,
            input.at,
            input.status,
            input.kinds.join(','),
            input.reason,
            input.measures ? JSON.stringify(input.measures) : null,
            Math.round(input.ms),
          ],
        );
        if (input.thumbnail)
          await store.run('INSERT INTO quality_thumbnails (check_id, jpeg) VALUES (?, ?)', [id, input.thumbnail]);
        await store.run(
          `INSERT INTO quality_state (camera_id, status, kinds, reason, checked_at, last_check_id, last_signature)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (camera_id) DO UPDATE SET status = excluded.status, kinds = excluded.kinds, reason = excluded.reason,
             checked_at = excluded.checked_at, last_check_id = excluded.last_check_id, last_signature = excluded.last_signature`,
          [input.camera.id, input.status, input.kinds.join(','), input.reason, input.at, id, input.signature],
        );
        if (input.takeReference && input.signature)
          await store.run(
            `INSERT INTO quality_references (camera_id, signature, check_id, jpeg, created_at, created_by)
             VALUES (?, ?, ?, ?, ?, 'system:quality') ON CONFLICT (camera_id) DO NOTHING`,
            [input.camera.id, input.signature, id, input.thumbnail, input.at],
          );
        return id;
      });
    },

    /**
     * The point's latest picture becomes its reference; the state loses `scene_change` (judged against the
     * old reference). Undefined when its latest check has no usable picture.
     */
    async renewReference(
      cameraId: number,
      at: string,
      by: string,
    ): Promise<{ kinds: QualityKind[]; status: CheckStatus } | undefined> {
      return store.transaction(async () => {
        const st = await store.get<{
          last_check_id: number;
          last_signature: string | null;
          kinds: string;
          status: CheckStatus;
        }>('SELECT last_check_id, last_signature, kinds, status FROM quality_state WHERE camera_id = ?', [cameraId]);
        if (!st?.last_signature) return undefined;
        const jpeg = (
          await store.get<{ jpeg: Uint8Array }>('SELECT jpeg FROM quality_thumbnails WHERE check_id = ?', [
            st.last_check_id,
          ])
        )?.jpeg;
        await store.run(
          `INSERT INTO quality_references (camera_id, signature, check_id, jpeg, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (camera_id) DO UPDATE SET signature = excluded.signature, check_id = excluded.check_id,
             jpeg = excluded.jpeg, created_at = excluded.created_at, created_by = excluded.created_by`,
          [cameraId, st.last_signature, st.last_check_id, jpeg ?? null, at, by],
        );
        const kinds = kindsOf(st.kinds).filter((k) => k !== 'scene_change');
        const status: CheckStatus = st.status === 'faulty' && kinds.length === 0 ? 'good' : st.status;
        await store.run('UPDATE quality_state SET kinds = ?, status = ? WHERE camera_id = ?', [
          kinds.join(','),
          status,
          cameraId,
        ]);
        return { kinds, status };
      });
    },

    /** Points in scope with their quality beside their online status. */
    async points(
      scope: Scope,
      f: { orgPath?: string; networkId?: string; quality?: string; kind?: QualityKind },
      afterId: number,
      limit: number,
    ): Promise<QualityStateRow[]> {
      const [lo, hi] = pathRange(f.orgPath ?? scope.path);
      const [slo, shi] = pathRange(scope.path);
      const where = ['c.org_path >= ?', 'c.org_path < ?', 'c.org_path >= ?', 'c.org_path < ?', 'c.id > ?'];
      const params: (string | number)[] = [lo, hi, slo, shi, afterId];
      if (f.networkId) {
        where.push('c.network_id = ?');
        params.push(f.networkId);
      }
      if (f.quality === 'unknown') where.push('s.camera_id IS NULL');
      else if (f.quality) {
        where.push('s.status = ?');
        params.push(f.quality);
      }
      if (f.kind) {
        where.push("(',' || s.kinds || ',') LIKE ?");
        params.push(`%,${f.kind},%`);
      }
      params.push(limit);
      return (
        await store.all<{
          id: number;
          name: string;
          network_id: string;
          org_unit_id: number;
          org_path: string;
          online: CameraStatus;
          status: CheckStatus | null;
          kinds: string | null;
          reason: QualityReason | null;
          checked_at: string | null;
          last_check_id: number | null;
          thumb: number;
          ref_at: string | null;
          ref_by: string | null;
        }>(
          `SELECT c.id, c.name, c.network_id, c.org_unit_id, c.org_path, c.status AS online,
             s.status, s.kinds, s.reason, s.checked_at, s.last_check_id,
             EXISTS (SELECT 1 FROM quality_thumbnails t WHERE t.check_id = s.last_check_id) AS thumb,
             r.created_at AS ref_at, r.created_by AS ref_by
           FROM camera_points c
           LEFT JOIN quality_state s ON s.camera_id = c.id
           LEFT JOIN quality_references r ON r.camera_id = c.id
           WHERE ${where.join(' AND ')} ORDER BY c.id LIMIT ?`,
          params,
        )
      ).map((r) => ({
        cameraId: r.id,
        name: r.name,
        networkId: r.network_id,
        orgUnitId: r.org_unit_id,
        orgPath: r.org_path,
        online: r.online,
        status: r.status,
        kinds: kindsOf(r.kinds),
        reason: r.reason,
        checkedAt: r.checked_at,
        lastCheckId: r.last_check_id,
        hasThumbnail: Number(r.thumb) === 1,
        referenceAt: r.ref_at,
        referenceBy: r.ref_by,
      }));
    },

    /** A point's checks, newest first, in scope. */
    async history(scope: Scope, cameraId: number, limit: number): Promise<QualityCheck[]> {
      const [lo, hi] = pathRange(scope.path);
      return (
        await store.all<CheckRow>(
          `SELECT ${CHECK_COLUMNS} FROM quality_checks q
           WHERE q.camera_id = ? AND q.org_path >= ? AND q.org_path < ? ORDER BY q.id DESC LIMIT ?`,
          [cameraId, lo, hi, limit],
        )
      ).map(toCheck);
    },

    /** A check's thumbnail, when the check is in scope. */
    async thumbnail(scope: Scope, checkId: number): Promise<Buffer | undefined> {
      const [lo, hi] = pathRange(scope.path);
      const r = await store.get<{ jpeg: Uint8Array }>(
        `SELECT t.jpeg FROM quality_thumbnails t JOIN quality_checks q ON q.id = t.check_id
         WHERE t.check_id = ? AND q.org_path >= ? AND q.org_path < ?`,
        [checkId, lo, hi],
      );
      return r ? Buffer.from(r.jpeg) : undefined;
    },

    /** A point's reference picture, when the point is in scope. */
    async referenceJpeg(scope: Scope, cameraId: number): Promise<Buffer | undefined> {
      const [lo, hi] = pathRange(scope.path);
      const r = await store.get<{ jpeg: Uint8Array | null }>(
        `SELECT r.jpeg FROM quality_references r JOIN camera_points c ON c.id = r.camera_id
         WHERE r.camera_id = ? AND c.org_path >= ? AND c.org_path < ?`,
        [cameraId, lo, hi],
      );
      return r?.jpeg ? Buffer.from(r.jpeg) : undefined;
    },

    /** Counts for 完好率 in scope: per network and org unit (not rolled up). */
    async intactCounts(scope: Scope): Promise<
      {
        networkId: string;
        orgUnitId: number;
        orgPath: string;
        total: number;
        online: number;
        intact: number;
        faulty: number;
      }[]
    > {
      const [lo, hi] = pathRange(scope.path);
      return store.all(
        `SELECT c.network_id AS "networkId", c.org_unit_id AS "orgUnitId", c.org_path AS "orgPath", COUNT(*) AS total,
           SUM(CASE WHEN c.status = 'online' THEN 1 ELSE 0 END) AS online,
           SUM(CASE WHEN c.status = 'online' AND s.status = 'good' THEN 1 ELSE 0 END) AS intact,
           SUM(CASE WHEN s.status = 'faulty' THEN 1 ELSE 0 END) AS faulty
         FROM camera_points c LEFT JOIN quality_state s ON s.camera_id = c.id
         WHERE c.org_path >= ? AND c.org_path < ? GROUP BY c.network_id, c.org_unit_id, c.org_path`,
        [lo, hi],
      );
    },

    /** Current fault kinds in scope, one row per point with a fault. */
    async currentKinds(
      scope: Scope,
    ): Promise<{ orgUnitId: number; orgPath: string; networkId: string; kinds: QualityKind[] }[]> {
      const [lo, hi] = pathRange(scope.path);
      return (
        await store.all<{ org_unit_id: number; org_path: string; network_id: string; kinds: string }>(
          `SELECT c.org_unit_id, c.org_path, c.network_id, s.kinds FROM camera_points c JOIN quality_state s ON s.camera_id = c.id
           WHERE c.org_path >= ? AND c.org_path < ? AND s.status = 'faulty'`,
          [lo, hi],
        )
      ).map((r) => ({
        orgUnitId: r.org_unit_id,
        orgPath: r.org_path,
        networkId: r.network_id,
        kinds: kindsOf(r.kinds),
      }));
    },

    /** Writes (replaces) one day's snapshot rows. */
    async putDaily(day: string, rows: Omit<DailyRow, 'day'>[], orgUnitOf: (path: string) => number): Promise<void> {
      await store.transaction(async () => {
        await store.run('DELETE FROM quality_daily WHERE day = ?', [day]);
        for (const r of rows)
          await store.run(
            `INSERT INTO quality_daily (day, org_unit_id, org_path, network_id, total, online, intact, faults)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
            [day, orgUnitOf(r.orgPath), r.orgPath, r.networkId, r.total, r.online, r.intact, JSON.stringify(r.faults)],
          );
      });
    },

    async hasDaily(day: string): Promise<boolean> {
      return !!(await store.get('SELECT 1 AS x FROM quality_daily WHERE day = ? LIMIT 1', [day]));
    },

    /** Daily snapshot sums in a subtree (and network) for days in [fromDay, toDay). */
    async daily(
      path: string,
      networkId: string | null,
      fromDay: string,
      toDay: string,
    ): Promise<{ day: string; orgPath: string; total: number; online: number; intact: number }[]> {
      const [lo, hi] = pathRange(path);
      return store.all(
        `SELECT day, org_path AS "orgPath", SUM(total) AS total, SUM(online) AS online, SUM(intact) AS intact
         FROM quality_daily WHERE org_path >= ? AND org_path < ? AND day >= ? AND day < ? ${networkId ? 'AND network_id = ?' : ''}
         GROUP BY day, org_path ORDER BY day`,
        networkId ? [lo, hi, fromDay, toDay, networkId] : [lo, hi, fromDay, toDay],
      );
    },

    /** Points found with each kind in [fromIso, toIso), by org path (distinct points). */
    async faultyPoints(
      path: string,
      fromIso: string,
      toIso: string,
    ): Promise<{ cameraId: number; orgPath: string; kinds: string }[]> {
      const [lo, hi] = pathRange(path);
      return store.all(
        `SELECT camera_id AS "cameraId", org_path AS "orgPath", kinds FROM quality_checks
         WHERE org_path >= ? AND org_path < ? AND at >= ? AND at < ? AND status = 'faulty'`,
        [lo, hi, fromIso, toIso],
      );
    },

    // ---- sweeps
    async createSweep(s: {
      orgUnitId: number;
      orgPath: string;
      networkId: string | null;
      trigger: 'schedule' | 'manual';
      localDate: string;
      total: number;
      requestedBy: number | null;
      at: string;
    }): Promise<SweepRow> {
      const id = await store.insert(
        `INSERT INTO quality_sweeps (org_unit_id, org_path, network_id, trigger, status, local_date, total, requested_by, started_at)
         VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)`,
        [s.orgUnitId, s.orgPath, s.networkId, s.trigger, s.localDate, s.total, s.requestedBy, s.at],
      );
      return (await this.sweep(id))!;
    },

    async sweep(id: number): Promise<SweepRow | undefined> {
      const r = await store.get<SweepDbRow>('SELECT * FROM quality_sweeps WHERE id = ?', [id]);
      return r ? toSweep(r) : undefined;
    },

    /** Sweeps whose unit is in scope, newest first. */
    async sweeps(scope: Scope, limit: number): Promise<SweepRow[]> {
      const [lo, hi] = pathRange(scope.path);
      return (
        await store.all<SweepDbRow>(
          'SELECT * FROM quality_sweeps WHERE org_path >= ? AND org_path < ? ORDER BY id DESC LIMIT ?',
          [lo, hi, limit],
        )
      ).map(toSweep);
    },

    /** The scheduled sweep of a local date (running, paused or done), if any. */
    async scheduledOn(localDate: string): Promise<SweepRow | undefined> {
      const r = await store.get<SweepDbRow>(
        "SELECT * FROM quality_sweeps WHERE trigger = 'schedule' AND local_date = ? ORDER BY id DESC LIMIT 1",
        [localDate],
      );
      return r ? toSweep(r) : undefined;
    },

    /** The newest scheduled sweep left paused (its window ended), to go on with. */
    async pausedScheduled(): Promise<SweepRow | undefined> {
      const r = await store.get<SweepDbRow>(
        "SELECT * FROM quality_sweeps WHERE trigger = 'schedule' AND status IN ('paused', 'running') ORDER BY id DESC LIMIT 1",
      );
      return r ? toSweep(r) : undefined;
    },

    async progress(
      id: number,
      p: { checked: number; good: number; faulty: number; failed: number; afterId: number; cpuMs: number },
    ): Promise<void> {
      await store.run(
        'UPDATE quality_sweeps SET checked = ?, good = ?, faulty = ?, failed = ?, after_id = ?, cpu_ms = ? WHERE id = ?',
        [p.checked, p.good, p.faulty, p.failed, p.afterId, Math.round(p.cpuMs), id],
      );
    },

    async finishSweep(id: number, status: SweepRow['status'], at: string | null): Promise<void> {
      await store.run('UPDATE quality_sweeps SET status = ?, finished_at = ? WHERE id = ?', [status, at, id]);
    },

    /** Checks older than `historyBefore` go; thumbnails older than `thumbsBefore` too, except each point's latest. */
    async prune(historyBefore: string, thumbsBefore: string): Promise<void> {
      await store.run(
        `DELETE FROM quality_thumbnails WHERE check_id IN (SELECT id FROM quality_checks WHERE at < ?)
           AND check_id NOT IN (SELECT last_check_id FROM quality_state)`,
        [thumbsBefore],
      );
      await store.run(
        'DELETE FROM quality_checks WHERE at < ? AND id NOT IN (SELECT last_check_id FROM quality_state)',
        [historyBefore],
      );
    },
  };
}

export type QualityRepo = ReturnType<typeof createQualityRepo>;
