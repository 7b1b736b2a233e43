import { useEffect, useMemo, useState } from 'react';
import type { OrderAction, OrderState, OrgUnitView, WorkOrderView } from '@api/contract.ts';
import { api, isAbort } from '../api.ts';
import { useI18n } from '../i18n.tsx';
import { serverNow } from './ordersApi.ts';

export const ORDER_STATES: readonly OrderState[] = ['reported', 'assigned', 'signed', 'fed_back', 'closed'];

export function OrderStateBadge({ state }: { state: OrderState }) {
  const { t } = useI18n();
  return (
    <span className={`badge order-state order-state--${state}`} data-state={state}>
      {t(`order.state.${state}`)}
    </span>
  );
}

export function actionLabel(t: ReturnType<typeof useI18n>['t'], action: OrderAction): string {
  return t(`order.action.${action}`);
}

/** The deadline the order is running against now: signing while reported/assigned, handling while signed. */
export function runningDeadline(o: WorkOrderView): { kind: 'sign' | 'handle'; at: string } | null {
  if ((o.state === 'reported' || o.state === 'assigned') && o.signDeadline) return { kind: 'sign', at: o.signDeadline };
  if (o.state === 'signed' && o.handleDeadline) return { kind: 'handle', at: o.handleDeadline };
  return null;
}

export function isOverdueAt(o: WorkOrderView, now: number): boolean {
  const d = runningDeadline(o);
  if (!d) return false;
  return o.overdue || Date.parse(d.at) <= now;
}

/** Server-clock "now", ticking once a second while mounted. */
export function useNow(): number {
  const [now, setNow] = useState(serverNow);
  useEffect(() => {
    const timer = window.setInterval(() => setNow(serverNow()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  return now;
}

function formatSpan(ms: number): string {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days > 0 ? `${days}d ` : ''}${pad(h)}:${pad(m)}:${pad(s)}`;
}

/** Time left to the running deadline, red once it has passed. */
export function Countdown({ order, now }: { order: WorkOrderView; now: number }) {
  const { t } = useI18n();
  const d = runningDeadline(order);
  if (!d) return <span className="muted">—</span>;
  const left = Date.parse(d.at) - now;
  const overdue = left <= 0 || order.overdue;
  return (
    <span
      className={`countdown ${overdue ? 'countdown--overdue' : ''}`}
      data-deadline-kind={d.kind}
      data-overdue={overdue ? 'true' : 'false'}
      title={t(d.kind === 'sign' ? 'order.signDeadline' : 'order.handleDeadline')}
    >
      <span className="countdown__kind">{t(d.kind === 'sign' ? 'order.toSign' : 'order.toHandle')}</span>{' '}
      <span className="countdown__time mono">
        {left > 0 ? formatSpan(left) : t('order.overdueBy', { time: formatSpan(left) })}
      </span>
    </span>
  );
}

/** The org tree as the caller sees it. */
export function useOrgUnits(): { units: OrgUnitView[]; byId: ReadonlyMap<number, OrgUnitView> } {
  const [units, setUnits] = useState<OrgUnitView[]>([]);
  useEffect(() => {
    const controller = new AbortController();
    api.orgUnits(controller.signal).then(setUnits, (err: unknown) => {
      if (!isAbort(err)) console.warn('org units failed', err);
    });
    return () => controller.abort();
  }, []);
  const byId = useMemo<ReadonlyMap<number, OrgUnitView>>(() => new Map(units.map((u) => [u.id, u])), [units]);
  return { units, byId };
}

/** `unitId` and its ancestors, nearest first. */
export function lineageOf(unitId: number, byId: ReadonlyMap<number, OrgUnitView>): OrgUnitView[] {
  const out: OrgUnitView[] = [];
  let u = byId.get(unitId);
  const seen = new Set<number>();
  while (u && !seen.has(u.id)) {
    seen.add(u.id);
    out.push(u);
    u = u.parentId === null ? undefined : byId.get(u.parentId);
  }
  return out;
}

/** Units strictly below `holder` that own `place` (the place's unit or an ancestor), top first. */
export function unitsBetween(holder: number, place: number, byId: ReadonlyMap<number, OrgUnitView>): OrgUnitView[] {
  const line = lineageOf(place, byId);
  const idx = line.findIndex((u) => u.id === holder);
  if (idx <= 0) return [];
  return line.slice(0, idx).reverse();
}

/** Every unit strictly below `unitId`, depth first. */
export function descendantsOf(unitId: number, units: readonly OrgUnitView[]): OrgUnitView[] {
  const children = new Map<number, OrgUnitView[]>();
  for (const u of units) {
    if (u.parentId === null) continue;
    const list = children.get(u.parentId) ?? [];
    list.push(u);
    children.set(u.parentId, list);
  }
  const out: OrgUnitView[] = [];
  const walk = (id: number) => {
    for (const c of children.get(id) ?? []) {
      out.push(c);
      walk(c.id);
    }
  };
  walk(unitId);
  return out;
}
