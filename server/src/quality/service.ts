/**
 * 视频质量诊断: sweeps (scheduled in night windows, or asked for a unit or a network), one diagnosis per
 * point through the media plane, results with history and thumbnails, the point's quality beside its online
 * status, scoped pushes, alerts for occlusion and scene change, 完好率 and its daily snapshots for trends.
 */
import { readFileSync } from 'node:fs';
import type {
  IntactRateReport,
  IntactRateRow,
  QualityCheckView,
  QualityKind,
  QualityMeasuresView,
  QualityPointDetail,
  QualityPointView,
  QualityReason,
  QualitySweepView,
  QualityTrendPoint,
} from '../api/contract.ts';
import type { Store } from '../db/store.ts';
import { actorOf, type AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import type { NetworkRepo } from '../cameras/networks.ts';
import type { AppConfig } from '../config/schema.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { periodRange, periodStart, type Period } from '../dispatch/index.ts';
import type { EventBus } from '../events.ts';
import { HttpError, badRequest, conflict, notFound } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import type { OrgRepo, OrgUnit } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import type { DiagnosisResult, QualityThresholds, SceneSignature } from '../../../streams/src/index.ts';
import type { PictureProbe } from './probe.ts';
import type { CheckStatus, QualityRepo, QualityStateRow, SweepRow, SweepTarget } from './repo.ts';
import { windowAt } from './windows.ts';

/** Kinds after which a picture cannot serve as a point's reference scene. */
const UNUSABLE_FOR_REFERENCE: readonly QualityKind[] = ['no_signal', 'black', 'dark', 'overexposed', 'occlusion'];
/** Kinds that may raise an alert when they appear. */
const ALERTING = { occlusion: 'occlusion', scene_change: 'sceneChange' } as const;

export interface QualityAlert {
  camera: SweepTarget;
  kind: 'occlusion' | 'scene_change';
  level: 'blue' | 'yellow';
}

export interface QualityDeps {
  repo: QualityRepo;
  orgs: OrgRepo;
  networks: NetworkRepo;
  secrets: SecretBox;
  bus: EventBus;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  config: AppConfig['quality'];
  utcOffsetMinutes: number;
  /** The media plane; null: sweeps answer 503. */
  probe: PictureProbe | null;
  raiseAlert: (a: QualityAlert) => void | Promise<void>;
  /** Checks a stream address before it may reach ffmpeg. */
  validateUrl: (url: string) => { ok: true; url: string } | { ok: false; reason: string };
  /** A change and its audit entry in one transaction (issue 13: both or neither). */
  store: Pick<Store, 'transaction'>;
}

/** CPU of this process and its reaped children (ffmpeg), ms: /proc/self/stat utime stime cutime cstime. */
function cpuMsNow(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
}

const round = (n: number | null | undefined, d = 3) =>
  n === null || n === undefined || Number.isNaN(n) ? null : Math.round(n * 10 ** d) / 10 ** d;

function measuresView(r: DiagnosisResult): QualityMeasuresView | null {
  const m = r.measures;
  if (!m) return null;
  return {
    lumaP50: m.lumaP50,
    lumaP90: m.lumaP90,
    brightShare: round(m.brightShare)!,
    blur: round(m.blur),
    noise: round(m.noise),
    castFactor: round(m.castFactor)!,
    castDistance: round(m.castDistance, 1)!,
    uniformShare: round(m.uniformShare)!,
    motion: round(m.motion),
    sceneDifference: round(m.sceneDifference),
  };
}

function sweepView(s: SweepRow): QualitySweepView {
  return {
    id: s.id,
    orgUnitId: s.orgUnitId,
    networkId: s.networkId,
    trigger: s.trigger,
    status: s.status,
    total: s.total,
    checked: s.checked,
    good: s.good,
    faulty: s.faulty,
    failed: s.failed,
    cpuSecondsPerPoint: s.checked > 0 ? Math.round((s.cpuMs / s.checked) * 10) / 10_000 : null,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
  };
}

export function createQualityService(deps: QualityDeps) {
  const { repo, orgs, networks, secrets, bus, audit, clock, log, config } = deps;
  const atomically = <T>(fn: () => Promise<T>): Promise<T> => deps.store.transaction(fn);
  const off = deps.utcOffsetMinutes;
  let running: { sweep: SweepRow; stop: boolean; done: Promise<void> } | null = null;
  /** A sweep being created (between the check for `running` and `run()`): a second one must wait or refuse. */
  let starting: Promise<unknown> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let lastSnapshot = 0;
  let stopped = false;
  /** Relays playing now, from `stream.state` (the sweep yields to them). */
  const live = new Set<string>();
  const offs = [
    bus.on('stream.state', ({ event }) => {
      const key = `${event.cameraId}/${event.quality}`;
      if (event.state === 'stopped' || event.state === 'error') live.delete(key);
      else live.add(key);
    }),
  ];

  const nowIso = () => clock.now().toISOString();
  const localDay = (t = clock.now().getTime()) => new Date(t + off * 60_000).toISOString().slice(0, 10);
  const thresholdsFor = (networkId: string): QualityThresholds => ({
    ...config.thresholds,
    ...config.networkThresholds[networkId],
  });
  /** Slots a sweep may use now: fewer while live video plays. */
  const allowed = () =>
    config.relaysPerSlot > 0
      ? Math.max(1, config.concurrency - Math.floor(live.size / config.relaysPerSlot))
      : config.concurrency;

  function unitName(id: number): string {
    return orgs.byId(id)?.name ?? '';
  }

  function pointView(r: QualityStateRow): QualityPointView {
    return {
      cameraId: r.cameraId,
      name: r.name,
      networkId: r.networkId,
      orgUnitId: r.orgUnitId,
      orgUnitName: unitName(r.orgUnitId),
      online: r.online,
      quality: r.status ?? 'unknown',
      kinds: r.kinds,
      reason: r.reason,
      checkedAt: r.checkedAt,
      lastCheckId: r.lastCheckId,
      hasThumbnail: r.hasThumbnail,
      referenceAt: r.referenceAt,
    };
  }

  /** Diagnoses one point and records it; returns its status. */
  async function checkOne(t: SweepTarget, sweepId: number | null): Promise<CheckStatus> {
    const prev = await repo.state(t.id);
    const ref = await repo.reference(t.id);
    const reference = ref ? (JSON.parse(ref.signature) as SceneSignature) : null;
    let result: DiagnosisResult | null = null;
    let status: CheckStatus;
    let kinds: QualityKind[];
    let reason: QualityReason | null = null;
    const uri = t.subStreamUri ?? t.mainStreamUri;
    const checked = uri ? deps.validateUrl(uri) : null;
    if (!uri) {
      status = 'failed';
      kinds = [];
      reason = 'no_stream_address';
    } else if (!checked?.ok) {
      status = 'failed';
      kinds = [];
      reason = 'stream_refused';
    } else if (t.online === 'offline') {
      // Health already knows there is no video: no picture to judge, and no 15 s wait to learn it again.
      status = 'faulty';
      kinds = ['no_signal'];
      reason = 'offline';
    } else {
      let credentials: { username: string; password: string } | null = null;
      if (t.credentialsSealed) {
        try {
          credentials = JSON.parse(secrets.open(t.credentialsSealed)) as { username: string; password: string };
        } catch {
          credentials = null;
        }
      }
      result = await deps.probe!.diagnose(
        { url: checked.url, credentials },
        {
          thresholds: thresholdsFor(t.networkId),
          reference,
          timeoutMs: config.timeoutMs,
          sampleSeconds: config.sampleSeconds,
        },
      );
      status = result.status;
      kinds = result.kinds;
      reason = result.reason;
    }
    const at = nowIso();
    const usable = !!result?.signature && !kinds.some((k) => UNUSABLE_FOR_REFERENCE.includes(k));
    await repo.record({
      camera: t,
      sweepId,
      at,
      status,
      kinds,
      reason,
      measures: result ? (measuresView(result) as unknown as Record<string, number | null>) : null,
      ms: result?.ms ?? 0,
      thumbnail: result?.thumbnail ?? null,
      signature: usable && result?.signature ? JSON.stringify(result.signature) : null,
      takeReference: !ref && usable,
    });
    const changed =
      !prev || prev.status !== status || prev.kinds.join(',') !== kinds.join(',') || prev.reason !== reason;
    if (changed)
      bus.emit('quality.changed', {
        orgPath: t.orgPath,
        event: { cameraId: t.id, orgUnitId: t.orgUnitId, quality: status, kinds, reason, at },
      });
    for (const kind of ['occlusion', 'scene_change'] as const) {
      const level = config.alerts[ALERTING[kind]];
      if (level && kinds.includes(kind) && !prev?.kinds.includes(kind))
        await deps.raiseAlert({ camera: t, kind, level });
    }
    return status;
  }

  /** Runs (or resumes) a sweep until done, stopped, or `until` (the end of its window). */
  async function run(sweep: SweepRow, until: number | null): Promise<void> {
    const state = { sweep, stop: false, done: Promise.resolve() };
    let afterId = sweep.afterId;
    const tally = { checked: sweep.checked, good: sweep.good, faulty: sweep.faulty, failed: sweep.failed };
    const cpuStart = cpuMsNow() - sweep.cpuMs;
    const body = async () => {
      for (;;) {
        if (state.stop || stopped) break;
        if (until !== null && clock.now().getTime() >= until) break;
        const batch = await repo.targets(sweep.orgPath, sweep.networkId, afterId, 200);
        if (!batch.length) break;
        let next = 0;
        // Ids below this are all done (the sweep resumes after it).
        const inFlight = new Set<number>();
        const worker = async (slot: number) => {
          while (!state.stop && !stopped) {
            if (until !== null && clock.now().getTime() >= until) return;
            if (next >= batch.length) return;
            if (slot >= allowed()) {
              // Yielding to live video: this slot waits while relays play (and ends with the batch).
              await new Promise((r) => setTimeout(r, 500));
              continue;
            }
            const t = batch[next++];
            if (!t) return;
            inFlight.add(t.id);
            try {
              const s = await checkOne(t, sweep.id);
              tally.checked++;
              tally[s]++;
            } catch (err) {
              log.warn('quality check failed', { camera: t.id, err: String(err) });
              tally.checked++;
              tally.failed++;
            }
            inFlight.delete(t.id);
            const pending = [...inFlight];
            const doneUpTo = pending.length ? Math.min(...pending) - 1 : t.id;
            afterId = Math.max(afterId, Math.min(doneUpTo, t.id));
            await repo.progress(sweep.id, { ...tally, afterId, cpuMs: cpuMsNow() - cpuStart });
          }
        };
        await Promise.all(Array.from({ length: Math.min(config.concurrency, batch.length) }, (_, i) => worker(i)));
        if (next >= batch.length) afterId = Math.max(afterId, batch[batch.length - 1]!.id);
        await repo.progress(sweep.id, { ...tally, afterId, cpuMs: cpuMsNow() - cpuStart });
      }
      const finished = !state.stop && !stopped && !(until !== null && clock.now().getTime() >= until);
      await repo.finishSweep(
        sweep.id,
        finished ? 'done' : state.stop ? 'cancelled' : 'paused',
        finished || state.stop ? nowIso() : null,
      );
      await snapshot();
      await prune();
    };
    state.done = body()
      .catch(async (err: unknown) => {
        log.error('quality sweep failed', { sweep: sweep.id, err: String(err) });
        await repo.finishSweep(sweep.id, 'failed', nowIso());
      })
      .finally(() => {
        if (running === state) running = null;
      });
    running = state;
    return state.done;
  }

  /** Today's 完好率 counts per org unit and network, written as the day's snapshot. */
  async function snapshot(): Promise<void> {
    const day = localDay();
    const counts = await repo.intactCounts({ orgUnitId: 0, path: '/' });
    const kinds = await repo.currentKinds({ orgUnitId: 0, path: '/' });
    const faults = new Map<string, Partial<Record<QualityKind, number>>>();
    for (const k of kinds) {
      const key = `${k.orgPath}|${k.networkId}`;
      const f = faults.get(key) ?? {};
      for (const kind of k.kinds) f[kind] = (f[kind] ?? 0) + 1;
      faults.set(key, f);
    }
    await repo.putDaily(
      day,
      counts.map((c) => ({
        orgPath: c.orgPath,
        networkId: c.networkId,
        total: c.total,
        online: c.online,
        intact: c.intact,
        faults: faults.get(`${c.orgPath}|${c.networkId}`) ?? {},
      })),
      (path) => Number(path.split('/').filter(Boolean).at(-1)),
    );
    lastSnapshot = clock.now().getTime();
  }

  async function prune(): Promise<void> {
    const now = clock.now().getTime();
    await repo.prune(
      new Date(now - config.historyDays * 86_400_000).toISOString(),
      new Date(now - config.thumbnailDays * 86_400_000).toISOString(),
    );
  }

  function rootUnit(): OrgUnit | undefined {
    return orgs.all().find((u) => u.parentId === null);
  }

  /**
   * Runs `begin` (which ends by calling `run()`, or decides not to) with `starting` held, so that no second
   * sweep starts while it awaits the database. `begin` resolves with no promise of the sweep's end (a wrapper
   * at most), so this resolves as soon as the sweep is `running`.
   */
  async function exclusively<T extends object | undefined>(begin: () => Promise<T>): Promise<T> {
    const p = begin();
    starting = p;
    try {
      return await p;
    } finally {
      if (starting === p) starting = null;
    }
  }

  /**
   * The scheduler's look: resume a paused nightly sweep or start today's, inside a window; refresh today's
   * snapshot. Resolves when the sweep it started (if any) has ended.
   */
  async function tick(): Promise<void> {
    const now = clock.now().getTime();
    if (now - lastSnapshot > 3600_000) await snapshot();
    if (!config.enabled || running || starting || stopped || !deps.probe) return;
    const w = windowAt(now, off, config.windows);
    if (!w) return;
    const started = await exclusively(async () => {
      const paused = await repo.pausedScheduled();
      if (paused && paused.localDate === w.localDate) {
        await repo.finishSweep(paused.id, 'running', null);
        return { done: run({ ...paused, status: 'running' }, w.endsAt) };
      }
      if (paused) await repo.finishSweep(paused.id, 'cancelled', nowIso());
      if (await repo.scheduledOn(w.localDate)) return undefined;
      const root = rootUnit();
      if (!root) return undefined;
      const sweep = await repo.createSweep({
        orgUnitId: root.id,
        orgPath: root.path,
        networkId: null,
        trigger: 'schedule',
        localDate: w.localDate,
        total: await repo.countTargets(root.path, null),
        requestedBy: null,
        at: nowIso(),
      });
      return { done: run(sweep, w.endsAt) };
    });
    await started?.done;
  }

  function rateRow(key: string, name: string): IntactRateRow {
    return { key, name, total: 0, online: 0, intact: 0, faulty: 0, onlineRate: null, intactRate: null };
  }

  function unitInScope(ctx: AuthContext, id: number | undefined, field: string): OrgUnit {
    const u = orgs.byId(id ?? ctx.orgUnit.id);
    if (!u || !inScope(ctx.scope, u.path)) {
      if (id === undefined) throw notFound('org unit');
      throw new HttpError(403, 'forbidden', `${field}: org unit is not in your jurisdiction`, [
        { path: field, message: 'org unit is not in your jurisdiction' },
      ]);
    }
    return u;
  }

  return {
    checkOne,
    snapshot,
    tick,
    /** Resolves once the running sweep (if any) has ended. */
    async settled(): Promise<void> {
      await running?.done;
    },
    liveRelays: () => live.size,

    /** POST /quality/sweeps: a unit of the caller's jurisdiction (a township), optionally one network. */
    async startSweep(
      ctx: AuthContext,
      ip: string | null,
      body: { orgUnitId?: number; networkId?: string },
    ): Promise<QualitySweepView> {
      if (!deps.probe) throw new HttpError(503, 'diagnosis_unavailable', 'picture diagnosis is not configured');
      const u = unitInScope(ctx, body.orgUnitId, 'orgUnitId');
      if (body.networkId && !networks.all().some((n) => n.id === body.networkId))
        throw badRequest([{ path: 'networkId', message: `unknown network "${body.networkId}"` }]);
      if (running || starting) throw conflict('a diagnosis sweep is running; wait for it to finish');
      const { sweep } = await exclusively(async () => {
        const sweep = await atomically(async () => {
          const sweep = await repo.createSweep({
            orgUnitId: u.id,
            orgPath: u.path,
            networkId: body.networkId ?? null,
            trigger: 'manual',
            localDate: localDay(),
            total: await repo.countTargets(u.path, body.networkId ?? null),
            requestedBy: ctx.user.id,
            at: nowIso(),
          });
          await audit.record({
            actor: actorOf(ctx, ip),
            action: 'quality.sweep',
            targetType: 'org_unit',
            targetId: String(u.id),
            outcome: 'ok',
            detail: { sweepId: sweep.id, networkId: body.networkId ?? null, points: sweep.total },
          });
          return sweep;
        });
        void run(sweep, null);
        return { sweep };
      });
      return sweepView(sweep);
    },

    async sweeps(ctx: AuthContext): Promise<QualitySweepView[]> {
      return (await repo.sweeps(ctx.scope, 20)).map(sweepView);
    },

    async points(
      ctx: AuthContext,
      q: {
        org?: number | undefined;
        network?: string | undefined;
        quality?: string | undefined;
        kind?: QualityKind | undefined;
        limit: number;
        cursor?: number | undefined;
      },
    ): Promise<{ items: QualityPointView[]; nextCursor: string | null }> {
      const orgPath = q.org === undefined ? undefined : unitInScope(ctx, q.org, 'org').path;
      const rows = await repo.points(
        ctx.scope,
        {
          ...(orgPath ? { orgPath } : {}),
          ...(q.network ? { networkId: q.network } : {}),
          ...(q.quality ? { quality: q.quality } : {}),
          ...(q.kind ? { kind: q.kind } : {}),
        },
        q.cursor ?? 0,
        q.limit + 1,
      );
      const items = rows.slice(0, q.limit).map(pointView);
      return { items, nextCursor: rows.length > q.limit ? String(items.at(-1)!.cameraId) : null };
    },

    async point(ctx: AuthContext, cameraId: number): Promise<QualityPointDetail> {
      const row = (await repo.points(ctx.scope, {}, cameraId - 1, 1))[0];
      if (!row || row.cameraId !== cameraId) throw notFound('camera');
      const history: QualityCheckView[] = (await repo.history(ctx.scope, cameraId, 60)).map((c) => ({
        id: c.id,
        cameraId: c.cameraId,
        at: c.at,
        status: c.status,
        kinds: c.kinds,
        reason: c.reason,
        measures: c.measures as unknown as QualityMeasuresView | null,
        hasThumbnail: c.hasThumbnail,
        sweepId: c.sweepId,
      }));
      return { ...pointView(row), history, referenceBy: row.referenceBy };
    },

    /** The point's latest picture becomes its reference (a technician saw it turned for good). */
    async renewReference(ctx: AuthContext, ip: string | null, cameraId: number): Promise<QualityPointDetail> {
      const row = (await repo.points(ctx.scope, {}, cameraId - 1, 1))[0];
      if (!row || row.cameraId !== cameraId) throw notFound('camera');
      const renewed = await atomically(async () => {
        const renewed = await repo.renewReference(cameraId, nowIso(), ctx.user.username);
        if (!renewed) throw conflict('the point has no usable picture yet; diagnose it first');
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'quality.reference',
          targetType: 'camera',
          targetId: String(cameraId),
          outcome: 'ok',
        });
        return renewed;
      });
      if (row.kinds.join(',') !== renewed.kinds.join(','))
        bus.emit('quality.changed', {
          orgPath: row.orgPath,
          event: {
            cameraId,
            orgUnitId: row.orgUnitId,
            quality: renewed.status,
            kinds: renewed.kinds,
            reason: row.reason,
            at: nowIso(),
          },
        });
      return this.point(ctx, cameraId);
    },

    async thumbnail(ctx: AuthContext, checkId: number): Promise<Buffer> {
      const jpeg = await repo.thumbnail(ctx.scope, checkId);
      if (!jpeg) throw notFound('thumbnail');
      return jpeg;
    },

    async referenceJpeg(ctx: AuthContext, cameraId: number): Promise<Buffer> {
      const jpeg = await repo.referenceJpeg(ctx.scope, cameraId);
      if (!jpeg) throw notFound('reference picture');
      return jpeg;
    },

    /** 完好率 beside 在线率: overall, per network, per child unit of the caller's (or a lower) unit. */
    async intactRate(ctx: AuthContext, orgUnitId?: number): Promise<IntactRateReport> {
      const unit = unitInScope(ctx, orgUnitId, 'orgUnitId');
      const scope = { orgUnitId: unit.id, path: unit.path };
      const overall = rateRow('all', unit.name);
      const byNetwork = new Map(networks.all().map((n) => [n.id, rateRow(n.id, n.name)]));
      const children = orgs.all().filter((u) => u.parentId === unit.id);
      const byOrg = new Map(children.map((u) => [u.id, rateRow(String(u.id), u.name)]));
      const childOf = (path: string) => {
        const rest = path.slice(unit.path.length).split('/')[0];
        return rest ? byOrg.get(Number(rest)) : undefined;
      };
      const add = (
        r: IntactRateRow | undefined,
        c: { total: number; online: number; intact: number; faulty: number },
      ) => {
        if (!r) return;
        r.total += c.total;
        r.online += c.online;
        r.intact += c.intact;
        r.faulty += c.faulty;
      };
      for (const c of await repo.intactCounts(scope)) {
        add(overall, c);
        add(byNetwork.get(c.networkId), c);
        add(childOf(c.orgPath), c);
      }
      const faults: Partial<Record<QualityKind, number>> = {};
      for (const k of await repo.currentKinds(scope))
        for (const kind of k.kinds) faults[kind] = (faults[kind] ?? 0) + 1;
      const finish = (r: IntactRateRow): IntactRateRow => ({
        ...r,
        onlineRate: r.total ? r.online / r.total : null,
        intactRate: r.total ? r.intact / r.total : null,
      });
      return {
        at: nowIso(),
        overall: finish(overall),
        byNetwork: [...byNetwork.values()].map(finish),
        byOrg: [...byOrg.values()].map(finish),
        faults,
      };
    },

    /** Online rate and 完好率 per period from the daily snapshots (a period's rate: its days' counts summed). */
    async trend(
      ctx: AuthContext,
      q: {
        orgUnitId?: number | undefined;
        network?: string | undefined;
        period: Period;
        from?: string | undefined;
        to?: string | undefined;
      },
    ): Promise<{ orgUnitId: number; period: Period; from: string; to: string; points: QualityTrendPoint[] }> {
      const unit = unitInScope(ctx, q.orgUnitId, 'orgUnitId');
      const range = periodRange(q.period, off, clock.now(), q.from, q.to);
      if (!range.ok) throw badRequest([{ path: range.field, message: range.message }]);
      if (range.buckets > 400) throw badRequest([{ path: 'from', message: `at most 400 ${q.period} periods at once` }]);
      return {
        orgUnitId: unit.id,
        period: q.period,
        from: range.from,
        to: range.to,
        points: await this.series(unit.path, q.network ?? null, q.period, range.starts, range.to),
      };
    },

    /** The period series of a subtree (reports share it). */
    async series(
      path: string,
      networkId: string | null,
      period: Period,
      starts: string[],
      end: string,
    ): Promise<QualityTrendPoint[]> {
      const acc = new Map(starts.map((s) => [s, { days: new Set<string>(), total: 0, online: 0, intact: 0 }]));
      for (const d of await repo.daily(path, networkId, starts[0] ?? end, end)) {
        const a = acc.get(periodStart(d.day, period));
        if (!a) continue;
        a.days.add(d.day);
        a.total += d.total;
        a.online += d.online;
        a.intact += d.intact;
      }
      return starts.map((s) => {
        const a = acc.get(s)!;
        return {
          period: s,
          days: a.days.size,
          onlineRate: a.total ? a.online / a.total : null,
          intactRate: a.total ? a.intact / a.total : null,
        };
      });
    },

    /** Summed daily snapshot counts of a subtree for local days [fromDay, toDay). */
    async totals(
      path: string,
      fromDay: string,
      toDay: string,
    ): Promise<{ days: number; total: number; online: number; intact: number }> {
      const days = new Set<string>();
      const t = { days: 0, total: 0, online: 0, intact: 0 };
      for (const d of await repo.daily(path, null, fromDay, toDay)) {
        days.add(d.day);
        t.total += d.total;
        t.online += d.online;
        t.intact += d.intact;
      }
      return { ...t, days: days.size };
    },

    /** Points found with each fault kind in [fromIso, toIso), per child unit path prefix too (reports). */
    async faultsIn(
      path: string,
      fromIso: string,
      toIso: string,
    ): Promise<{ cameraId: number; orgPath: string; kinds: QualityKind[] }[]> {
      return (await repo.faultyPoints(path, fromIso, toIso)).map((r) => ({
        cameraId: r.cameraId,
        orgPath: r.orgPath,
        kinds: r.kinds.split(',') as QualityKind[],
      }));
    },

    start(): void {
      stopped = false;
      const loop = (delay: number) => {
        timer = setTimeout(() => {
          tick().catch((err: unknown) => log.error('quality scheduler failed', { err: String(err) }));
          if (!stopped) loop(60_000);
        }, delay);
        timer.unref();
      };
      loop(config.startDelaySeconds * 1000);
    },

    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (running) running.stop = true;
      if (starting) {
        // A sweep being created: it sees `stopped` at once; wait for it to be running to wait for its end.
        await starting.catch(() => undefined);
        if (running) running.stop = true;
      }
      await running?.done;
      for (const o of offs) o();
    },
  };
}

export type QualityService = ReturnType<typeof createQualityService>;
