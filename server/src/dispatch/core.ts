/**
 * What every part of dispatch shares: its dependencies, the order's view and
 * its publication, and applying a decided step (machine.ts) to a stored
 * order: new holder, deadlines, scheduler time, transition row.
 */
import type { AlertLevel, OrderAttachmentView, WorkOrderView } from '../api/contract.ts';
import type { AuditLog } from '../audit/index.ts';
import type { CameraRepo } from '../cameras/repo.ts';
import type { ClusterLease } from '../cluster/index.ts';
import type { AppConfig } from '../config/schema.ts';
import type { Store } from '../db/store.ts';
import type { EventBus } from '../events.ts';
import { badRequest, conflict, HttpError } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import type { OrgRepo, OrgUnit } from '../org/repo.ts';
import type { WallRepo } from '../wall/index.ts';
import { deadlineKind, type Decision, type OrgFacts } from './machine.ts';
import type { DispatchRepo, OrderPatch, WorkOrder } from './repo.ts';

/** A value, or a promise of it: the alerts module answers either way while it moves onto the store. */
type Awaitable<T> = T | Promise<T>;

/** What dispatch needs of the alerts module (narrow, so tests can see the seam). */
export interface AlertsPort {
  internalGet(id: number): Awaitable<
    | {
        id: number;
        title: string;
        description: string | null;
        level: AlertLevel;
        lon: number;
        lat: number;
        orgUnitId: number;
        orgPath: string;
        cameraId: number | null;
        linkedCameraIds: number[];
        status: string;
      }
    | undefined
  >;
  /** Called inside dispatch's transaction: it may await only the store. */
  followOrder(alertId: number, event: 'dispatched' | 'closed', actor: string, note: string): Awaitable<void>;
  placeOf(lon: number, lat: number): Awaitable<OrgUnit>;
  camerasSeeing(lon: number, lat: number): Awaitable<number[]>;
}

export interface DispatchDeps {
  store: Store;
  repo: DispatchRepo;
  orgs: OrgRepo;
  cameras: CameraRepo;
  alerts: AlertsPort;
  audit: AuditLog;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  config: AppConfig['dispatch'];
  /** A JPEG from a camera now (the relay's snapshot path). */
  capture: (cameraId: number) => Promise<Buffer>;
  /** Wall screens, so a push can name one of the target's screens. */
  walls: WallRepo;
  /** Several instances on one database: the timed deadline pass runs on the holder only (issue 13). */
  lease?: ClusterLease;
}

/** Who took a step: a user, or the system (督办). */
export interface StepActor {
  userId: number | null;
  name: string;
  orgUnitId: number | null;
}

export const iso = (d: Date) => d.toISOString();
export const plusMinutes = (d: Date, m: number) => new Date(d.getTime() + m * 60_000);

/** Answers a step the machine refused: 400 naming the field, 403 `wrong_level`, or 409. */
export function fail(d: Extract<Decision, { ok: false }>): never {
  if (d.status === 400) throw badRequest([{ path: d.field ?? 'body', message: d.reason.replace(/^\w+: /, '') }]);
  if (d.status === 403) throw new HttpError(403, 'wrong_level', d.reason);
  throw conflict(d.reason);
}

export type OrderCore = ReturnType<typeof createOrderCore>;

