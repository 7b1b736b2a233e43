/**
 * 录像回放, the keeping side (issue 14): which points record (record plans), the segment index, retention and
 * the disk quota, and alert evidence clips (cut, kept while their alert or work order lives, then deleted).
 * Playing what is kept is `playback.service.ts`. No SQL here (repo.ts), no `req` (routes.ts); the media plane
 * is behind `RecordingEngine`.
 */
import type { Store } from '../db/store.ts';
import type { AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import type { CameraPoint, CameraRepo } from '../cameras/repo.ts';
import { actorOf } from '../audit/index.ts';
import { openCredentials } from '../crypto/credentials.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { EventBus } from '../events.ts';
import { HttpError, forbidden, notFound } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import type { OrgRepo } from '../org/repo.ts';
import { WHOLE_REGISTRY, inScope } from '../org/scope.ts';
import { cameraInScope, cameraOfKey, recorderKey, type RecordingConfig } from './common.ts';
import { createEvidenceClips } from './clips.ts';
import type { RecordingEngine } from './engine.ts';
import type { RecordPlan, RecordingRepo, ScheduleWindow, SegmentRow } from './repo.ts';
import type { PlanBody } from './schema.ts';

export interface RecordingDeps {
  repo: RecordingRepo;
  cameras: CameraRepo;
  orgs: OrgRepo;
  secrets: SecretBox;
  audit: AuditLog;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  config: RecordingConfig;
  utcOffsetMinutes: number;
  engine: RecordingEngine | null;
  /** A plan written and its audit entry in one transaction (issue 13: both or neither). */
  store: Pick<Store, 'transaction'>;
}

/** The recording disk as an admin sees it. */
export interface RecordingStatus {
  state: 'ok' | 'warning' | 'full' | 'off';
  reason: string | null;
  usedBytes: number;
  quotaBytes: number;
  freeBytes: number | null;
  recording: number;
  segments: number;
}

/** Whether local time `ms` (UTC offset applied) falls in one of the weekly windows. */
export function inSchedule(windows: readonly ScheduleWindow[], ms: number, utcOffsetMinutes: number): boolean {
  const local = new Date(ms + utcOffsetMinutes * 60_000);
  const day = ((local.getUTCDay() + 6) % 7) + 1;
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  const min = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3));
  return windows.some((w) => w.day === day && minute >= min(w.from) && minute < min(w.to));
}

