/**
 * The alerts service: where every alert is raised (stored, folded or linked
 * to the one it repeats, then pushed), the ways in (device keys, MQTT, ONVIF
 * events, officers' reports, camera health), and what officers and dispatch
 * do with an alert afterwards. Its parts: `sources.ts` (sources and device
 * keys), `folding.ts` (storm folding), `linkage.ts` (place, org unit and
 * linked cameras) and `media.ts` (snapshots and PTZ presets).
 */
import type {
  AlertHistoryEntry,
  AlertLevel,
  AlertSourceKind,
  AlertStatus,
  AlertType,
  AlertView,
  CoordSystem,
  Page,
} from '../api/contract.ts';
import type { AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import type { CameraPoint, CameraRepo } from '../cameras/repo.ts';
import { actorOf } from '../audit/index.ts';
import type { SharedCounters } from '../cluster/rate-windows.ts';
import type { AppConfig } from '../config/schema.ts';
import type { DomainEvents, EventBus } from '../events.ts';
import type { LonLat } from '../geo/coords.ts';
import { conflict, HttpError, notFound, parseOr400 } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import type { OrgRepo, OrgUnit } from '../org/repo.ts';
import { WHOLE_REGISTRY } from '../org/scope.ts';
import { createFolding } from './folding.ts';
import { createAlertLinkage, refuse400, refuse403 } from './linkage.ts';
import { createAlertMediaLinkage, type AlertMedia } from './media.ts';
import type { Alert, AlertRepo } from './repo.ts';
import type { Store } from '../db/store.ts';
import { actionSchema, ingestSchema, reportSchema } from './schema.ts';
import { createAlertSources } from './sources.ts';

export { actionSchema, ingestSchema, reportSchema, sourceSchema } from './schema.ts';
export type { AlertMedia } from './media.ts';

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

export interface AlertDeps {
  repo: AlertRepo;
  /** The store the repository writes to: a raise, an action and its history entry are one transaction. */
  store: Store;
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
  /** When it happened, when that is not now (a health result handled after a queue of earlier ones). */
  at?: Date;
  /** Written in the same transaction as the alert (its audit entry): both or neither. */
  also?: (a: Alert) => Promise<void>;
}

/** How long a replay page read for one console is given to others asking for the same (listJson). */
const REPLAY_SHARE_MS = 1_000;
/** Replay pages remembered at most (jurisdictions × pages asked within REPLAY_SHARE_MS). */
const REPLAY_SHARE_MAX = 500;

export function createAlertService(deps: AlertDeps) {
  const { repo, orgs, cameras, audit, bus, clock } = deps;
  const sources = createAlertSources(deps);
  const folding = createFolding(deps);
  const linkage = createAlertLinkage(deps);
  const media = createAlertMediaLinkage({
    ...deps,
    changed: (a) => bus.emit('alert.changed', { kind: 'updated', orgPath: a.orgPath, alert: toView(a) }),
  });

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
      ...(a.hasSnapshot ? { hasSnapshot: true } : {}),
      ...(a.previousAlertId !== null ? { previousAlertId: a.previousAlertId } : {}),
    };
  }

  /**
   * Stored first, then pushed. A repeat at the same place within the storm
   * window folds into the open alert; a repeat after that alert was closed (or
   * marked false, or dispatched) is a new alert linked to it, never a silent
   * reopening. The repeat is looked for and the alert written in one transaction (one alert for a storm of
   * concurrent reports; the alert and its first history entry together).
   */
  async function raise(r: Raise): Promise<{ alert: AlertView; folded: boolean }> {
    const at = r.at ?? clock.now();
    const cameraId = r.camera?.id ?? null;
    const key = { sourceKind: r.sourceKind, sourceId: r.sourceId, type: r.type, cameraId };
    const org = r.org ?? linkage.orgFor(r.point, r.camera);
    // Read before the transaction: the cameras that see the place are not what the storm lock guards.
    const linkedCameraIds = await linkage.linked(r.point);
    const insert = (last: Alert | undefined) =>
      repo.insert(
        {
          ...key,
          previousAlertId: last?.id ?? null,
          type: r.type,
          level: r.level,
          lon: r.point[0],
          lat: r.point[1],
          coordSource: r.coordSource,
          orgUnitId: org.id,
          orgPath: org.path,
          linkedCameraIds,
          title: r.title ?? (r.camera ? `${r.camera.name} ${TYPE_TITLES[r.type]}` : TYPE_TITLES[r.type]),
          description: r.description,
          firstAt: at.toISOString(),
          lastAt: at.toISOString(),
        },
        { actor: r.actor, note: last ? `repeat of alert ${last.id} (${last.status})` : null },
      );
    // Without a storm window nothing folds: no repeat to look for, no storm lock to hold (the insert is atomic
    // by itself: on PostgreSQL one statement), unless something is to be written with it.
    const written =
      !folding.folds() && !r.also
        ? { a: await insert(undefined), folded: false }
        : await repo.writeTransaction(async () => {
            let last: Alert | undefined;
            if (folding.folds()) {
              // One storm key at a time on every instance: two reports at once find one alert to fold into.
              await deps.store.lock(`alert.fold:${r.sourceKind}:${r.sourceId}:${r.type}:${cameraId}:${org.id}`);
              last = await folding.repeatOf(key, org, r.point, at);
              if (last && folding.foldsInto(last)) {
                const a = await folding.fold(last, r.level, at);
                await r.also?.(a);
                return { a, folded: true };
              }
            }
            const a = await insert(last);
            await r.also?.(a);
            return { a, folded: false };
          });
    const a = written.a;
    if (written.folded) {
      const view = toView(a);
      bus.emit('alert.changed', { kind: 'updated', orgPath: a.orgPath, alert: view });
      deps.onRaised?.(r.sourceKind, true);
      return { alert: view, folded: true };
    }
    const view = toView(a);
    bus.emit('alert.changed', { kind: 'new', orgPath: a.orgPath, alert: view });
    media.follow(a);
    deps.onRaised?.(r.sourceKind, false);
    return { alert: view, folded: false };
  }

  async function list(ctx: AuthContext, since: number, limit: number): Promise<Page<AlertView>> {
    const rows = await repo.changedSince(ctx.scope, since, limit + 1);
    const items = rows.slice(0, limit).map(toView);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? String(last.seq) : null };
  }

  /**
   * A replay page as its JSON text, shared by the requests for the same page of the same jurisdiction within
   * REPLAY_SHARE_MS. After `realtime:resync` every console of the instance asks for the same pages at once (one
   * cursor value for all); 100 consoles each reading and serialising 500 alerts held up ingestion for seconds
   * (bench:cluster, after its Redis outage). The key is the scope's path with the page, so a page is only ever
   * given to the jurisdiction it was read for.
   *
   * Only a full page (one with a next cursor) is shared: its rows are the first `limit` changes after `since`,
   * and whatever commits later has a higher cursor value, so it comes on a later page, read afresh. The last
   * page is never shared: a console given an old one would stop short of alerts it never saw.
   */
  const replayPages = new Map<string, { until: number; body: string }>();
  async function listJson(ctx: AuthContext, since: number, limit: number): Promise<string> {
    const key = `${ctx.scope.path}\u0000${since}\u0000${limit}`;
    const known = replayPages.get(key);
    if (known && known.until > clock.now().getTime()) return known.body;
    const page = await list(ctx, since, limit);
    const body = JSON.stringify(page);
    // Shared once read and full; a read still running is not joined (it may have begun before what the asker
    // is replaying for was written).
    if (page.nextCursor !== null) {
      const at = clock.now().getTime();
      if (replayPages.size >= REPLAY_SHARE_MAX)
        for (const [k, e] of replayPages)
          if (e.until <= at || replayPages.size >= REPLAY_SHARE_MAX) replayPages.delete(k);
      replayPages.set(key, { until: at + REPLAY_SHARE_MS, body });
    }
    return body;
  }

  const statusChains = new Map<number, Promise<void>>();
  const offs = [
    bus.on('camera.status', (e) => {
      // One point's changes are handled in the order they happened: a close must find the alert its outage
      // raised, and a flapping point's outages must each see the last one's alert.
      const before = statusChains.get(e.id) ?? Promise.resolve();
      const next = before
        .then(() => onCameraStatus(e))
        .catch((err: unknown) => deps.log.error('camera status alert failed', { cameraId: e.id, err: String(err) }));
      statusChains.set(e.id, next);
      void next.finally(() => {
        if (statusChains.get(e.id) === next) statusChains.delete(e.id);
      });
    }),
  ];

  async function onCameraStatus(e: DomainEvents['camera.status']): Promise<void> {
    // From 'unknown' (never checked yet) is not news: the first sweep after a
    // point is registered would otherwise flood the wall with every dead point.
    if (e.to === 'offline' && e.from !== 'offline' && e.from !== 'unknown') {
      const camera = await cameras.byId(WHOLE_REGISTRY, e.id);
      if (!camera) return;
      await raise({
        type: 'camera_offline',
        level: 'yellow',
        point: [camera.lon, camera.lat],
        coordSource: 'wgs84',
        sourceKind: 'health',
        sourceId: String(camera.id),
        camera,
        title: undefined,
        description: e.reason ?? null,
        actor: 'system:health',
        at: new Date(e.at),
      });
    } else if (e.to === 'online') {
      for (const a of await repo.openFor('health', String(e.id), 'camera_offline')) {
        const closed = await repo.writeTransaction(async () => {
          await deps.store.lock(`alert:${a.id}`);
          const closed = await repo.setStatus(a.id, 'closed', true);
          await repo.addHistory(a.id, 'system:health', 'closed', 'camera back online');
          return closed;
        });
        bus.emit('alert.changed', { kind: 'updated', orgPath: closed.orgPath, alert: toView(closed) });
      }
    }
  }

  return {
    toView,
    raise,
    createSource: sources.create,
    listSources: sources.list,
    /**
     * An ONVIF event from a subscribed point, through the same store-then-push
     * path and storm folding as a device post (one source per camera and type).
     */
    async cameraEvent(e: { cameraId: number; kind: 'motion' | 'tamper'; deviceTime: Date | null; topic: string }) {
      const camera = await cameras.byId(WHOLE_REGISTRY, e.cameraId);
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
    setEventWatch: sources.setEventWatch,
    onEventWatchChange: sources.onEventWatchChange,
    /**
     * A message from a configured MQTT topic: validated like POST /alerts/ingest,
     * type and level defaulting to the mapping. The broker is configured by the
     * operator, so the whole county is in scope. Stored as a device source with
     * id `mqtt:<filter>` (no new source kind: the shared contract and the table's
     * CHECK stay as they are). Returns a reason instead of throwing: there is
     * nobody to answer.
     */
    async ingestMqtt(
      mapping: { topic: string; type: AlertType; level: AlertLevel },
      input: unknown,
    ): Promise<{ ok: true; alert: AlertView; folded: boolean } | { ok: false; reason: string }> {
      if (!sources.topicAllows(mapping.topic)) return { ok: false, reason: 'rate limited' };
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
        const at = await linkage.where(WHOLE_REGISTRY, body, refuse400);
        const r = await raise({
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
      const source = await sources.admit(key, ip);
      const body = parseOr400(ingestSchema, input);
      // The key's jurisdiction bounds where its alerts may lie (issue 11).
      const w = await linkage.where({ orgUnitId: source.orgUnitId, path: source.orgPath }, body, refuse403);
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
    async report(ctx: AuthContext, ip: string | null, input: unknown) {
      const body = parseOr400(reportSchema, input);
      const w = await linkage.where(ctx.scope, body, refuse400);
      const r = await raise({
        type: body.type,
        level: body.level,
        ...w,
        sourceKind: 'manual',
        sourceId: `user:${ctx.user.id}`,
        title: body.title,
        description: body.description ?? null,
        actor: ctx.user.username,
        also: (a) =>
          audit.record({
            actor: actorOf(ctx, ip),
            action: 'alert.report',
            targetType: 'alert',
            targetId: a.id,
            outcome: 'ok',
          }),
      });
      return r;
    },
    /** Changes in the caller's jurisdiction after a cursor, oldest first. */
    list,
    listJson,
    async get(ctx: AuthContext, id: number): Promise<AlertView & { history: AlertHistoryEntry[] }> {
      const a = await repo.byId(ctx.scope, id);
      if (!a) throw notFound('alert');
      return { ...toView(a), history: await repo.history(a.id) };
    },
    async act(
      ctx: AuthContext,
      ip: string | null,
      id: number,
      action: AlertAction,
      input: unknown,
    ): Promise<AlertView> {
      const { note } = parseOr400(actionSchema, input ?? {});
      const t = TRANSITIONS[action];
      // Read, check and write in one transaction: two officers acting at once cannot both move it.
      const r = await repo.writeTransaction(async () => {
        await deps.store.lock(`alert:${id}`);
        const a = await repo.byId(ctx.scope, id);
        if (!a || !t.from.includes(a.status)) return { a };
        const updated = await repo.setStatus(id, t.to);
        await repo.addHistory(id, ctx.user.username, t.verb, note || null);
        // The audit entry with the change (issue 13: both or neither).
        await audit.record({
          actor: actorOf(ctx, ip),
          action: `alert.${action}`,
          targetType: 'alert',
          targetId: id,
          outcome: 'ok',
          detail: { from: a.status, to: t.to },
        });
        return { a, updated };
      });
      const a = r.a;
      if (!a) throw notFound('alert');
      if (!r.updated) {
        await audit.record({
          actor: actorOf(ctx, ip),
          action: `alert.${action}`,
          targetType: 'alert',
          targetId: id,
          outcome: 'failed',
          detail: { from: a.status },
        });
        throw conflict(`alert ${id} is ${a.status}; cannot ${action}`);
      }
      const updated = r.updated;
      const view = toView(updated);
      bus.emit('alert.changed', { kind: 'updated', orgPath: updated.orgPath, alert: view });
      return view;
    },
    /**
     * The dispatch module made a work order of this alert (派单) or closed it (办结):
     * the alert follows its order. Internal: the caller already checked jurisdiction.
     */
    async followOrder(alertId: number, event: 'dispatched' | 'closed', actor: string, note: string): Promise<void> {
      const updated = await repo.writeTransaction(async () => {
        await deps.store.lock(`alert:${alertId}`);
        const a = await repo.byId(WHOLE_REGISTRY, alertId);
        if (!a) return undefined;
        const to: AlertStatus = event;
        if (a.status === to || a.status === 'closed' || a.status === 'false_alarm') return undefined;
        const updated = await repo.setStatus(alertId, to);
        await repo.addHistory(alertId, actor, to, note);
        return updated;
      });
      if (!updated) return;
      bus.emit('alert.changed', { kind: 'updated', orgPath: updated.orgPath, alert: toView(updated) });
    },
    /** The org unit that owns a place (boundary, else nearest village), as alerts decide it. */
    placeOf(lon: number, lat: number): OrgUnit {
      return linkage.orgFor([lon, lat], null);
    },
    /** Cameras that can see a place, best first (the alert linkage rules). */
    camerasSeeing(lon: number, lat: number): Promise<number[]> {
      return linkage.linked([lon, lat]);
    },
    /** An alert as the dispatch module needs it (internal, no jurisdiction check). */
    internalGet(alertId: number): Promise<Alert | undefined> {
      return repo.byId(WHOLE_REGISTRY, alertId);
    },
    snapshot: media.snapshot,
    setPresetPlaces: media.setPresetPlaces,
    presetPlaces: media.presetPlaces,
    /** Waits for camera-status alerts, snapshots and PTZ moves in flight (tests, shutdown). */
    async settled(): Promise<void> {
      while (statusChains.size) await Promise.all(statusChains.values());
      await media.settled();
    },
    close() {
      media.close();
      for (const off of offs) off();
    },
  };
}

export type AlertService = ReturnType<typeof createAlertService>;