export function createOrderCore(deps: DispatchDeps) {
  const { repo, orgs, bus, clock, config } = deps;

  const unit = (id: number): OrgUnit => {
    const u = orgs.byId(id);
    if (!u) throw new Error(`org unit ${id} is gone`);
    return u;
  };
  const factsFor = (o: { placePath: string }): OrgFacts => ({
    parentOf: (id) => orgs.byId(id)?.parentId ?? null,
    isBelow: (a, b) => {
      const ua = orgs.byId(a);
      const ub = orgs.byId(b);
      return !!ua && !!ub && ua.id !== ub.id && ua.path.startsWith(ub.path);
    },
    ownsPlace: (id) => {
      const u = orgs.byId(id);
      return !!u && o.placePath.startsWith(u.path);
    },
  });
  const deadlinesFor = (holder: number, level: AlertLevel, at: Date) => {
    const d = config.deadlines[unit(holder).level][level];
    return { sign: iso(plusMinutes(at, d.sign)), handle: iso(plusMinutes(at, d.handle)) };
  };

  /** Running deadline of an order, if one is running. */
  const runningDeadline = (o: WorkOrder): string | null => {
    const kind = deadlineKind(o.state);
    return kind === 'sign' ? o.signDeadline : kind === 'handle' ? o.handleDeadline : null;
  };

  function toView(o: WorkOrder, extra: { attachments?: number } = {}): WorkOrderView {
    const now = iso(clock.now());
    const deadline = runningDeadline(o);
    const assigner = o.chain.length >= 2 ? (o.chain[o.chain.length - 2] as number) : null;
    return {
      id: o.id,
      title: o.title,
      description: o.description,
      level: o.level,
      state: o.state,
      alertId: o.alertId,
      position: o.lon === null || o.lat === null ? null : { lon: o.lon, lat: o.lat },
      cameraIds: o.cameraIds,
      placeOrgUnitId: o.placeOrgUnitId,
      assigneeOrgUnitId: o.assigneeOrgUnitId,
      assigneeOrgName: orgs.byId(o.assigneeOrgUnitId)?.name ?? '',
      assignerOrgUnitId: assigner,
      chain: o.chain,
      signDeadline: o.signDeadline,
      handleDeadline: o.handleDeadline,
      overdue: deadline !== null && deadline < now,
      superviseCount: o.superviseTotal,
      escalations: o.escalations,
      attachments: extra.attachments ?? 0,
      createdBy: { userId: o.createdBy, displayName: o.createdByName },
      createdAt: o.createdAt,
      updatedAt: o.updatedAt,
      closedAt: o.closedAt,
      closedOnTime: o.closedOnTime,
      version: o.version,
    };
  }

  function attachmentView(orderId: number, a: Omit<OrderAttachmentView, 'url'>): OrderAttachmentView {
    return {
      id: a.id,
      kind: a.kind,
      cameraId: a.cameraId,
      contentType: a.contentType,
      bytes: a.bytes,
      takenAt: a.takenAt,
      url: `/api/v1/orders/${orderId}/attachments/${a.id}`,
    };
  }

  /** Tells the units about a stored order and returns the view it sent (the caller's answer too). */
  async function publish(kind: 'new' | 'updated', o: WorkOrder): Promise<WorkOrderView> {
    const view = toView(o, { attachments: await repo.countAttachments(o.id) });
    bus.emit('order.changed', { kind, orgPath: o.placePath, order: view });
    return view;
  }

  /**
   * The new deadlines and scheduler time after a step. A step is progress, so
   * the supervision count at the holder starts again.
   */
  function patchFor(o: WorkOrder, d: Extract<Decision, { ok: true }>, at: Date): OrderPatch {
    const { state, chain } = d.next;
    const holder = chain[chain.length - 1] as number;
    const base: OrderPatch = {
      state,
      chain,
      assigneeOrgUnitId: holder,
      superviseCount: 0,
      updatedAt: iso(at),
    };
    if (state === 'closed') {
      const handleSeconds = Math.max(0, Math.round((at.getTime() - Date.parse(o.createdAt)) / 1000));
      const onTime = o.superviseTotal === 0 && (o.handleDeadline === null || iso(at) <= o.handleDeadline);
      return { ...base, nextCheckAt: null, closedAt: iso(at), closedOnTime: onTime, handleSeconds };
    }
    if (state === 'fed_back') return { ...base, nextCheckAt: null };
    const holderChanged = holder !== o.assigneeOrgUnitId || d.action === 'escalate';
    if (!holderChanged && state === 'signed') {
      // Signed, or the feedback was returned: the handling deadline set at assignment still runs.
      const handle = o.handleDeadline ?? deadlinesFor(holder, o.level, at).handle;
      return { ...base, handleDeadline: handle, nextCheckAt: handle };
    }
    const fresh = deadlinesFor(holder, o.level, at);
    if (state === 'signed') {
      return { ...base, signDeadline: null, handleDeadline: fresh.handle, nextCheckAt: fresh.handle };
    }
    return { ...base, signDeadline: fresh.sign, handleDeadline: fresh.handle, nextCheckAt: fresh.sign };
  }

  /** Applies a decided step in the caller's transaction; returns the stored order and transition id. */
  async function applyStep(
    o: WorkOrder,
    d: Extract<Decision, { ok: true }>,
    who: StepActor,
    note: string | null,
    at: Date,
    extra: Partial<OrderPatch> = {},
  ): Promise<{ order: WorkOrder; transitionId: number }> {
    const patch = { ...patchFor(o, d, at), ...extra };
    const updated = await repo.update(o.id, o.version, patch);
    if (!updated) throw conflict(`order ${o.id} changed meanwhile; reload and try again`);
    const t = await repo.addTransition({
      orderId: o.id,
      action: d.action,
      fromState: o.state,
      toState: updated.state,
      actorUserId: who.userId,
      actorName: who.name,
      actorOrgUnitId: who.orgUnitId,
      assigneeOrgUnitId: updated.assigneeOrgUnitId,
      note,
      at: iso(at),
    });
    return { order: updated, transitionId: t.id };
  }

  return { unit, factsFor, deadlinesFor, toView, attachmentView, publish, applyStep };
}
