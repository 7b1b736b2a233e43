import { randomBytes } from 'node:crypto';
import {
  ALERT_LEVELS,
  type AlertHistoryEntry,
  type AlertLevel,
  type AlertSourceIssued,
  type AlertSourceKind,
  type AlertSourceView,
  type AlertStatus,
  type AlertType,
  type AlertView,
  type CoordSystem,
  type Page,
  type PresetPlaceView,
} from '../api/contract.ts';
import type { AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import type { CameraPoint, CameraRepo } from '../cameras/repo.ts';
import type { AppConfig } from '../config/schema.ts';
import type { EventBus } from '../events.ts';
import type { LonLat } from '../geo/coords.ts';
import { badRequest, conflict, forbidden, HttpError, notFound, parseOr400 } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import type { OrgRepo, OrgUnit } from '../org/repo.ts';
import { WHOLE_REGISTRY, inScope, type Scope } from '../org/scope.ts';
import type { SharedCounters } from '../cluster/counters.ts';
import { createDeviceGate, hashDeviceKey } from './device-keys.ts';
import { centroid, pointInGeometry, rankLinkedCameras } from './geometry.ts';
import type { Alert, AlertRepo, AlertSource, PresetPlace } from './repo.ts';
import {
  actionSchema,
  ingestSchema,
  presetPlacesSchema,
  reportSchema,
  sourceSchema,
  type PositionInput,
} from './schema.ts';

export { actionSchema, ingestSchema, reportSchema, sourceSchema } from './schema.ts';

export type AlertAction = 'ack' | 'false-alarm' | 'close';

/** Which statuses each action may leave from, and where it goes. */
const TRANSITIONS: Record<AlertAction, { from: readonly AlertStatus[]; to: AlertStatus; verb: string }> = {
  ack: { from: ['new'], to: 'acknowledged', verb: 'acknowledged' },
  'false-alarm': { from: ['new', 'acknowledged'], to: 'false_alarm', verb: 'false_alarm' },
  close: { from: ['new', 'acknowledged', 'dispatched'], to: 'closed', verb: 'closed' },
};

const TYPE_TITLES: Record<AlertType, string> = {
  alarm_button: '一键报警',
  intrusion: '区域入侵',
  line_crossing: '越线',
  motion: '移动侦测',
  tamper: '视频遮挡',
  fire: '烟火',
  crowd: '人员聚集',
  camera_offline: '点位离线',
  manual: '人工上报',
  other: '其他预警',
};

/**
 * What alerts need from the media plane, injected so alerts/ does not depend
 * on relay internals: a JPEG of a camera now (live stream if running, else the
 * ONVIF snapshot URI) and a PTZ preset move by the system actor.
 */
export interface AlertMedia {
  snapshot(cameraId: number): Promise<Buffer>;
  gotoPreset(cameraId: number, presetToken: string): Promise<void>;
}

/** Metres between two WGS-84 points (haversine). */
function metres(a: LonLat, b: LonLat): number {
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface AlertDeps {
  repo: AlertRepo;
  orgs: OrgRepo;
  cameras: CameraRepo;
  audit: AuditLog;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  config: AppConfig['alerts'];
  media?: AlertMedia | undefined;
  /** Where ingest limits are counted (Redis, shared by every instance, when configured; issue 13). */
  counters?: SharedCounters;
  /** Told of every alert stored (folded: into an open one), for the operator's metrics (issue 13). */
  onRaised?: (sourceKind: AlertSourceKind, folded: boolean) => void;
}

interface Raise {
  type: AlertType;
  level: AlertLevel;
  point: LonLat;
  coordSource: CoordSystem;
  sourceKind: AlertSourceKind;
  sourceId: string;
  camera: CameraPoint | null;
  title: string | undefined;
  description: string | null;
  actor: string;
  /** The owning org unit when the caller already decided it (else from camera, boundary, nearest village). */
  org?: OrgUnit;
}

/** Statuses a repeat folds into; after any other, a repeat is a new alert linked to it. */
const FOLDABLE: readonly AlertStatus[] = ['new', 'acknowledged'];

/** Whose jurisdiction a post is checked against, and how a refusal answers. */
type Refuse = (path: 'cameraId' | 'position', message: string) => HttpError;
const refuse400: Refuse = (path, message) => badRequest([{ path, message }]);
/** A device key's jurisdiction is its credential's: outside it is forbidden, not malformed. */
const refuse403: Refuse = (path, message) => forbidden(`${path}: ${message}`, [{ path, message }]);

export function createAlertService(deps: AlertDeps) {
  const { repo, orgs, cameras, audit, bus, clock, config } = deps;
  const devices = createDeviceGate(deps);
  const watchListeners = new Set<() => void>();
  const topicWindows = new Map<string, { start: number; n: number }>();
  const pending = new Set<Promise<unknown>>();
  let closed = false;

  function track(p: Promise<unknown>) {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }

  /**
   * After a new alert is stored and pushed: a snapshot from its camera (else
   * the first linked one) and linked PTZ domes turned to the nearest preset
   * place. Never delays the push; failures are logged.
   */
  function follow(a: Alert) {
    const media = deps.media;
    if (!media) return;
    const shotFrom = a.cameraId ?? a.linkedCameraIds[0];
    if (shotFrom !== undefined)
      track(
        media
          .snapshot(shotFrom)
          .then((jpeg) => {
            if (closed) return;
            repo.putSnapshot(a.id, shotFrom, jpeg);
            const updated = repo.touch(a.id);
            bus.emit('alert.changed', { kind: 'updated', orgPath: updated.orgPath, alert: toView(updated) });
          })
          .catch((err: unknown) => {
            if (!closed)
              deps.log.warn('alert snapshot failed', { alertId: a.id, cameraId: shotFrom, error: String(err) });
          }),
      );
    const ptz = config.ptzPresetLinkage;
    if (!ptz.enabled) return;
    const point: LonLat = [a.lon, a.lat];
    for (const id of a.linkedCameraIds) {
      const camera = cameras.byId(WHOLE_REGISTRY, id);
      if (!camera?.ptz) continue;
      let best: { token: string; name: string; d: number } | null = null;
      for (const p of repo.presetPlaces(id)) {
        const d = metres(point, [p.lon, p.lat]);
        if (d <= ptz.maxDistanceMeters && (!best || d < best.d)) best = { token: p.token, name: p.name, d };
      }
      if (!best) continue;
      const chosen = best;
      track(
        media
          .gotoPreset(id, chosen.token)
          .then(() => {
            if (closed) return;
            repo.addHistory(
              a.id,
              'system:alerts',
              'ptz_preset',
              `camera ${id} → preset ${chosen.token} (${chosen.name}, ${Math.round(chosen.d)} m)`,
            );
          })
          .catch((err: unknown) => {
            if (!closed) deps.log.warn('alert PTZ preset failed', { alertId: a.id, cameraId: id, error: String(err) });
          }),
      );
    }
  }

  /** From the source camera, else the smallest boundary holding the point, else the nearest village. */
  function orgFor(point: LonLat, camera: CameraPoint | null): OrgUnit {
    if (camera) {
      const u = orgs.byId(camera.orgUnitId);
      if (u) return u;
    }
    const all = orgs.all();
    const depth = (u: OrgUnit) => u.path.split('/').length;
    const holding = all.filter((u) => u.boundary && pointInGeometry(point, u.boundary));
    holding.sort((a, b) => depth(b) - depth(a));
    if (holding[0]) return holding[0];
    let best: { u: OrgUnit; d: number } | null = null;
    for (const u of all) {
      if (u.level !== 'village') continue;
      const c = centroid(u.boundary);
      if (!c) continue;
      const d = (c[0] - point[0]) ** 2 + (c[1] - point[1]) ** 2;
      if (!best || d < best.d) best = { u, d };
    }
    const fallback = best?.u ?? all.find((u) => u.parentId === null);
    if (!fallback) throw new HttpError(503, 'no_org_tree', 'no org units are configured');
    return fallback;
  }

  function linked(point: LonLat): number[] {
    if (config.maxLinkedCameras === 0) return [];
    const dLat = config.linkRadiusMeters / 111_320;
    const dLon = dLat / Math.max(0.01, Math.cos((point[1] * Math.PI) / 180));
    const { rows } = cameras.search(
      WHOLE_REGISTRY,
      { bbox: [point[0] - dLon, point[1] - dLat, point[0] + dLon, point[1] + dLat] },
      0,
      2000,
    );
    return rankLinkedCameras(point, rows, config.linkRadiusMeters, config.maxLinkedCameras);
  }

  function toView(a: Alert): AlertView {
    return {
      id: a.id,
      seq: a.seq,
      type: a.type,
      level: a.level,
      position: { lon: a.lon, lat: a.lat },
      coordSource: a.coordSource,
      orgUnitId: a.orgUnitId,
      orgUnitName: orgs.byId(a.orgUnitId)?.name ?? '',
      source: { kind: a.sourceKind, id: a.sourceId },
      cameraId: a.cameraId,
      linkedCameraIds: a.linkedCameraIds,
      title: a.title,
      description: a.description,
      status: a.status,
      count: a.count,
      firstAt: a.firstAt,
      lastAt: a.lastAt,
      createdAt: a.createdAt,
      updatedAt: a.updatedAt,
      ...(repo.hasSnapshot(a.id) ? { hasSnapshot: true } : {}),
      ...(a.previousAlertId !== null ? { previousAlertId: a.previousAlertId } : {}),
    };
  }

  /**
   * The latest alert of this source and type at this place, seen within the
   * storm window: the same camera, or no camera and within
   * `foldDistanceMeters`; always in the same org unit, so one township's
   * report never lands in another's alert (issue 11).
   */
  function samePlace(
    key: { sourceKind: AlertSourceKind; sourceId: string; type: AlertType; cameraId: number | null },
    org: OrgUnit,
    point: LonLat,
    since: string,
  ): Alert | undefined {
    const d = config.foldDistanceMeters;
    const dLat = d / 111_320;
    const dLon = dLat / Math.max(0.01, Math.cos((point[1] * Math.PI) / 180));
    const box: [number, number, number, number] = [point[0] - dLon, point[1] - dLat, point[0] + dLon, point[1] + dLat];
    return repo
      .foldCandidates({ ...key, orgUnitId: org.id }, since, box)
      .find((a) => key.cameraId !== null || metres(point, [a.lon, a.lat]) <= d);
  }

  /**
   * Stored first, then pushed. A repeat at the same place within the storm
   * window folds into the open alert; a repeat after that alert was closed (or
   * marked false, or dispatched) is a new alert linked to it, never a silent
   * reopening.
   */
  function raise(r: Raise): { alert: AlertView; folded: boolean } {
    const at = clock.now();
    const since = new Date(at.getTime() - config.stormWindowSeconds * 1000).toISOString();
    const cameraId = r.camera?.id ?? null;
    const key = { sourceKind: r.sourceKind, sourceId: r.sourceId, type: r.type, cameraId };
    const org = r.org ?? orgFor(r.point, r.camera);
    const last = config.stormWindowSeconds > 0 ? samePlace(key, org, r.point, since) : undefined;
    if (last && FOLDABLE.includes(last.status)) {
      const level = ALERT_LEVELS.indexOf(r.level) > ALERT_LEVELS.indexOf(last.level) ? r.level : last.level;
      const a = repo.fold(last.id, at.toISOString(), level);
      const view = toView(a);
      bus.emit('alert.changed', { kind: 'updated', orgPath: a.orgPath, alert: view });
      deps.onRaised?.(r.sourceKind, true);
      return { alert: view, folded: true };
    }
    const a = repo.insert({
      ...key,
      previousAlertId: last?.id ?? null,
      type: r.type,
      level: r.level,
      lon: r.point[0],
      lat: r.point[1],
      coordSource: r.coordSource,
      orgUnitId: org.id,
      orgPath: org.path,
      linkedCameraIds: linked(r.point),
      title: r.title ?? (r.camera ? `${r.camera.name} ${TYPE_TITLES[r.type]}` : TYPE_TITLES[r.type]),
      description: r.description,
      firstAt: at.toISOString(),
      lastAt: at.toISOString(),
    });
    repo.addHistory(a.id, r.actor, 'created', last ? `repeat of alert ${last.id} (${last.status})` : null);
    const view = toView(a);
    bus.emit('alert.changed', { kind: 'new', orgPath: a.orgPath, alert: view });
    follow(a);
    deps.onRaised?.(r.sourceKind, false);
    return { alert: view, folded: false };
  }

  /**
   * Where a post says it happened, inside `scope`: its camera must be in the
   * scope (unknown and elsewhere answer alike), and so must the place of its
   * position. The org unit follows the camera, else the position.
   */
  function where(
    scope: Scope,
    body: { position?: PositionInput | undefined; cameraId?: number | undefined },
    refuse: Refuse,
  ): { camera: CameraPoint | null; point: LonLat; coordSource: CoordSystem; org: OrgUnit } {
    let camera: CameraPoint | null = null;
    if (body.cameraId !== undefined) {
      camera = cameras.byId(scope, body.cameraId) ?? null;
      if (!camera) throw refuse('cameraId', 'no such camera in this jurisdiction');
    }
    if (body.position) {
      const { point, system } = body.position;
      const place = orgFor(point, null);
      if (!inScope(scope, place.path)) throw refuse('position', 'outside this jurisdiction');
      return { camera, point, coordSource: system, org: camera ? orgFor(point, camera) : place };
    }
    if (!camera) throw badRequest([{ path: 'position', message: 'position or cameraId is required' }]);
    const point: LonLat = [camera.lon, camera.lat];
    return { camera, point, coordSource: 'wgs84', org: orgFor(point, camera) };
  }

  const actorOf = (ctx: AuthContext, ip: string | null) => ({
    userId: ctx.user.id,
    username: ctx.user.username,
    ip,
  });

  const offs = [
    bus.on('camera.status', (e) => {
      // From 'unknown' (never checked yet) is not news: the first sweep after a
      // point is registered would otherwise flood the wall with every dead point.
      if (e.to === 'offline' && e.from !== 'offline' && e.from !== 'unknown') {
        const camera = cameras.byId(WHOLE_REGISTRY, e.id);
        if (!camera) return;
        raise({
          type: 'camera_offline',
          level: 'yellow',
          point: [camera.lon, camera.lat],
          coordSource: 'wgs84',
          sourceKind: 'health',
          sourceId: String(camera.id),
          camera,
          title: undefined,
          description: e.reason,
          actor: 'system:health',
        });
      } else if (e.to === 'online') {
        for (const a of repo.openFor('health', String(e.id), 'camera_offline')) {
          const closed = repo.setStatus(a.id, 'closed', true);
          repo.addHistory(a.id, 'system:health', 'closed', 'camera back online');
          bus.emit('alert.changed', { kind: 'updated', orgPath: closed.orgPath, alert: toView(closed) });
        }
      }
    }),
  ];

  return {
    toView,
    raise,
    /** POST /alert-sources: the key is in this answer only. */
    createSource(ctx: AuthContext, ip: string | null, input: unknown): AlertSourceIssued {
      const body = parseOr400(sourceSchema, input);
      const org = orgs.byId(body.orgUnitId);
      if (!org || !inScope(ctx.scope, org.path))
        throw badRequest([{ path: 'orgUnitId', message: 'no such org unit in your jurisdiction' }]);
      const key = randomBytes(24).toString('base64url');
      const s = repo.insertSource({
        name: body.name,
        keyHash: hashDeviceKey(key),
        orgUnitId: org.id,
        orgPath: org.path,
        rateLimitPerMinute: body.rateLimitPerMinute ?? config.defaultRatePerMinute,
        createdBy: ctx.user.id,
      });
      audit.record({
        actor: actorOf(ctx, ip),
        action: 'alert_source.create',
        targetType: 'alert_source',
        targetId: s.id,
        outcome: 'ok',
        detail: { name: s.name, orgUnitId: s.orgUnitId },
      });
      return { ...sourceView(s), key };
    },
    listSources(ctx: AuthContext): AlertSourceView[] {
      return repo.sources(ctx.scope).map(sourceView);
    },
    /**
     * An ONVIF event from a subscribed point, through the same store-then-push
     * path and storm folding as a device post (one source per camera and type).
     */
    cameraEvent(e: { cameraId: number; kind: 'motion' | 'tamper'; deviceTime: Date | null; topic: string }) {
      const camera = cameras.byId(WHOLE_REGISTRY, e.cameraId);
      if (!camera) return null;
      return raise({
        type: e.kind,
        // Motion is routine (blue); a covered or turned camera needs someone to look (orange).
        level: e.kind === 'tamper' ? 'orange' : 'blue',
        point: [camera.lon, camera.lat],
        coordSource: 'wgs84',
        sourceKind: 'onvif_event',
        sourceId: String(camera.id),
        camera,
        title: undefined,
        description: `${e.topic}${e.deviceTime ? ` @ ${e.deviceTime.toISOString()} (device clock)` : ''}`,
        actor: 'system:onvif',
      });
    },
    /** PUT/DELETE /cameras/:id/alert-events: whether this point's ONVIF events become alerts. */
    setEventWatch(ctx: AuthContext, ip: string | null, cameraId: number, on: boolean) {
      const camera = cameras.byId(ctx.scope, cameraId);
      if (!camera) throw notFound('camera');
      repo.setEventCamera(camera.id, on);
      audit.record({
        actor: actorOf(ctx, ip),
        action: on ? 'alert.events.watch' : 'alert.events.unwatch',
        targetType: 'camera',
        targetId: camera.id,
        outcome: 'ok',
      });
      for (const fn of watchListeners) fn();
      return {
        cameraId: camera.id,
        watching: on,
        subscribable: camera.onvifUrl !== null && camera.credentialsSealed !== null,
      };
    },
    /** Called whenever the set of watched points changes. */
    onEventWatchChange(fn: () => void): () => void {
      watchListeners.add(fn);
      return () => void watchListeners.delete(fn);
    },
    /**
     * A message from a configured MQTT topic: validated like POST /alerts/ingest,
     * type and level defaulting to the mapping. The broker is configured by the
     * operator, so the whole county is in scope. Stored as a device source with
     * id `mqtt:<filter>` (no new source kind: the shared contract and the table's
     * CHECK stay as they are). Returns a reason instead of throwing: there is
     * nobody to answer.
     */
    ingestMqtt(
      mapping: { topic: string; type: AlertType; level: AlertLevel },
      input: unknown,
    ): { ok: true; alert: AlertView; folded: boolean } | { ok: false; reason: string } {
      const nowMs = clock.now().getTime();
      let w = topicWindows.get(mapping.topic);
      if (!w || nowMs - w.start >= 60_000) {
        w = { start: nowMs, n: 0 };
        topicWindows.set(mapping.topic, w);
      }
      if (w.n >= config.defaultRatePerMinute) return { ok: false, reason: 'rate limited' };
      w.n++;
      if (typeof input !== 'object' || input === null || Array.isArray(input))
        return { ok: false, reason: 'not a JSON object' };
      const parsed = ingestSchema.safeParse({ type: mapping.type, level: mapping.level, ...input });
      if (!parsed.success)
        return {
          ok: false,
          reason: parsed.error.issues
            .slice(0, 5)
            .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
            .join('; '),
        };
      const body = parsed.data;
      try {
        const at = where(WHOLE_REGISTRY, body, refuse400);
        const r = raise({
          type: body.type,
          level: body.level,
          ...at,
          sourceKind: 'device_key',
          sourceId: `mqtt:${mapping.topic}`,
          title: body.title,
          description: body.description ?? null,
          actor: `mqtt:${mapping.topic}`,
        });
        return { ok: true, ...r };
      } catch (err) {
        if (err instanceof HttpError) return { ok: false, reason: err.message };
        throw err;
      }
    },
    /** POST /alerts/ingest: a device with its key. */
    async ingest(key: string | undefined, ip: string | null, input: unknown) {
      const source = await devices.source(key, ip);
      await devices.rateLimit(source);
      const body = parseOr400(ingestSchema, input);
      // The key's jurisdiction bounds where its alerts may lie (issue 11).
      const w = where({ orgUnitId: source.orgUnitId, path: source.orgPath }, body, refuse403);
      return raise({
        type: body.type,
        level: body.level,
        ...w,
        sourceKind: 'device_key',
        sourceId: String(source.id),
        title: body.title,
        description: body.description ?? null,
        actor: `source:${source.name}`,
      });
    },
    /** POST /alerts: an officer's manual report, inside the officer's jurisdiction. */
    report(ctx: AuthContext, ip: string | null, input: unknown) {
      const body = parseOr400(reportSchema, input);
      const w = where(ctx.scope, body, refuse400);
      const r = raise({
        type: body.type,
        level: body.level,
        ...w,
        sourceKind: 'manual',
        sourceId: `user:${ctx.user.id}`,
        title: body.title,
        description: body.description ?? null,
        actor: ctx.user.username,
      });
      audit.record({
        actor: actorOf(ctx, ip),
        action: 'alert.report',
        targetType: 'alert',
        targetId: r.alert.id,
        outcome: 'ok',
      });
      return r;
    },
    /** Changes in the caller's jurisdiction after a cursor, oldest first. */
    list(ctx: AuthContext, since: number, limit: number): Page<AlertView> {
      const rows = repo.changedSince(ctx.scope, since, limit + 1);
      const items = rows.slice(0, limit).map(toView);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > limit && last ? String(last.seq) : null };
    },
    get(ctx: AuthContext, id: number): AlertView & { history: AlertHistoryEntry[] } {
      const a = repo.byId(ctx.scope, id);
      if (!a) throw notFound('alert');
      return { ...toView(a), history: repo.history(a.id) };
    },
    act(ctx: AuthContext, ip: string | null, id: number, action: AlertAction, input: unknown): AlertView {
      const { note } = parseOr400(actionSchema, input ?? {});
      const a = repo.byId(ctx.scope, id);
      if (!a) throw notFound('alert');
      const t = TRANSITIONS[action];
      if (!t.from.includes(a.status)) {
        audit.record({
          actor: actorOf(ctx, ip),
          action: `alert.${action}`,
          targetType: 'alert',
          targetId: id,
          outcome: 'failed',
          detail: { from: a.status },
        });
        throw conflict(`alert ${id} is ${a.status}; cannot ${action}`);
      }
      const updated = repo.setStatus(id, t.to);
      repo.addHistory(id, ctx.user.username, t.verb, note || null);
      audit.record({
        actor: actorOf(ctx, ip),
        action: `alert.${action}`,
        targetType: 'alert',
        targetId: id,
        outcome: 'ok',
        detail: { from: a.status, to: t.to },
      });
      const view = toView(updated);
      bus.emit('alert.changed', { kind: 'updated', orgPath: updated.orgPath, alert: view });
      return view;
    },
    /**
     * The dispatch module made a work order of this alert (派单) or closed it (办结):
     * the alert follows its order. Internal: the caller already checked jurisdiction.
     */
    followOrder(alertId: number, event: 'dispatched' | 'closed', actor: string, note: string): void {
      const a = repo.byId(WHOLE_REGISTRY, alertId);
      if (!a) return;
      const to: AlertStatus = event;
      if (a.status === to || a.status === 'closed' || a.status === 'false_alarm') return;
      const updated = repo.setStatus(alertId, to);
      repo.addHistory(alertId, actor, to, note);
      bus.emit('alert.changed', { kind: 'updated', orgPath: updated.orgPath, alert: toView(updated) });
    },
    /** The org unit that owns a place (boundary, else nearest village), as alerts decide it. */
    placeOf(lon: number, lat: number): OrgUnit {
      return orgFor([lon, lat], null);
    },
    /** Cameras that can see a place, best first (the alert linkage rules). */
    camerasSeeing(lon: number, lat: number): number[] {
      return linked([lon, lat]);
    },
    /** An alert as the dispatch module needs it (internal, no jurisdiction check). */
    internalGet(alertId: number): Alert | undefined {
      return repo.byId(WHOLE_REGISTRY, alertId);
    },
    /** GET /alerts/:id/snapshot.jpg: 404 outside the caller's jurisdiction or when none was taken. */
    snapshot(ctx: AuthContext, id: number): Buffer {
      const a = repo.byId(ctx.scope, id);
      if (!a) throw notFound('alert');
      const jpeg = repo.snapshot(a.id);
      if (!jpeg) throw notFound('alert snapshot');
      return jpeg;
    },
    /** PUT /cameras/:id/preset-places: where each of a PTZ camera's presets looks. */
    setPresetPlaces(ctx: AuthContext, ip: string | null, cameraId: number, input: unknown): PresetPlaceView[] {
      const camera = cameras.byId(ctx.scope, cameraId);
      if (!camera) throw notFound('camera');
      const body = parseOr400(presetPlacesSchema, input);
      if (!camera.ptz) throw conflict('camera: not a PTZ camera', [{ path: 'ptz', message: 'false' }]);
      const places = body.map((p) => ({
        token: p.token,
        name: p.name,
        lon: p.position.point[0],
        lat: p.position.point[1],
      }));
      repo.setPresetPlaces(camera.id, places);
      audit.record({
        actor: actorOf(ctx, ip),
        action: 'camera.preset_places',
        targetType: 'camera',
        targetId: camera.id,
        outcome: 'ok',
        detail: { count: places.length },
      });
      return places.map(placeView);
    },
    presetPlaces(ctx: AuthContext, cameraId: number): PresetPlaceView[] {
      const camera = cameras.byId(ctx.scope, cameraId);
      if (!camera) throw notFound('camera');
      return repo.presetPlaces(camera.id).map(placeView);
    },
    /** Waits for snapshots and PTZ moves in flight (tests, shutdown). */
    async settled(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    close() {
      closed = true;
      for (const off of offs) off();
    },
  };
}

function placeView(p: PresetPlace): PresetPlaceView {
  return { token: p.token, name: p.name, position: { lon: p.lon, lat: p.lat } };
}

function sourceView(s: AlertSource): AlertSourceView {
  return {
    id: s.id,
    name: s.name,
    orgUnitId: s.orgUnitId,
    rateLimitPerMinute: s.rateLimitPerMinute,
    createdAt: s.createdAt,
  };
}

export type AlertService = ReturnType<typeof createAlertService>;
