/**
 * 录像回放 (issue 14): which points record (record plans), the segment index, retention and the disk quota,
 * playback tickets and playlists, MP4 downloads and alert evidence clips. No SQL here (repo.ts), no `req`
 * (routes.ts); the media plane is behind `RecordingEngine`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AlertView } from '../api/contract.ts';
import type { AuditLog } from '../audit/index.ts';
import { can, type AuthContext } from '../auth/index.ts';
import type { CameraPoint, CameraRepo } from '../cameras/repo.ts';
import { actorOf } from '../cameras/service.ts';
import type { AppConfig } from '../config/schema.ts';
import { openCredentials } from '../crypto/credentials.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { EventBus } from '../events.ts';
import { HttpError, forbidden, notFound } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import type { OrgRepo } from '../org/repo.ts';
import { WHOLE_REGISTRY, inScope } from '../org/scope.ts';
import { cameraRef, sameRef, sessionRef } from '../relay/tokens.ts';
import type { RecordingEngine } from './engine.ts';
import type { ClipRow, RecordPlan, RecordingRepo, ScheduleWindow, SegmentRow } from './repo.ts';
import type { PlanBody } from './schema.ts';

export type RecordingConfig = AppConfig['recording'];

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
  tokenKey: Buffer;
  ticketTtlSec: number;
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

export interface Span {
  start: string;
  end: string;
}

/** Consecutive segments closer than this are one span: file times and packet arrival jitter by a few 100 ms. */
const JOIN_MS = 1_500;
const ISO = (ms: number) => new Date(ms).toISOString();
const keyOf = (cameraId: number) => `rec:${cameraId}`;
const cameraOfKey = (key: string) => (/^rec:(\d+)$/.exec(key) ? Number(key.slice(4)) : null);
const SEGMENT_FILE = /^s(\d{1,15})\.ts$/;
const runOf = (rel: string) => rel.slice(0, rel.lastIndexOf('/'));

/** A playback grant: one session, one point as it was, one range, until `exp` (epoch seconds). */
interface PlaybackGrant {
  userId: number;
  cameraId: number;
  fromMs: number;
  toMs: number;
  exp: number;
  sessionRef: string;
  cameraRef: string;
}

function signPlayback(key: Buffer, g: PlaybackGrant): string {
  // 'rec' first: a live-stream ticket can never pass for a playback one, nor the reverse.
  const payload = Buffer.from(
    `rec.${g.userId}.${g.cameraId}.${g.fromMs}.${g.toMs}.${g.exp}.${g.sessionRef}.${g.cameraRef}`,
  ).toString('base64url');
  return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
}

function verifyPlayback(
  key: Buffer,
  token: string,
  nowSec: number,
): PlaybackGrant | 'malformed' | 'forged' | 'expired' {
  const m = /^([A-Za-z0-9_-]{4,300})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return 'malformed';
  const given = Buffer.from(m[2]!, 'base64url');
  const expected = createHmac('sha256', key).update(m[1]!).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'forged';
  const f =
    /^rec\.(\d{1,15})\.(\d{1,15})\.(\d{1,15})\.(\d{1,15})\.(\d{1,12})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{16})$/.exec(
      Buffer.from(m[1]!, 'base64url').toString('utf8'),
    );
  if (!f) return 'malformed';
  const g: PlaybackGrant = {
    userId: Number(f[1]),
    cameraId: Number(f[2]),
    fromMs: Number(f[3]),
    toMs: Number(f[4]),
    exp: Number(f[5]),
    sessionRef: f[6]!,
    cameraRef: f[7]!,
  };
  return g.exp <= nowSec ? 'expired' : g;
}

const rangeError = (field: 'from' | 'to', message: string) =>
  new HttpError(400, 'validation_failed', `${field}: ${message}`, [{ path: field, message }]);

/** Whether local time `ms` (UTC offset applied) falls in one of the weekly windows. */
export function inSchedule(windows: readonly ScheduleWindow[], ms: number, utcOffsetMinutes: number): boolean {
  const local = new Date(ms + utcOffsetMinutes * 60_000);
  const day = ((local.getUTCDay() + 6) % 7) + 1;
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  const min = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3));
  return windows.some((w) => w.day === day && minute >= min(w.from) && minute < min(w.to));
}

