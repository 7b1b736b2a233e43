/** 视频调度: cameras or a layout pushed to a lower level's wall screens, and the list of pushes. */
import type { WallLayout, WallPushEvent } from '../api/contract.ts';
import type { AuthContext } from '../auth/index.ts';
import { actorOf } from '../audit/index.ts';
import { badRequest, HttpError, parseOr400 } from '../http/errors.ts';
import { inScope } from '../org/scope.ts';
import { iso, type DispatchDeps } from './core.ts';
import { pushSchema } from './schema.ts';

export function createWallPushes(deps: DispatchDeps) {
  const { repo, orgs, cameras, audit, bus, clock, store } = deps;
  return {
    /** 视频调度: push cameras or a layout to a lower level's wall, at once. */
    async push(ctx: AuthContext, ip: string | null, input: unknown): Promise<WallPushEvent> {
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
      const outside = async (ids: (number | null)[], field: string) => {
        const out: { path: string; message: string }[] = [];
        for (const [i, id] of ids.entries()) {
          if (id !== null && !(await cameras.byId({ orgUnitId: target.id, path: target.path }, id)))
            out.push({ path: `${field}.${i}`, message: "not a camera in the target's jurisdiction" });
        }
        return out;
      };
      const bad = [
        ...(await outside(cameraIds, 'cameraIds')),
        ...(layout ? await outside(layout.tiles, 'layout.tiles') : []),
        ...(layout?.tour ? await outside(layout.tour.cameraIds, 'layout.tour.cameraIds') : []),
      ];
      if (bad.length > 0) throw badRequest(bad);
      if (
        body.screenId != null &&
        (await deps.walls.byId({ orgUnitId: target.id, path: target.path }, body.screenId))?.orgUnitId !== target.id
      )
        throw badRequest([{ path: 'screenId', message: 'not a wall screen of the target unit' }]);
      if (body.orderId != null && !(await repo.byId(ctx.scope, body.orderId)))
        throw badRequest([{ path: 'orderId', message: 'no such order' }]);
      const at = iso(clock.now());
      // The push and its audit entry in one transaction (issue 13: both or neither).
      const p = await store.transaction(async () => {
        const p = await repo.addPush({
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
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'wall.push',
          targetType: 'org_unit',
          targetId: target.id,
          outcome: 'ok',
          detail: { push: p.id, cameras: cameraIds.length, layout: layout?.grid ?? null, screen: p.screenId },
        });
        return p;
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
      bus.emit('wall.push', { event });
      return event;
    },

    /** Pushes to the caller's subtree (what was sent to my level and below). */
    async pushes(ctx: AuthContext, limit: number) {
      return await repo.pushes(ctx.scope, limit);
    },
  };
}
