/**
 * Work orders (工单) and the closed loop (闭环) as users drive it: create
 * (from an alert or by hand, routed at once), list, read, the steps (交办,
 * 签收, 转派, 反馈, 办结, 退回, 上报) with their evidence, and uploads.
 */
import type { AlertLevel, OrderAction, OrderState, OrderTransitionView, WorkOrderView } from '../api/contract.ts';
import type { AuthContext } from '../auth/index.ts';
import { actorOf } from '../audit/index.ts';
import { toWgs84 } from '../geo/coords.ts';
import { badRequest, conflict, HttpError, notFound, parseOr400 } from '../http/errors.ts';
import type { OrgUnit } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import { fail, iso, type DispatchDeps, type OrderCore } from './core.ts';
import { availableActions, decide, routeTarget } from './machine.ts';
import type { WorkOrder } from './repo.ts';
import { createSchema, stepSchema, type ListQuery, type StepAction } from './schema.ts';

export function createOrders(deps: DispatchDeps, core: OrderCore) {
  const { store, repo, orgs, cameras, alerts, audit, clock, config } = deps;
  const { unit, factsFor, deadlinesFor, toView, attachmentView, publish, applyStep } = core;

  async function checkCameras(ctx: AuthContext, ids: number[], field: string): Promise<number[]> {
    const bad: { path: string; message: string }[] = [];
    for (const [i, id] of ids.entries()) {
      if (!(await cameras.byId(ctx.scope, id))) bad.push({ path: `${field}.${i}`, message: 'no such camera' });
    }
    if (bad.length > 0) throw badRequest(bad);
    return [...new Set(ids)];
  }

  /** The ids of cameras the caller can see, in their order. */
  async function visibleCameras(ctx: AuthContext, ids: number[]): Promise<number[]> {
    const out: number[] = [];
    for (const id of ids) if (await cameras.byId(ctx.scope, id)) out.push(id);
    return out;
  }

  /** 409 when the alert already has its order (one order per alert). */
  async function alreadyOrdered(alertId: number): Promise<void> {
    const existing = await repo.byAlert(alertId);
    if (existing)
      throw conflict(`alert ${alertId} already has order ${existing.id}`, [
        { path: 'alertId', message: `order ${existing.id}` },
      ]);
  }

  return {
    /** POST /orders: from an alert (甄别 → 上报/交办) or by hand. */
    async create(ctx: AuthContext, ip: string | null, input: unknown): Promise<WorkOrderView> {
      const body = parseOr400(createSchema, input);
      const at = clock.now();
      let place: OrgUnit;
      let title = body.title;
      let level = body.level;
      let lon: number | null = null;
      let lat: number | null = null;
      let cameraIds = body.cameraIds ? await checkCameras(ctx, body.cameraIds, 'cameraIds') : null;
      let alertId: number | null = null;
      if (body.alertId !== undefined) {
        const a = await alerts.internalGet(body.alertId);
        if (!a || !inScope(ctx.scope, a.orgPath)) throw badRequest([{ path: 'alertId', message: 'no such alert' }]);
        if (a.status === 'closed' || a.status === 'false_alarm')
          throw conflict(`alert ${a.id} is ${a.status}`, [{ path: 'alertId', message: a.status }]);
        await alreadyOrdered(a.id);
        alertId = a.id;
        place = unit(a.orgUnitId);
        title ??= a.title;
        level ??= a.level;
        lon = a.lon;
        lat = a.lat;
        cameraIds ??= await visibleCameras(ctx, [
          ...new Set([...(a.cameraId ? [a.cameraId] : []), ...a.linkedCameraIds]),
        ]);
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
          place = await alerts.placeOf(lon as number, lat as number);
          if (!inScope(ctx.scope, place.path))
            throw new HttpError(403, 'forbidden', 'position: outside your jurisdiction', [
              { path: 'position', message: 'outside your jurisdiction' },
            ]);
        }
        cameraIds ??=
          lon !== null && lat !== null ? await visibleCameras(ctx, await alerts.camerasSeeing(lon, lat)) : [];
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
      const order = await store.transaction(async () => {
        // Again inside the transaction: another request may have made the alert's order since the check above.
        if (alertId !== null) {
          await store.lock(`order.alert:${alertId}`);
          await alreadyOrdered(alertId);
        }
        const o = await repo.insert({
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
        await repo.addTransition({
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
          await repo.addTransition({
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
        if (alertId !== null) await alerts.followOrder(alertId, 'dispatched', ctx.user.username, `工单 #${o.id}`);
        // The audit entry with the order (issue 13: both or neither).
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'order.create',
          targetType: 'order',
          targetId: o.id,
          outcome: 'ok',
          detail: { alertId, state: o.state, assignee: o.assigneeOrgUnitId },
        });
        return o;
      });
      return publish('new', order);
    },

    async list(ctx: AuthContext, q: ListQuery): Promise<{ items: WorkOrderView[]; nextCursor: string | null }> {
      const rows = await repo.list(ctx.scope, {
        ...(q.state ? { states: q.state } : {}),
        ...(q.mine === '1' ? { assigneeOrgUnitId: ctx.orgUnit.id } : {}),
        ...(q.overdue === '1' ? { overdueAt: iso(clock.now()) } : {}),
        ...(q.before ? { beforeId: q.before } : {}),
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      const counts = await repo.attachmentCounts(page.map((o) => o.id));
      return {
        items: page.map((o) => toView(o, { attachments: counts.get(o.id) ?? 0 })),
        nextCursor: rows.length > q.limit && last ? String(last.id) : null,
      };
    },

    async get(
      ctx: AuthContext,
      id: number,
    ): Promise<WorkOrderView & { history: OrderTransitionView[]; actions: StepAction[] }> {
      const o = await repo.byId(ctx.scope, id);
      if (!o) throw notFound('order');
      const files = await repo.attachments(o.id);
      const history = (await repo.transitions(o.id)).map((t) => ({
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
      const linked: { id: number; name: string; address: string | null }[] = [];
      for (const cid of o.cameraIds) {
        const c = await cameras.byId(ctx.scope, cid);
        if (c) linked.push({ id: c.id, name: c.name, address: c.address });
      }
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
      const o0 = await repo.byId(ctx.scope, id);
      if (!o0) throw notFound('order');
      if (body.version !== undefined && body.version !== o0.version)
        throw conflict(`order ${id} is at version ${o0.version}`, [{ path: 'version', message: 'stale' }]);
      // Inside the step's transaction (the re-check) the denial's record rolls back with it, as before.
      const denied = async (reason: string) => {
        await audit.record({
          actor: actorOf(ctx, ip),
          action: `order.${action}`,
          targetType: 'order',
          targetId: id,
          outcome: 'denied',
          detail: { reason, state: o0.state },
        });
      };
      const check = async (o: WorkOrder) => {
        const d = decide(o, action, ctx.orgUnit.id, factsFor(o), {
          ...(body.targetOrgUnitId !== undefined ? { target: body.targetOrgUnitId } : {}),
        });
        if (!d.ok) {
          await denied(d.reason);
          fail(d);
        }
        return d;
      };
      await check(o0);
      if ((action === 'feedback' || action === 'return') && !body.note?.trim())
        throw badRequest([{ path: 'note', message: `required to ${action}` }]);
      const attachmentIds = [...new Set(body.attachmentIds ?? [])];
      if (attachmentIds.length > 0) {
        const loose = new Map(
          (await repo.attachments(o0.id))
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
        if (!o0.cameraIds.includes(camId) || !(await cameras.byId(ctx.scope, camId)))
          throw badRequest([{ path: 'snapshotCameraId', message: 'not a camera linked to this order' }]);
        if ((await repo.countAttachments(o0.id)) >= config.maxAttachmentsPerOrder)
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
      const { order } = await store.transaction(async () => {
        // Re-read: the capture awaited, and another step may have landed meanwhile.
        await store.lock(`order:${id}`);
        const o = await repo.byId(ctx.scope, id);
        if (!o || o.version !== o0.version) throw conflict(`order ${id} changed meanwhile; reload and try again`);
        const d = await check(o);
        const r = await applyStep(
          o,
          d,
          { userId: ctx.user.id, name: ctx.user.displayName, orgUnitId: ctx.orgUnit.id },
          body.note?.trim() || null,
          at,
          d.action === 'escalate' ? { escalations: o.escalations + 1 } : {},
        );
        if (attachmentIds.length > 0) await repo.bindAttachments(o.id, attachmentIds, r.transitionId);
        if (snapshot && body.snapshotCameraId !== undefined) {
          await repo.addAttachment(
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
          await alerts.followOrder(o.alertId, 'closed', ctx.user.username, `工单 #${o.id} 办结`);
        await audit.record({
          actor: actorOf(ctx, ip),
          action: `order.${d.action}`,
          targetType: 'order',
          targetId: id,
          outcome: 'ok',
          detail: { from: o0.state, to: r.order.state, assignee: r.order.assigneeOrgUnitId },
        });
        return { order: r.order, action: d.action };
      });
      return publish('updated', order);
    },
  };
}
