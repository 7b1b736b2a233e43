import { z } from 'zod';
import {
  ALERT_LEVELS,
  COORD_SYSTEMS,
  ORDER_STATES,
  ORDER_STEP_ACTIONS,
  type OrderStepAction,
  type AlertLevel,
  type OrderAction,
  type OrderAttachmentView,
  type OrderState,
  type OrderStatsView,
  type OrderSuperviseEvent,
  type OrderTransitionView,
  type WallLayout,
  type WallPushEvent,
  type WorkOrderView,
} from '../api/contract.ts';
import type { AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import type { CameraRepo } from '../cameras/repo.ts';
import type { AppConfig } from '../config/schema.ts';
import type { SqlDb } from '../db/sqlite.ts';
import type { EventBus } from '../events.ts';
import { toWgs84 } from '../geo/coords.ts';
import { badRequest, conflict, HttpError, notFound, parseOr400 } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import { optionalSafeText, safeText } from '../http/text.ts';
import type { OrgRepo, OrgUnit } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import { wallLayoutSchema, type WallRepo } from '../wall/index.ts';
import {
  availableActions,
  deadlineKind,
  decide,
  escalation,
  routeTarget,
  type Decision,
  type OrgFacts,
} from './machine.ts';
import type { ClusterLease } from '../cluster/index.ts';
import type { DispatchRepo, DueOrder, OrderPatch, WorkOrder } from './repo.ts';
import { computeStats, periodRange, type Period } from './stats.ts';

/** What dispatch needs of the alerts module (narrow, so tests can see the seam). */
export interface AlertsPort {
  internalGet(id: number):
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
    | undefined;
  followOrder(alertId: number, event: 'dispatched' | 'closed', actor: string, note: string): void;
  placeOf(lon: number, lat: number): OrgUnit;
  camerasSeeing(lon: number, lat: number): number[];
}

export type StepAction = OrderStepAction;
export const STEP_ACTIONS = ORDER_STEP_ACTIONS;

const positiveId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
// Order text follows the one text policy (server/src/http/text.ts): titles are one line, notes
// and descriptions keep newlines and tabs; no other control characters, no bidi overrides.
const noteText = (max: number) => optionalSafeText({ max, multiline: true });

export const createSchema = z
  .object({
    alertId: positiveId.optional(),
    title: safeText({ max: 200 }).optional(),
    description: noteText(4000),
    level: z.enum(ALERT_LEVELS).optional(),
    position: z
      .object({
        lon: z.number().min(73).max(136),
        lat: z.number().min(3).max(54),
        system: z.enum(COORD_SYSTEMS).optional(),
      })
      .strict()
      .optional(),
    orgUnitId: positiveId.optional(),
    cameraIds: z.array(positiveId).max(16).optional(),
    /** auto: 四事分办 routing; hold: stays with the creator; report_up: to the parent unit; or a unit id. */
    assignTo: z.union([z.enum(['auto', 'hold', 'report_up']), positiveId]).default('auto'),
  })
  .strict();

export const stepSchema = z
  .object({
    note: noteText(2000),
    targetOrgUnitId: positiveId.optional(),
    attachmentIds: z.array(positiveId).max(20).optional(),
    /** Take a JPEG from this linked camera now and attach it (feedback evidence). */
    snapshotCameraId: positiveId.optional(),
    version: z.number().int().positive().optional(),
  })
  .strict();

export const pushSchema = z
  .object({
    targetOrgUnitId: positiveId,
    screenId: positiveId.nullable().optional(),
    cameraIds: z.array(positiveId).max(16).optional(),
    layout: wallLayoutSchema.nullable().optional(),
    orderId: positiveId.nullable().optional(),
    note: noteText(200),
  })
  .strict();

export const listQuery = z
  .object({
    state: z
      .string()
      .max(100)
      .transform((s) => s.split(',').filter(Boolean))
      .pipe(z.array(z.enum(ORDER_STATES)))
      .optional(),
    mine: z.enum(['0', '1']).optional(),
    overdue: z.enum(['0', '1']).optional(),
    before: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date like 2026-11-01');
export const statsQuery = z
  .object({
    orgUnitId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    period: z.enum(['day', 'week', 'month', 'quarter']).default('month'),
    from: localDate.optional(),
    to: localDate.optional(),
  })
  .strict();

const MAX_BUCKETS = 400;

export function createDispatchService(deps: {
  db: SqlDb;
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
}) {
  const { db, repo, orgs, cameras, alerts, audit, bus, clock, log, config } = deps;
  let timer: NodeJS.Timeout | null = null;

  const iso = (d: Date) => d.toISOString();
  const plusMinutes = (d: Date, m: number) => new Date(d.getTime() + m * 60_000);
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
  const actor = (ctx: AuthContext, ip: string | null) => ({
    userId: ctx.user.id,
    username: ctx.user.username,
    ip,
  });

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

  function attachmentView(
    orderId: number,
    a: {
      id: number;
      kind: 'snapshot' | 'image';
      cameraId: number | null;
      contentType: string;
      bytes: number;
      takenAt: string;
    },
  ): OrderAttachmentView {
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
  function publish(kind: 'new' | 'updated', o: WorkOrder): WorkOrderView {
    const view = toView(o, { attachments: repo.countAttachments(o.id) });
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

  function fail(d: Extract<Decision, { ok: false }>): never {
    if (d.status === 400) throw badRequest([{ path: d.field ?? 'body', message: d.reason.replace(/^\w+: /, '') }]);
    if (d.status === 403) throw new HttpError(403, 'wrong_level', d.reason);
    throw conflict(d.reason);
  }

  /** Applies a decided step in the caller's transaction; returns the stored order and transition id. */
  function applyStep(
    o: WorkOrder,
    d: Extract<Decision, { ok: true }>,
    who: { userId: number | null; name: string; orgUnitId: number | null },
    note: string | null,
    at: Date,
    extra: Partial<OrderPatch> = {},
  ): { order: WorkOrder; transitionId: number } {
    const patch = { ...patchFor(o, d, at), ...extra };
    const updated = repo.update(o.id, o.version, patch);
    if (!updated) throw conflict(`order ${o.id} changed meanwhile; reload and try again`);
    const t = repo.addTransition({
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

  function checkCameras(ctx: AuthContext, ids: number[], field: string): number[] {
    const bad = ids
      .map((id, i) => ({ id, i }))
      .filter(({ id }) => !cameras.byId(ctx.scope, id))
      .map(({ i }) => ({ path: `${field}.${i}`, message: 'no such camera' }));
    if (bad.length > 0) throw badRequest(bad);
    return [...new Set(ids)];
  }

  const service = {
    toView,
    /** POST /orders: from an alert (甄别 → 上报/交办) or by hand. */
    create(ctx: AuthContext, ip: string | null, input: unknown): WorkOrderView {
      const body = parseOr400(createSchema, input);
      const at = clock.now();
      let place: OrgUnit;
      let title = body.title;
      let level = body.level;
      let lon: number | null = null;
      let lat: number | null = null;
      let cameraIds = body.cameraIds ? checkCameras(ctx, body.cameraIds, 'cameraIds') : null;
      let alertId: number | null = null;
      if (body.alertId !== undefined) {
        const a = alerts.internalGet(body.alertId);
        if (!a || !inScope(ctx.scope, a.orgPath)) throw badRequest([{ path: 'alertId', message: 'no such alert' }]);
        if (a.status === 'closed' || a.status === 'false_alarm')
          throw conflict(`alert ${a.id} is ${a.status}`, [{ path: 'alertId', message: a.status }]);
        const existing = repo.byAlert(a.id);
        if (existing)
          throw conflict(`alert ${a.id} already has order ${existing.id}`, [
            { path: 'alertId', message: `order ${existing.id}` },
          ]);
        alertId = a.id;
        place = unit(a.orgUnitId);
        title ??= a.title;
        level ??= a.level;
        lon = a.lon;
        lat = a.lat;
        cameraIds ??= [...new Set([...(a.cameraId ? [a.cameraId] : []), ...a.linkedCameraIds])].filter((id) =>
          cameras.byId(ctx.scope, id),
        );
        if (body.description === undefined && a.description) body.description = a.description;
      } else {
        const fields = [];
        if (!title) fields.push({ path: 'title', message: 'required' });
        if (!level) fields.push({ path: 'level', message: 'required' });
        if (!body.position && body.orgUnitId === undefined)
          fields.push({ path: 'position', message: 'a position or an orgUnitId is required' });
        if (fields.length > 0) throw badRequest(fields);
        if (body.position) {
          [lon, lat] = toWgs84(body.position.system ?? 'wgs84', body.position.lon, body.position.lat);
        }
        if (body.orgUnitId !== undefined) {
          const u = orgs.byId(body.orgUnitId);
          if (!u || !inScope(ctx.scope, u.path))
            throw new HttpError(403, 'forbidden', 'orgUnitId: outside your jurisdiction', [
              { path: 'orgUnitId', message: 'outside your jurisdiction' },
            ]);
          place = u;
        } else {
          place = alerts.placeOf(lon as number, lat as number);
          if (!inScope(ctx.scope, place.path))
            throw new HttpError(403, 'forbidden', 'position: outside your jurisdiction', [
              { path: 'position', message: 'outside your jurisdiction' },
            ]);
        }
        cameraIds ??=
          lon !== null && lat !== null
            ? alerts.camerasSeeing(lon, lat).filter((id) => cameras.byId(ctx.scope, id))
            : [];
      }
      const orderLevel = level as AlertLevel;
      const creator = ctx.orgUnit;
      const facts = factsFor({ placePath: place.path });
      // Where the order goes first.
      let first: { chain: number[]; state: OrderState; action: OrderAction | null } = {
        chain: [creator.id],
        state: 'reported',
        action: null,
      };
      const assignTo = body.assignTo;
      if (assignTo === 'report_up') {
        if (creator.parentId === null)
          throw badRequest([{ path: 'assignTo', message: 'the top level has no one to report to' }]);
        first = { chain: [creator.parentId], state: 'reported', action: 'escalate' };
      } else if (assignTo === 'auto' || typeof assignTo === 'number') {
        const lineage = orgs
          .all()
          .filter((u) => place.path.startsWith(u.path))
          .sort((a, b) => a.path.length - b.path.length);
        const target = assignTo === 'auto' ? routeTarget(lineage, orderLevel, config.routing) : assignTo;
        if (target === creator.id) first = { chain: [creator.id], state: 'signed', action: 'sign' };
        else if (facts.isBelow(creator.id, target) && assignTo === 'auto')
          // 四事分办 says a higher level should take it: report it up to that level.
          first = { chain: [target], state: 'reported', action: 'escalate' };
        else {
          const d = decide({ state: 'reported', chain: [creator.id] }, 'assign', creator.id, facts, { target });
          if (!d.ok) fail(d.field ? { ...d, field: 'assignTo' } : d);
          first = { chain: d.next.chain, state: 'assigned', action: 'assign' };
        }
      }
      const holder = first.chain[first.chain.length - 1] as number;
      const dl = deadlinesFor(holder, orderLevel, at);
      const who = { userId: ctx.user.id, name: ctx.user.displayName, orgUnitId: creator.id };
      const order = db.transaction(() => {
        const o = repo.insert({
          title: title as string,
          description: body.description ?? '',
          level: orderLevel,
          state: first.state,
          alertId,
          lon,
          lat,
          cameraIds: cameraIds ?? [],
          placeOrgUnitId: place.id,
          placePath: place.path,
          chain: first.chain,
          assigneeOrgUnitId: holder,
          signDeadline: first.state === 'signed' ? null : dl.sign,
          handleDeadline: dl.handle,
          nextCheckAt: first.state === 'signed' ? dl.handle : dl.sign,
          createdBy: ctx.user.id,
          createdByName: ctx.user.displayName,
          createdAt: iso(at),
          updatedAt: iso(at),
        });
        repo.addTransition({
          orderId: o.id,
          action: 'create',
          fromState: null,
          toState: 'reported',
          actorUserId: who.userId,
          actorName: who.name,
          actorOrgUnitId: who.orgUnitId,
          assigneeOrgUnitId: creator.id,
          note: null,
          at: iso(at),
        });
        if (first.action) {
          repo.addTransition({
            orderId: o.id,
            action: first.action,
            fromState: 'reported',
            toState: first.state,
            actorUserId: who.userId,
            actorName: who.name,
            actorOrgUnitId: who.orgUnitId,
            assigneeOrgUnitId: holder,
            note: null,
            at: iso(at),
          });
        }
        if (alertId !== null) alerts.followOrder(alertId, 'dispatched', ctx.user.username, `工单 #${o.id}`);
        return o;
      });
      audit.record({
        actor: actor(ctx, ip),
        action: 'order.create',
        targetType: 'order',
        targetId: order.id,
        outcome: 'ok',
        detail: { alertId, state: order.state, assignee: order.assigneeOrgUnitId },
      });
      return publish('new', order);
    },

    list(ctx: AuthContext, q: z.output<typeof listQuery>): { items: WorkOrderView[]; nextCursor: string | null } {
      const rows = repo.list(ctx.scope, {
        ...(q.state ? { states: q.state } : {}),
        ...(q.mine === '1' ? { assigneeOrgUnitId: ctx.orgUnit.id } : {}),
        ...(q.overdue === '1' ? { overdueAt: iso(clock.now()) } : {}),
        ...(q.before ? { beforeId: q.before } : {}),
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      const counts = repo.attachmentCounts(page.map((o) => o.id));
      return {
        items: page.map((o) => toView(o, { attachments: counts.get(o.id) ?? 0 })),
        nextCursor: rows.length > q.limit && last ? String(last.id) : null,
      };
    },

    get(ctx: AuthContext, id: number): WorkOrderView & { history: OrderTransitionView[]; actions: StepAction[] } {
      const o = repo.byId(ctx.scope, id);
      if (!o) throw notFound('order');
      const files = repo.attachments(o.id);
      const history = repo.transitions(o.id).map((t) => ({
        id: t.id,
        action: t.action,
        fromState: t.fromState,
        toState: t.toState,
        actor: {
          userId: t.actorUserId,
          displayName: t.actorName,
          orgUnitId: t.actorOrgUnitId,
          orgName: t.actorOrgUnitId === null ? null : (orgs.byId(t.actorOrgUnitId)?.name ?? null),
        },
        assigneeOrgUnitId: t.assigneeOrgUnitId,
        note: t.note,
        attachments: files.filter((f) => f.transitionId === t.id).map((f) => attachmentView(o.id, f)),
        at: t.at,
      }));
      const actions = availableActions(o, ctx.orgUnit.id, factsFor(o)) as StepAction[];
      // The place in words (issue 17): the unit's lineage and the address of the first linked camera
      // that has one (linkage lists the cameras that can see the place best first).
      const units: { id: number; name: string }[] = [];
      for (
        let u = orgs.byId(o.placeOrgUnitId);
        u && units.length < 8;
        u = u.parentId === null ? undefined : orgs.byId(u.parentId)
      )
        units.unshift({ id: u.id, name: u.name });
      const linked = o.cameraIds
        .map((cid) => cameras.byId(ctx.scope, cid))
        .filter((c): c is NonNullable<typeof c> => c !== undefined)
        .map((c) => ({ id: c.id, name: c.name, address: c.address }));
      const address = linked.find((c) => c.address)?.address ?? null;
      return {
        ...toView(o, { attachments: files.length }),
        history,
        actions,
        place: { units, address },
        cameras: linked,
      };
    },

    /** One step of the closed loop by a user. Evidence is captured before anything is written. */
    async step(
      ctx: AuthContext,
      ip: string | null,
      id: number,
      action: StepAction,
      input: unknown,
    ): Promise<WorkOrderView> {
      const body = parseOr400(stepSchema, input ?? {});
      const o0 = repo.byId(ctx.scope, id);
      if (!o0) throw notFound('order');
      if (body.version !== undefined && body.version !== o0.version)
        throw conflict(`order ${id} is at version ${o0.version}`, [{ path: 'version', message: 'stale' }]);
      const denied = (reason: string) => {
        audit.record({
          actor: actor(ctx, ip),
          action: `order.${action}`,
          targetType: 'order',
          targetId: id,
          outcome: 'denied',
          detail: { reason, state: o0.state },
        });
      };
      const check = (o: WorkOrder) => {
        const d = decide(o, action, ctx.orgUnit.id, factsFor(o), {
          ...(body.targetOrgUnitId !== undefined ? { target: body.targetOrgUnitId } : {}),
        });
        if (!d.ok) {
          denied(d.reason);
          fail(d);
        }
        return d;
      };
      check(o0);
      if ((action === 'feedback' || action === 'return') && !body.note?.trim())
        throw badRequest([{ path: 'note', message: `required to ${action}` }]);
      const attachmentIds = [...new Set(body.attachmentIds ?? [])];
      if (attachmentIds.length > 0) {
        const loose = new Map(
          repo
            .attachments(o0.id)
            .filter((a) => a.transitionId === null && a.uploadedBy === ctx.user.id)
            .map((a) => [a.id, a]),
        );
        const bad = attachmentIds
          .map((aid, i) => ({ aid, i }))
          .filter(({ aid }) => !loose.has(aid))
          .map(({ i }) => ({ path: `attachmentIds.${i}`, message: 'no such upload of yours on this order' }));
        if (bad.length > 0) throw badRequest(bad);
      }
      let snapshot: Buffer | null = null;
      if (body.snapshotCameraId !== undefined) {
        const camId = body.snapshotCameraId;
        if (!o0.cameraIds.includes(camId) || !cameras.byId(ctx.scope, camId))
          throw badRequest([{ path: 'snapshotCameraId', message: 'not a camera linked to this order' }]);
        if (repo.countAttachments(o0.id) >= config.maxAttachmentsPerOrder)
          throw conflict('the order has as many attachments as allowed', [
            { path: 'snapshotCameraId', message: 'too many attachments' },
          ]);
        try {
          snapshot = await deps.capture(camId);
        } catch (err) {
          throw new HttpError(
            502,
            'snapshot_failed',
            `snapshotCameraId: ${err instanceof Error ? err.message : String(err)}`,
            [{ path: 'snapshotCameraId', message: 'the camera gave no picture' }],
          );
        }
      }
      const at = clock.now();
      const { order, action: done } = db.transaction(() => {
        // Re-read: the capture awaited, and another step may have landed meanwhile.
        const o = repo.byId(ctx.scope, id);
        if (!o || o.version !== o0.version) throw conflict(`order ${id} changed meanwhile; reload and try again`);
        const d = check(o);
        const r = applyStep(
          o,
          d,
          { userId: ctx.user.id, name: ctx.user.displayName, orgUnitId: ctx.orgUnit.id },
          body.note?.trim() || null,
          at,
          d.action === 'escalate' ? { escalations: o.escalations + 1 } : {},
        );
        if (attachmentIds.length > 0) repo.bindAttachments(o.id, attachmentIds, r.transitionId);
        if (snapshot && body.snapshotCameraId !== undefined) {
          repo.addAttachment(
            {
              orderId: o.id,
              transitionId: r.transitionId,
              kind: 'snapshot',
              cameraId: body.snapshotCameraId,
              contentType: 'image/jpeg',
              bytes: snapshot.length,
              uploadedBy: ctx.user.id,
              takenAt: iso(at),
            },
            snapshot,
          );
        }
        if (r.order.state === 'closed' && o.alertId !== null)
          alerts.followOrder(o.alertId, 'closed', ctx.user.username, `工单 #${o.id} 办结`);
        return { order: r.order, action: d.action };
      });
      audit.record({
        actor: actor(ctx, ip),
        action: `order.${done}`,
        targetType: 'order',
        targetId: id,
        outcome: 'ok',
        detail: { from: o0.state, to: order.state, assignee: order.assigneeOrgUnitId },
      });
      return publish('updated', order);
    },

    /** POST /orders/:id/attachments: an image kept loose until a step of the same user uses it. */
    upload(ctx: AuthContext, ip: string | null, id: number, contentType: string, data: Buffer): OrderAttachmentView {
      const o = repo.byId(ctx.scope, id);
      if (!o) throw notFound('order');
      if (o.state === 'closed') throw conflict('the order is closed');
      const isJpeg = data.length > 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
      const isPng =
        data.length > 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      if ((contentType === 'image/jpeg' && !isJpeg) || (contentType === 'image/png' && !isPng))
        throw badRequest([{ path: 'body', message: `not a ${contentType === 'image/png' ? 'PNG' : 'JPEG'} image` }]);
      if (repo.countAttachments(o.id) >= config.maxAttachmentsPerOrder)
        throw conflict('the order has as many attachments as allowed', [
          { path: 'body', message: 'too many attachments' },
        ]);
      const a = repo.addAttachment(
        {
          orderId: o.id,
          transitionId: null,
          kind: 'image',
          cameraId: null,
          contentType,
          bytes: data.length,
          uploadedBy: ctx.user.id,
          takenAt: iso(clock.now()),
        },
        data,
      );
      audit.record({
        actor: actor(ctx, ip),
        action: 'order.upload',
        targetType: 'order',
        targetId: o.id,
        outcome: 'ok',
        detail: { attachment: a.id, bytes: data.length },
      });
      return attachmentView(o.id, a);
    },

    attachment(ctx: AuthContext, id: number, attachmentId: number): { contentType: string; data: Buffer } {
      const o = repo.byId(ctx.scope, id);
      if (!o) throw notFound('order');
      const a = repo.attachmentData(o.id, attachmentId);
      if (!a) throw notFound('attachment');
      return { contentType: a.meta.contentType, data: a.data };
    },

    /** Statistics for a unit's subtree: per child unit over the range, and per period bucket. */
    stats(ctx: AuthContext, q: z.output<typeof statsQuery>): OrderStatsView {
      const u = orgs.byId(q.orgUnitId ?? ctx.orgUnit.id);
      if (!u || !inScope(ctx.scope, u.path)) throw notFound('org unit');
      const now = clock.now();
      const range = periodRange(q.period, config.utcOffsetMinutes, now, q.from, q.to);
      if (!range.ok) throw badRequest([{ path: range.field, message: range.message }]);
      if (range.buckets > MAX_BUCKETS)
        throw badRequest([{ path: 'from', message: `at most ${MAX_BUCKETS} ${q.period} periods at once` }]);
      const children = orgs.all().filter((c) => c.parentId === u.id);
      const facts = repo.statFacts(u.path, range.fromIso, range.toIso);
      const overdue = repo.overdueFacts(u.path, iso(now));
      return computeStats({
        unit: u,
        children: children.length > 0 ? children : [u],
        facts,
        overdue,
        period: q.period as Period,
        range,
        utcOffsetMinutes: config.utcOffsetMinutes,
      });
    },

    /**
     * 督办 and escalation: one pass over the orders whose next check came due.
     * Runs at start-up (catching up on time the server was down) and on a timer.
     */
    tick(): { supervised: number; escalated: number } {
      const r = service.scanDue();
      // Then tell the units: every changed order, and a 督办 notice to each holder and its parent.
      const counts = repo.attachmentCounts(r.changedIds);
      for (const o of repo.byIds(r.changedIds))
        bus.emit('order.changed', {
          kind: 'updated',
          orgPath: o.placePath,
          order: toView(o, { attachments: counts.get(o.id) ?? 0 }),
        });
      for (const n of r.notices) bus.emit('order.supervise', n);
      if (r.supervised + r.escalated > 0)
        log.info('deadline scan', { supervised: r.supervised, escalated: r.escalated });
      return { supervised: r.supervised, escalated: r.escalated };
    },

    /** The database half of the deadline pass: find what came due, record supervision and escalation. */
    scanDue() {
      const at = clock.now();
      const nowIso = iso(at);
      const nextIso = iso(plusMinutes(at, config.superviseRepeatMinutes));
      const changedIds: number[] = [];
      const notices: { event: OrderSuperviseEvent; unitIds: number[] }[] = [];
      const system = { userId: null, name: '系统督办', orgUnitId: null };
      let escalated = 0;
      db.transaction(() => {
        const supervise: { o: DueOrder; kind: 'sign' | 'handle'; deadline: string }[] = [];
        for (const o of repo.due(nowIso, 20_000)) {
          const kind = deadlineKind(o.state);
          const deadline = kind === 'sign' ? o.signDeadline : kind === 'handle' ? o.handleDeadline : null;
          if (!kind || !deadline || deadline > nowIso) {
            // Defensive: the stored check time was stale; put it where the running deadline is.
            repo.update(o.id, o.version, { nextCheckAt: kind ? deadline : null, updatedAt: o.updatedAt });
            continue;
          }
          if (config.escalateAfterSupervisions > 0 && o.superviseCount >= config.escalateAfterSupervisions) {
            const d = escalation(o, factsFor(o));
            const full = d?.ok ? repo.byIds([o.id])[0] : undefined;
            if (d?.ok && full) {
              applyStep(full, d, system, `逾期${kind === 'sign' ? '未签收' : '未办结'}，自动上报`, at, {
                escalations: full.escalations + 1,
              });
              changedIds.push(o.id);
              escalated++;
              continue;
            }
          }
          supervise.push({ o, kind, deadline });
        }
        // Many orders can come due in one pass (after downtime, or a shared deadline): set-wise writes.
        repo.superviseMany(
          supervise.map((s) => s.o.id),
          nextIso,
          nowIso,
        );
        repo.addTransitions(
          supervise.map(({ o, kind, deadline }) => ({
            orderId: o.id,
            action: 'supervise' as const,
            fromState: o.state,
            toState: o.state,
            actorUserId: null,
            actorName: system.name,
            actorOrgUnitId: null,
            assigneeOrgUnitId: o.assigneeOrgUnitId,
            note: `${kind === 'sign' ? '签收' : '办理'}超时（期限 ${deadline}），第 ${o.superviseCount + 1} 次督办`,
            at: nowIso,
          })),
        );
        for (const { o, kind, deadline } of supervise) {
          changedIds.push(o.id);
          const parent = orgs.byId(o.assigneeOrgUnitId)?.parentId ?? null;
          notices.push({
            event: {
              orderId: o.id,
              title: o.title,
              assigneeOrgUnitId: o.assigneeOrgUnitId,
              kind,
              deadline,
              count: o.superviseCount + 1,
              at: nowIso,
            },
            unitIds: parent === null ? [o.assigneeOrgUnitId] : [o.assigneeOrgUnitId, parent],
          });
        }
        // Uploads nobody used within a day are dropped.
        repo.deleteLooseAttachments(iso(plusMinutes(at, -24 * 60)));
      });
      return { supervised: notices.length, escalated, changedIds, notices };
    },

    /** 视频调度: push cameras or a layout to a lower level's wall, at once. */
    push(ctx: AuthContext, ip: string | null, input: unknown): WallPushEvent {
      const body = parseOr400(pushSchema, input);
      const target = orgs.byId(body.targetOrgUnitId);
      if (!target || !inScope(ctx.scope, target.path))
        throw new HttpError(403, 'forbidden', 'targetOrgUnitId: outside your jurisdiction', [
          { path: 'targetOrgUnitId', message: 'outside your jurisdiction' },
        ]);
      if (target.id === ctx.orgUnit.id)
        throw badRequest([{ path: 'targetOrgUnitId', message: 'a push goes to a lower level, not your own' }]);
      const cameraIds = [...new Set(body.cameraIds ?? [])];
      const layout = (body.layout ?? null) as WallLayout | null;
      if (cameraIds.length === 0 && !layout)
        throw badRequest([{ path: 'cameraIds', message: 'push at least one camera or a layout' }]);
      // The lower level must be allowed to play what it is sent.
      const outside = (ids: (number | null)[], field: string) =>
        ids
          .map((id, i) => ({ id, i }))
          .filter(({ id }) => id !== null && !cameras.byId({ orgUnitId: target.id, path: target.path }, id))
          .map(({ i }) => ({ path: `${field}.${i}`, message: "not a camera in the target's jurisdiction" }));
      const bad = [
        ...outside(cameraIds, 'cameraIds'),
        ...(layout ? outside(layout.tiles, 'layout.tiles') : []),
        ...(layout?.tour ? outside(layout.tour.cameraIds, 'layout.tour.cameraIds') : []),
      ];
      if (bad.length > 0) throw badRequest(bad);
      if (
        body.screenId != null &&
        deps.walls.byId({ orgUnitId: target.id, path: target.path }, body.screenId)?.orgUnitId !== target.id
      )
        throw badRequest([{ path: 'screenId', message: 'not a wall screen of the target unit' }]);
      if (body.orderId != null && !repo.byId(ctx.scope, body.orderId))
        throw badRequest([{ path: 'orderId', message: 'no such order' }]);
      const at = iso(clock.now());
      const p = repo.addPush({
        fromUserId: ctx.user.id,
        fromOrgUnitId: ctx.orgUnit.id,
        targetOrgUnitId: target.id,
        targetPath: target.path,
        screenId: body.screenId ?? null,
        cameraIds,
        layout,
        orderId: body.orderId ?? null,
        note: body.note?.trim() || null,
        at,
      });
      const event: WallPushEvent = {
        id: p.id,
        targetOrgUnitId: target.id,
        screenId: p.screenId,
        cameraIds,
        layout,
        from: {
          userId: ctx.user.id,
          displayName: ctx.user.displayName,
          orgUnitId: ctx.orgUnit.id,
          orgName: ctx.orgUnit.name,
        },
        orderId: p.orderId,
        note: p.note,
        at,
      };
      audit.record({
        actor: actor(ctx, ip),
        action: 'wall.push',
        targetType: 'org_unit',
        targetId: target.id,
        outcome: 'ok',
        detail: { push: p.id, cameras: cameraIds.length, layout: layout?.grid ?? null, screen: p.screenId },
      });
      bus.emit('wall.push', { event });
      return event;
    },

    /** Pushes to the caller's subtree (what was sent to my level and below). */
    pushes(ctx: AuthContext, limit: number) {
      return repo.pushes(ctx.scope, limit);
    },

    /**
     * The timed pass: on the instance holding the deadline lease only (null elsewhere, which skips it). The
     * pass is one transaction, so a second instance would find nothing left to do; the lease spares every
     * instance but one the scan and keeps the 督办 notices from one place.
     */
    async scheduledTick(): Promise<{ supervised: number; escalated: number } | null> {
      try {
        return deps.lease ? await deps.lease.run(() => service.tick()) : service.tick();
      } catch (err) {
        log.error('deadline scan failed', { err: String(err) });
        return null;
      }
    },

    start() {
      void service.scheduledTick();
      if (config.scanIntervalSeconds > 0 && !timer) {
        deps.lease?.start();
        timer = setInterval(() => void service.scheduledTick(), config.scanIntervalSeconds * 1000);
        timer.unref();
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
      deps.lease?.stop();
    },
  };
  return service;
}

export type DispatchService = ReturnType<typeof createDispatchService>;
