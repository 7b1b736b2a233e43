/**
 * The deadline pass: 督办 of orders whose signing or handling deadline ran
 * out, automatic escalation after `escalateAfterSupervisions`, and the timer
 * that runs it (under the cluster's deadline lease, on one instance only).
 */
import type { OrderSuperviseEvent } from '../api/contract.ts';
import { iso, plusMinutes, type DispatchDeps, type OrderCore } from './core.ts';
import { deadlineKind, escalation } from './machine.ts';
import type { DueOrder } from './repo.ts';

export function createDeadlines(deps: DispatchDeps, core: OrderCore) {
  const { store, repo, orgs, bus, clock, log, config } = deps;
  const { factsFor, toView, applyStep } = core;
  let timer: NodeJS.Timeout | null = null;

  const deadlines = {
    /**
     * 督办 and escalation: one pass over the orders whose next check came due.
     * Runs at start-up (catching up on time the server was down) and on a timer.
     */
    async tick(): Promise<{ supervised: number; escalated: number }> {
      const r = await deadlines.scanDue();
      // Then tell the units: every changed order, and a 督办 notice to each holder and its parent.
      const counts = await repo.attachmentCounts(r.changedIds);
      for (const o of await repo.byIds(r.changedIds))
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
    async scanDue() {
      const at = clock.now();
      const nowIso = iso(at);
      const nextIso = iso(plusMinutes(at, config.superviseRepeatMinutes));
      const changedIds: number[] = [];
      const notices: { event: OrderSuperviseEvent; unitIds: number[] }[] = [];
      const system = { userId: null, name: '系统督办', orgUnitId: null };
      let escalated = 0;
      await store.transaction(async () => {
        const supervise: { o: DueOrder; kind: 'sign' | 'handle'; deadline: string }[] = [];
        for (const o of await repo.due(nowIso, 20_000)) {
          const kind = deadlineKind(o.state);
          const deadline = kind === 'sign' ? o.signDeadline : kind === 'handle' ? o.handleDeadline : null;
          if (!kind || !deadline || deadline > nowIso) {
            // Defensive: the stored check time was stale; put it where the running deadline is.
            await repo.update(o.id, o.version, { nextCheckAt: kind ? deadline : null, updatedAt: o.updatedAt });
            continue;
          }
          if (config.escalateAfterSupervisions > 0 && o.superviseCount >= config.escalateAfterSupervisions) {
            const d = escalation(o, factsFor(o));
            const full = d?.ok ? (await repo.byIds([o.id]))[0] : undefined;
            if (d?.ok && full) {
              await applyStep(full, d, system, `逾期${kind === 'sign' ? '未签收' : '未办结'}，自动上报`, at, {
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
        await repo.superviseMany(
          supervise.map((s) => s.o.id),
          nextIso,
          nowIso,
        );
        await repo.addTransitions(
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
        await repo.deleteLooseAttachments(iso(plusMinutes(at, -24 * 60)));
      });
      return { supervised: notices.length, escalated, changedIds, notices };
    },

    /**
     * The timed pass: on the instance holding the deadline lease only (null elsewhere, which skips it). The
     * pass is one transaction, so a second instance would find nothing left to do; the lease spares every
     * instance but one the scan and keeps the 督办 notices from one place.
     */
    async scheduledTick(): Promise<{ supervised: number; escalated: number } | null> {
      try {
        return deps.lease ? await deps.lease.run(() => deadlines.tick()) : await deadlines.tick();
      } catch (err) {
        log.error('deadline scan failed', { err: String(err) });
        return null;
      }
    },

    start() {
      void deadlines.scheduledTick();
      if (config.scanIntervalSeconds > 0 && !timer) {
        deps.lease?.start();
        timer = setInterval(() => void deadlines.scheduledTick(), config.scanIntervalSeconds * 1000);
        timer.unref();
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
      void deps.lease?.stop(); // never rejects: a release that fails leaves the lease to expire
    },
  };
  return deadlines;
}