export function createRecordingService(deps: RecordingDeps) {
  const { repo, cameras, orgs, secrets, audit, bus, clock, log, config, engine } = deps;
  const atomically = <T>(fn: () => Promise<T>): Promise<T> => deps.store.transaction(fn);
  const nowMs = () => clock.now().getTime();
  const quotaBytes = config.quotaGb * 1024 ** 3;
  const status: RecordingStatus = {
    state: engine && config.enabled ? 'ok' : 'off',
    reason: engine && config.enabled ? null : 'recording is not configured on this server',
    usedBytes: 0,
    quotaBytes,
    freeBytes: null,
    recording: 0,
    segments: 0,
  };
  let timer: NodeJS.Timeout | undefined;
  let passing: Promise<void> | undefined;
  let stopped = false;
  const offs: Array<() => void> = [];
  const clips = createEvidenceClips(deps);

  /** The plan a point follows: its own, else the nearest unit above it that has one. */
  function effectivePlan(c: Pick<CameraPoint, 'id' | 'orgPath'>, plans: RecordPlan[]): RecordPlan | undefined {
    const own = plans.find((p) => p.cameraId === c.id);
    if (own) return own;
    let best: RecordPlan | undefined;
    for (const p of plans) {
      if (p.orgUnitId === null || !c.orgPath.startsWith(p.orgPath)) continue;
      if (!best || p.orgPath.length > best.orgPath.length) best = p;
    }
    return best;
  }

  /** Every point with an enabled plan, and the plan it follows. */
  async function plannedPoints(): Promise<Map<number, { camera: CameraPoint; plan: RecordPlan }>> {
    const plans = await repo.allEnabled();
    const out = new Map<number, { camera: CameraPoint; plan: RecordPlan }>();
    const candidates = new Map<number, CameraPoint>();
    for (const p of plans) {
      if (p.cameraId !== null) {
        const c = await cameras.byId(WHOLE_REGISTRY, p.cameraId);
        if (c) candidates.set(c.id, c);
      } else {
        for (const id of await repo.cameraIdsUnder(p.orgPath)) {
          const c = await cameras.byId(WHOLE_REGISTRY, id);
          if (c) candidates.set(c.id, c);
        }
      }
    }
    // A point's own plan, even disabled, overrides its unit's: look at every plan for that.
    const all = await repo.plans(WHOLE_REGISTRY);
    for (const c of candidates.values()) {
      const plan = effectivePlan(c, all);
      if (plan?.enabled) out.set(c.id, { camera: c, plan });
    }
    return out;
  }

  function wantsRecording(plan: RecordPlan, ms: number): boolean {
    if (plan.mode === 'schedule') return inSchedule(plan.schedule, ms, deps.utcOffsetMinutes);
    return true; // continuous, and alert (its rolling pre-roll)
  }

  async function applyPlans(eng: RecordingEngine): Promise<void> {
    const planned = await plannedPoints();
    const want = new Set<string>();
    if (status.state !== 'full') {
      for (const { camera, plan } of planned.values()) {
        if (!wantsRecording(plan, nowMs())) continue;
        const uri = camera.mainStreamUri ?? camera.subStreamUri;
        const opened = openCredentials(secrets, camera.credentialsSealed);
        if (!uri || !opened.ok) continue;
        want.add(recorderKey(camera.id));
        await eng
          .start(recorderKey(camera.id), {
            url: uri,
            credentials: opened.creds,
            codec: 'unknown',
            rtspTransport: camera.rtspTransport,
            ...(camera.rtspTransportSeen ? { preferTransport: camera.rtspTransportSeen } : {}),
          })
          .catch((err: unknown) => log.warn('recorder start failed', { camera: camera.id, err: String(err) }));
      }
    }
    for (const key of eng.keys()) if (!want.has(key)) await eng.stop(key);
    status.recording = eng.keys().length;
  }

  async function removeSegment(eng: RecordingEngine, s: SegmentRow): Promise<void> {
    // Index first: a crash between the two leaves a file the next recovery indexes again, never a row without file.
    await repo.deleteSegment(s.id);
    await eng
      .remove(s.path)
      .catch((err: unknown) => log.warn('segment removal failed', { path: s.path, err: String(err) }));
  }

  async function retention(eng: RecordingEngine): Promise<void> {
    const plans = await repo.plans(WHOLE_REGISTRY);
    for (const { cameraId, orgPath } of await repo.recordedCameras()) {
      const plan = effectivePlan({ id: cameraId, orgPath }, plans);
      const days = plan?.retentionDays ?? 30;
      // On-alert points keep only a rolling pre-roll (what an evidence clip needs), and what clips hold.
      const keepMs = plan?.mode === 'alert' ? (plan.preRollSeconds + 60) * 1000 : days * 86_400_000;
      for (;;) {
        const batch = await repo.expired(cameraId, nowMs() - keepMs, 500);
        for (const s of batch) await removeSegment(eng, s);
        if (batch.length < 500) break;
      }
    }
  }

  async function setState(next: RecordingStatus['state'], reason: string | null): Promise<void> {
    if (status.state === next && status.reason === reason) return;
    const was = status.state;
    status.state = next;
    status.reason = reason;
    if (next === 'full' || next === 'warning' || was === 'full') {
      log.warn('recording disk state', { state: next, reason });
      await audit.record({
        actor: { userId: null, username: 'system:recording', ip: null },
        action: 'recording.state',
        outcome: next === 'full' ? 'failed' : 'ok',
        detail: { state: next, reason },
      });
    }
  }

  /** Oldest first until under the quota; stop cleanly when the disk (or the evidence) leaves no room. */
  async function quota(eng: RecordingEngine): Promise<void> {
    let used = await repo.totalBytes();
    while (used > quotaBytes) {
      const batch = await repo.oldestUnheld(200);
      if (!batch.length) break;
      for (const s of batch) {
        if (used <= quotaBytes * 0.95) break;
        await removeSegment(eng, s);
        used -= s.bytes;
      }
      used = await repo.totalBytes();
      if (used <= quotaBytes * 0.95) break;
    }
    const free = await eng.freeBytes().catch(() => null);
    status.usedBytes = used;
    status.freeBytes = free;
    status.segments = await repo.segmentCount();
    const minFree = config.minFreeMb * 1024 * 1024;
    const warnShare = config.warnPercent / 100;
    if (free !== null && free < minFree) {
      await setState(
        'full',
        `disk full: ${Math.round(free / 1048576)} MB free, below recording.minFreeMb (${config.minFreeMb})`,
      );
    } else if (used > quotaBytes) {
      await setState('full', 'the quota is taken by evidence clips and recordings they hold');
    } else if (used >= quotaBytes * warnShare || (free !== null && free < minFree / warnShare)) {
      await setState(
        'warning',
        `recording disk nearly full: ${Math.round((used / quotaBytes) * 100)} % of the quota used`,
      );
    } else {
      await setState('ok', null);
    }
  }

  async function pass(): Promise<void> {
    const eng = engine;
    if (!eng || !config.enabled || stopped) return;
    // Released clips first: what they free counts for the quota.
    await clips.release(eng);
    await quota(eng);
    await applyPlans(eng);
    await retention(eng);
    await clips.cutDue(eng);
  }

  function runPass(): Promise<void> {
    passing ??= pass()
      .catch((err: unknown) => log.error('recording pass failed', { err: String(err) }))
      .finally(() => (passing = undefined));
    return passing;
  }

  async function indexFile(f: {
    key: string;
    rel: string;
    startMs: number;
    endMs: number;
    bytes: number;
  }): Promise<void> {
    const cameraId = cameraOfKey(f.key);
    if (cameraId === null) return;
    const c = await cameras.byId(WHOLE_REGISTRY, cameraId);
    if (!c) return;
    await repo.addSegment({
      cameraId,
      orgPath: c.orgPath,
      startMs: f.startMs,
      endMs: f.endMs,
      bytes: f.bytes,
      path: f.rel,
    });
  }

  return {
    /** Recovers what the last run left (orphans, cut segments), indexes it, then plans run every checkSeconds. */
    async start(): Promise<void> {
      if (!engine || !config.enabled) return;
      offs.push(
        engine.onSegment((f) => {
          indexFile(f).catch((err: unknown) => log.error('segment indexing failed', { path: f.rel, err: String(err) }));
        }),
      );
      offs.push(
        bus.on('alert.changed', (e) => {
          if (e.kind === 'new')
            clips
              .onAlert(engine, e.alert)
              .catch((err: unknown) => log.error('event listener failed', { err: String(err) }));
        }),
      );
      offs.push(
        bus.on('order.changed', (e) => {
          if (e.kind === 'new' && e.order.alertId !== null)
            clips
              .onOrder(e.order.alertId, e.order.id)
              .catch((err: unknown) => log.error('event listener failed', { err: String(err) }));
        }),
      );
      offs.push(
        bus.on('camera.changed', (e) => {
          // A deleted point stops recording now; a changed address restarts its recorder at the next pass.
          if (e.kind === 'deleted') void engine.stop(recorderKey(e.camera.id));
          else void runPass();
        }),
      );
      const r = await engine.recover();
      for (const f of r.segments) await indexFile(f);
      await clips.removeOrphans(engine);
      if (r.repaired || r.dropped || r.killed)
        log.info('recordings recovered', { repaired: r.repaired, dropped: r.dropped, killed: r.killed });
      await runPass();
      timer = setInterval(() => void runPass(), config.checkSeconds * 1000);
      timer.unref();
    },

    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      for (const off of offs.splice(0)) off();
      if (passing) await passing;
      await engine?.close();
    },

    /** Runs one plan/retention/quota/clip pass now (tests, and after a plan changes). */
    pass: runPass,

    status(): RecordingStatus {
      return { ...status };
    },

    plans(ctx: AuthContext): Promise<RecordPlan[]> {
      return repo.plans(ctx.scope);
    },

    async putPlan(ctx: AuthContext, ip: string | null, body: PlanBody): Promise<RecordPlan> {
      if ((body.cameraId === undefined) === (body.orgUnitId === undefined)) {
        throw new HttpError(400, 'validation_failed', 'cameraId: give a cameraId or an orgUnitId, not both', [
          { path: 'cameraId', message: 'give a cameraId or an orgUnitId, not both' },
        ]);
      }
      if (body.mode === 'schedule' && body.schedule.length === 0) {
        throw new HttpError(400, 'validation_failed', 'schedule: at least 1 items', [
          { path: 'schedule', message: 'at least 1 items' },
        ]);
      }
      let orgPath: string;
      if (body.cameraId !== undefined) {
        orgPath = (await cameraInScope(cameras, ctx, body.cameraId)).orgPath;
      } else {
        const u = orgs.byId(body.orgUnitId!);
        if (!u || !inScope(ctx.scope, u.path))
          throw forbidden('orgUnitId: outside your jurisdiction', [
            { path: 'orgUnitId', message: 'outside your jurisdiction' },
          ]);
        orgPath = u.path;
      }
      const plan = await atomically(async () => {
        const plan = await repo.upsertPlan(
          {
            cameraId: body.cameraId ?? null,
            orgUnitId: body.orgUnitId ?? null,
            orgPath,
            mode: body.mode,
            schedule: body.schedule,
            preRollSeconds: body.preRollSeconds,
            retentionDays: body.retentionDays,
            enabled: body.enabled,
            createdBy: ctx.user.username,
          },
          clock.now().toISOString(),
        );
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'recording.plan',
          targetType: body.cameraId !== undefined ? 'camera' : 'org_unit',
          targetId: body.cameraId ?? body.orgUnitId!,
          outcome: 'ok',
          detail: { mode: plan.mode, retentionDays: plan.retentionDays, enabled: plan.enabled },
        });
        return plan;
      });
      void runPass();
      return plan;
    },

    async deletePlan(ctx: AuthContext, ip: string | null, id: number): Promise<void> {
      const plan = await repo.plan(ctx.scope, id);
      if (!plan) throw notFound('record plan');
      await atomically(async () => {
        await repo.deletePlan(id);
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'recording.plan.delete',
          targetType: 'record_plan',
          targetId: id,
          outcome: 'ok',
        });
      });
      void runPass();
    },
  };
}

export type RecordingService = ReturnType<typeof createRecordingService>;