/** Joins segments into spans and lists the gaps between them (and at the range's ends) inside [from, to). */
export function spansOf(
  segments: ReadonlyArray<Pick<SegmentRow, 'startMs' | 'endMs'>>,
  fromMs: number,
  toMs: number,
): { spans: Span[]; gaps: Span[] } {
  const merged: Array<[number, number]> = [];
  for (const s of segments) {
    const a = Math.max(s.startMs, fromMs);
    const b = Math.min(s.endMs, toMs);
    if (b <= a) continue;
    const last = merged.at(-1);
    if (last && a - last[1] <= JOIN_MS) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  const gaps: Span[] = [];
  let at = fromMs;
  for (const [a, b] of merged) {
    if (a - at > JOIN_MS) gaps.push({ start: ISO(at), end: ISO(a) });
    at = b;
  }
  if (merged.length && toMs - at > JOIN_MS) gaps.push({ start: ISO(at), end: ISO(toMs) });
  return { spans: merged.map(([a, b]) => ({ start: ISO(a), end: ISO(b) })), gaps };
}

export function createRecordingService(deps: RecordingDeps) {
  const { repo, cameras, orgs, secrets, audit, bus, clock, log, config, engine } = deps;
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

  const requireEngine = () => {
    if (!engine || !config.enabled)
      throw new HttpError(503, 'recording_unavailable', 'recording is not configured on this server');
    return engine;
  };

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
  function plannedPoints(): Map<number, { camera: CameraPoint; plan: RecordPlan }> {
    const plans = repo.allEnabled();
    const out = new Map<number, { camera: CameraPoint; plan: RecordPlan }>();
    const candidates = new Map<number, CameraPoint>();
    for (const p of plans) {
      if (p.cameraId !== null) {
        const c = cameras.byId(WHOLE_REGISTRY, p.cameraId);
        if (c) candidates.set(c.id, c);
      } else {
        for (const id of repo.cameraIdsUnder(p.orgPath)) {
          const c = cameras.byId(WHOLE_REGISTRY, id);
          if (c) candidates.set(c.id, c);
        }
      }
    }
    // A point's own plan, even disabled, overrides its unit's: look at every plan for that.
    const all = repo.plans(WHOLE_REGISTRY);
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
    const planned = plannedPoints();
    const want = new Set<string>();
    if (status.state !== 'full') {
      for (const { camera, plan } of planned.values()) {
        if (!wantsRecording(plan, nowMs())) continue;
        const uri = camera.mainStreamUri ?? camera.subStreamUri;
        const opened = openCredentials(secrets, camera.credentialsSealed);
        if (!uri || !opened.ok) continue;
        want.add(keyOf(camera.id));
        await eng
          .start(keyOf(camera.id), {
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
    repo.deleteSegment(s.id);
    await eng
      .remove(s.path)
      .catch((err: unknown) => log.warn('segment removal failed', { path: s.path, err: String(err) }));
  }

  async function retention(eng: RecordingEngine): Promise<void> {
    const plans = repo.plans(WHOLE_REGISTRY);
    for (const { cameraId, orgPath } of repo.recordedCameras()) {
      const plan = effectivePlan({ id: cameraId, orgPath }, plans);
      const days = plan?.retentionDays ?? 30;
      // On-alert points keep only a rolling pre-roll (what an evidence clip needs), and what clips hold.
      const keepMs = plan?.mode === 'alert' ? (plan.preRollSeconds + 60) * 1000 : days * 86_400_000;
      for (;;) {
        const batch = repo.expired(cameraId, nowMs() - keepMs, 500);
        for (const s of batch) await removeSegment(eng, s);
        if (batch.length < 500) break;
      }
    }
  }

  function setState(next: RecordingStatus['state'], reason: string | null): void {
    if (status.state === next && status.reason === reason) return;
    const was = status.state;
    status.state = next;
    status.reason = reason;
    if (next === 'full' || next === 'warning' || was === 'full') {
      log.warn('recording disk state', { state: next, reason });
      audit.record({
        actor: { userId: null, username: 'system:recording', ip: null },
        action: 'recording.state',
        outcome: next === 'full' ? 'failed' : 'ok',
        detail: { state: next, reason },
      });
    }
  }

  /** Oldest first until under the quota; stop cleanly when the disk (or the evidence) leaves no room. */
  async function quota(eng: RecordingEngine): Promise<void> {
    let used = repo.totalBytes();
    while (used > quotaBytes) {
      const batch = repo.oldestUnheld(200);
      if (!batch.length) break;
      for (const s of batch) {
        if (used <= quotaBytes * 0.95) break;
        await removeSegment(eng, s);
        used -= s.bytes;
      }
      used = repo.totalBytes();
      if (used <= quotaBytes * 0.95) break;
    }
    const free = await eng.freeBytes().catch(() => null);
    status.usedBytes = used;
    status.freeBytes = free;
    status.segments = repo.segmentCount();
    const minFree = config.minFreeMb * 1024 * 1024;
    const warnShare = config.warnPercent / 100;
    if (free !== null && free < minFree) {
      setState(
        'full',
        `disk full: ${Math.round(free / 1048576)} MB free, below recording.minFreeMb (${config.minFreeMb})`,
      );
    } else if (used > quotaBytes) {
      setState('full', 'the quota is taken by evidence clips and recordings they hold');
    } else if (used >= quotaBytes * warnShare || (free !== null && free < minFree / warnShare)) {
      setState('warning', `recording disk nearly full: ${Math.round((used / quotaBytes) * 100)} % of the quota used`);
    } else {
      setState('ok', null);
    }
  }

  async function makeClips(eng: RecordingEngine): Promise<void> {
    // A clip is cut once its end is recorded: the segment holding it has closed.
    const due = repo.dueClips(nowMs() - (config.segmentSeconds + 3) * 1000);
    for (const clip of due) await makeClip(eng, clip);
  }

  async function makeClip(eng: RecordingEngine, clip: ClipRow): Promise<void> {
    const segs = repo.segments(WHOLE_REGISTRY, clip.cameraId, clip.startMs, clip.endMs);
    if (!segs.length) {
      repo.finishClip(clip.id, { status: 'failed', reason: 'no recording in this range', path: null, bytes: null });
      return;
    }
    const offset = Math.max(0, (clip.startMs - segs[0]!.startMs) / 1000);
    const duration = (clip.endMs - Math.max(clip.startMs, segs[0]!.startMs)) / 1000;
    try {
      const r = await eng.exportMp4(
        segs.map((s) => s.path),
        offset,
        duration,
        config.maxExportMb * 1024 * 1024,
        `clips/alert-${clip.alertId}-cam${clip.cameraId}.mp4`,
      );
      repo.finishClip(clip.id, {
        status: 'ready',
        reason: null,
        path: `clips/alert-${clip.alertId}-cam${clip.cameraId}.mp4`,
        bytes: r.bytes,
      });
    } catch (err) {
      repo.finishClip(clip.id, {
        status: 'failed',
        reason: String((err as Error).message ?? err),
        path: null,
        bytes: null,
      });
    }
  }

  async function pass(): Promise<void> {
    const eng = engine;
    if (!eng || !config.enabled || stopped) return;
    await quota(eng);
    await applyPlans(eng);
    await retention(eng);
    await makeClips(eng);
  }

  function runPass(): Promise<void> {
    passing ??= pass()
      .catch((err: unknown) => log.error('recording pass failed', { err: String(err) }))
      .finally(() => (passing = undefined));
    return passing;
  }

  function indexFile(f: { key: string; rel: string; startMs: number; endMs: number; bytes: number }): void {
    const cameraId = cameraOfKey(f.key);
    if (cameraId === null) return;
    const c = cameras.byId(WHOLE_REGISTRY, cameraId);
    if (!c) return;
    repo.addSegment({ cameraId, orgPath: c.orgPath, startMs: f.startMs, endMs: f.endMs, bytes: f.bytes, path: f.rel });
  }

  /** A new alert: a pending evidence clip for each of its cameras that records. */
  function onAlert(alert: AlertView): void {
    if (!engine || !config.enabled) return;
    const at = Date.parse(alert.firstAt);
    const before = config.clipBeforeSeconds[alert.level] * 1000;
    const after = config.clipAfterSeconds[alert.level] * 1000;
    const ids = [...new Set([alert.cameraId, ...alert.linkedCameraIds].filter((x): x is number => x !== null))];
    const recording = new Set(engine.keys());
    for (const id of ids.slice(0, 8)) {
      const c = cameras.byId(WHOLE_REGISTRY, id);
      if (!c) continue;
      const has = recording.has(keyOf(id)) || repo.segments(WHOLE_REGISTRY, id, at - before, at + after).length > 0;
      if (!has) continue;
      repo.addClip({
        alertId: alert.id,
        cameraId: id,
        orgPath: c.orgPath,
        startMs: at - before,
        endMs: at + after,
        createdAt: clock.now().toISOString(),
      });
    }
  }

  /** Checks a range: order, emptiness, future, length. */
  function checkRange(fromMs: number, toMs: number, maxMs: number, maxLabel: string): void {
    if (toMs === fromMs) throw rangeError('to', 'must be after from (the range is empty)');
    if (toMs < fromMs) throw rangeError('to', 'must be after from');
    if (fromMs > nowMs()) throw rangeError('from', 'must not be in the future');
    if (toMs > nowMs() + 60_000) throw rangeError('to', 'must not be in the future');
    if (toMs - fromMs > maxMs) throw rangeError('to', `at most ${maxLabel} after from`);
  }

  const maxRangeMs = () => config.maxRangeHours * 3_600_000;
  const cameraIn = (ctx: AuthContext, id: number) => {
    const c = cameras.byId(ctx.scope, id);
    if (!c) throw notFound('camera point');
    return c;
  };

  return {
    /** Recovers what the last run left (orphans, cut segments), indexes it, then plans run every checkSeconds. */
    async start(): Promise<void> {
      if (!engine || !config.enabled) return;
      offs.push(engine.onSegment(indexFile));
      offs.push(
        bus.on('alert.changed', (e) => {
          if (e.kind === 'new') onAlert(e.alert);
        }),
      );
      offs.push(
        bus.on('camera.changed', (e) => {
          // A deleted point stops recording now; a changed address restarts its recorder at the next pass.
          if (e.kind === 'deleted') void engine.stop(keyOf(e.camera.id));
          else void runPass();
        }),
      );
      const r = await engine.recover();
      for (const f of r.segments) indexFile(f);
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

    plans(ctx: AuthContext): RecordPlan[] {
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
        orgPath = cameraIn(ctx, body.cameraId).orgPath;
      } else {
        const u = orgs.byId(body.orgUnitId!);
        if (!u || !inScope(ctx.scope, u.path))
          throw forbidden('orgUnitId: outside your jurisdiction', [
            { path: 'orgUnitId', message: 'outside your jurisdiction' },
          ]);
        orgPath = u.path;
      }
      const plan = repo.upsertPlan(
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
      audit.record({
        actor: actorOf(ctx, ip),
        action: 'recording.plan',
        targetType: body.cameraId !== undefined ? 'camera' : 'org_unit',
        targetId: body.cameraId ?? body.orgUnitId!,
        outcome: 'ok',
        detail: { mode: plan.mode, retentionDays: plan.retentionDays, enabled: plan.enabled },
      });
      void runPass();
      return plan;
    },

    async deletePlan(ctx: AuthContext, ip: string | null, id: number): Promise<void> {
      const plan = repo.plan(ctx.scope, id);
      if (!plan) throw notFound('record plan');
      repo.deletePlan(id);
      audit.record({
        actor: actorOf(ctx, ip),
        action: 'recording.plan.delete',
        targetType: 'record_plan',
        targetId: id,
        outcome: 'ok',
      });
      void runPass();
    },

    /** Recorded spans and gaps of a point in [from, to); a point without recordings has none. */
    spans(ctx: AuthContext, cameraId: number, fromMs: number, toMs: number) {
      checkRange(fromMs, toMs, maxRangeMs() * 7, `${config.maxRangeHours * 7} hours`);
      const c = cameraIn(ctx, cameraId);
      const segs = repo.segments(ctx.scope, c.id, fromMs, toMs);
      const { spans, gaps } = spansOf(segs, fromMs, toMs);
      return {
        cameraId: c.id,
        from: ISO(fromMs),
        to: ISO(toMs),
        recording: engine?.keys().includes(keyOf(c.id)) ?? false,
        spans,
        gaps,
        alerts: repo.alertsOf(ctx.scope, c.id, ISO(fromMs), ISO(toMs)),
      };
    },

    /** The range rules of a playback (order, emptiness, future, length): also for a device replay. */
    checkPlaybackRange(fromMs: number, toMs: number): void {
      checkRange(fromMs, toMs, maxRangeMs(), `${config.maxRangeHours} hours`);
    },

    /** A playback ticket: an HLS VOD playlist of the range, bound to the asking session like live tickets. */
    openPlayback(ctx: AuthContext, ip: string | null, cameraId: number, fromMs: number, toMs: number) {
      checkRange(fromMs, toMs, maxRangeMs(), `${config.maxRangeHours} hours`);
      const c = cameraIn(ctx, cameraId);
      const segs = repo.segments(ctx.scope, c.id, fromMs, toMs);
      const exp = Math.floor(nowMs() / 1000) + deps.ticketTtlSec;
      const token = signPlayback(deps.tokenKey, {
        userId: ctx.user.id,
        cameraId: c.id,
        fromMs,
        toMs,
        exp,
        sessionRef: sessionRef(deps.tokenKey, ctx.tokenHash),
        cameraRef: cameraRef(deps.tokenKey, c),
      });
      audit.record({
        actor: actorOf(ctx, ip),
        action: 'recording.play',
        targetType: 'camera',
        targetId: c.id,
        outcome: 'ok',
        detail: { from: ISO(fromMs), to: ISO(toMs) },
      });
      // Where each segment sits on the player's timeline (gaps collapse there), for the timeline to map back.
      let offset = 0;
      const map = segs.map((s) => {
        const m = { startMs: s.startMs, endMs: s.endMs, offsetSec: offset };
        offset += (s.endMs - s.startMs) / 1000;
        return m;
      });
      const first = segs[0];
      return {
        cameraId: c.id,
        from: ISO(fromMs),
        to: ISO(toMs),
        playlistUrl: segs.length ? `/recordings/${token}/index.m3u8` : null,
        /** Seconds into the playlist where `from` is. */
        startOffsetSec: first ? Math.max(0, (fromMs - first.startMs) / 1000) : 0,
        segments: map,
        expiresAt: new Date(exp * 1000).toISOString(),
      };
    },

    /**
     * A playlist or segment request: the ticket's session must be the requester's own (resolved afresh), its
     * user still allowed to play recordings, the point still the same and in the user's scope.
     */
    resolveFile(
      session: AuthContext | undefined,
      token: string,
      file: string,
    ): { kind: 'playlist'; body: string } | { kind: 'segment'; path: string } {
      const g = verifyPlayback(deps.tokenKey, token, Math.floor(nowMs() / 1000));
      if (typeof g === 'string') throw new HttpError(401, `token_${g}`, `stream token ${g}; request a new one`);
      if (!session)
        throw new HttpError(401, 'session_required', 'a stream plays only for the signed-in session that asked for it');
      if (session.user.id !== g.userId || !sameRef(sessionRef(deps.tokenKey, session.tokenHash), g.sessionRef))
        throw new HttpError(403, 'ticket_not_yours', 'this stream ticket was issued to another session');
      if (!can(session.user.role, 'recording.read'))
        throw new HttpError(403, 'forbidden', 'your role may not play recordings');
      const c = cameras.byId(session.scope, g.cameraId);
      if (!c || !sameRef(cameraRef(deps.tokenKey, c), g.cameraRef)) throw notFound('camera point');
      const eng = requireEngine();
      if (file === 'index.m3u8') {
        const segs = repo.segments(session.scope, c.id, g.fromMs, g.toMs);
        return { kind: 'playlist', body: vodPlaylist(segs, g.fromMs) };
      }
      const m = SEGMENT_FILE.exec(file);
      const seg = m ? repo.segment(session.scope, Number(m[1])) : undefined;
      // Only segments of this point inside the granted range.
      if (!seg || seg.cameraId !== c.id || seg.startMs >= g.toMs || seg.endMs <= g.fromMs) throw notFound('segment');
      const abs = eng.resolve(seg.path);
      if (!abs) throw notFound('segment');
      return { kind: 'segment', path: abs };
    },

    /** An MP4 of a range (copy, size-capped), audited; the caller streams it and then calls `discard`. */
    async exportRange(ctx: AuthContext, ip: string | null, cameraId: number, fromMs: number, toMs: number) {
      checkRange(fromMs, toMs, config.maxExportMinutes * 60_000, `${config.maxExportMinutes} minutes`);
      const c = cameraIn(ctx, cameraId);
      const eng = requireEngine();
      const segs = repo.segments(ctx.scope, c.id, fromMs, toMs);
      if (!segs.length) throw new HttpError(404, 'no_recording', 'no recording in this range');
      const offset = Math.max(0, (fromMs - segs[0]!.startMs) / 1000);
      const duration = (toMs - Math.max(fromMs, segs[0]!.startMs)) / 1000;
      const r = await eng.exportMp4(
        segs.map((s) => s.path),
        offset,
        duration,
        config.maxExportMb * 1024 * 1024,
      );
      audit.record({
        actor: actorOf(ctx, ip),
        action: 'recording.export',
        targetType: 'camera',
        targetId: c.id,
        outcome: 'ok',
        detail: { from: ISO(fromMs), to: ISO(toMs), bytes: r.bytes, capped: r.capped },
      });
      return { ...r, name: `cam${c.id}-${ISO(fromMs).replace(/[:.]/g, '')}.mp4` };
    },

    discard: (p: string) => engine?.discard(p) ?? Promise.resolve(),

    /** Evidence clips of an alert in scope. */
    clipsOfAlert(ctx: AuthContext, alertId: number) {
      return repo.clipsOfAlert(ctx.scope, alertId).map((c) => ({
        id: c.id,
        alertId: c.alertId,
        cameraId: c.cameraId,
        start: ISO(c.startMs),
        end: ISO(c.endMs),
        status: c.status,
        reason: c.reason,
        bytes: c.bytes,
        url: c.status === 'ready' ? `/api/v1/recording/clips/${c.id}.mp4` : null,
      }));
    },

    /** The file of a ready clip in scope, audited. */
    clipFile(ctx: AuthContext, ip: string | null, id: number): { path: string; name: string } {
      const clip = repo.clip(ctx.scope, id);
      if (!clip || clip.status !== 'ready' || !clip.path) throw notFound('clip');
      const abs = requireEngine().resolve(clip.path);
      if (!abs) throw notFound('clip');
      audit.record({
        actor: actorOf(ctx, ip),
        action: 'recording.clip.download',
        targetType: 'alert',
        targetId: clip.alertId,
        outcome: 'ok',
        detail: { clip: clip.id, camera: clip.cameraId },
      });
      return { path: abs, name: `alert-${clip.alertId}-cam${clip.cameraId}.mp4` };
    },
  };
}

/** HLS VOD playlist of indexed segments; a gap (another run, a restart) is a discontinuity. */
export function vodPlaylist(
  segs: ReadonlyArray<Pick<SegmentRow, 'id' | 'startMs' | 'endMs' | 'path'>>,
  fromMs: number,
): string {
  const target = Math.max(1, ...segs.map((s) => Math.ceil((s.endMs - s.startMs) / 1000)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
  ];
  const first = segs[0];
  if (first && fromMs > first.startMs) {
    lines.push(`#EXT-X-START:TIME-OFFSET=${((fromMs - first.startMs) / 1000).toFixed(3)},PRECISE=YES`);
  }
  let prev: Pick<SegmentRow, 'endMs' | 'path'> | undefined;
  for (const s of segs) {
    // Another run (a restart) begins its timestamps anew, however short the gap.
    if (prev && (s.startMs - prev.endMs > JOIN_MS || runOf(s.path) !== runOf(prev.path)))
      lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${ISO(s.startMs)}`);
    lines.push(`#EXTINF:${((s.endMs - s.startMs) / 1000).toFixed(3)},`);
    lines.push(`s${s.id}.ts`);
    prev = s;
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

export type RecordingService = ReturnType<typeof createRecordingService>;
