/**
 * 工单: the orders in the user's jurisdiction by state, live. Loaded once per
 * filter (mine / overdue go to the server), then kept current by `order:new`
 * and `order:updated`; a reconnect reloads, so nothing is lost to a cut socket.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { OrderState, WorkOrderView } from '@api/contract.ts';
import { LevelBadge } from '../alerts/AlertBits.tsx';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { useRealtime } from '../realtime.tsx';
import { navigate } from '../router.ts';
import { useSession } from '../session.tsx';
import { CreateOrderDialog } from './CreateOrderDialog.tsx';
import { Countdown, isOverdueAt, ORDER_STATES, OrderStateBadge, useNow, useOrgUnits } from './orderBits.tsx';
import { ordersApi } from './ordersApi.ts';

const PAGE = 500;
const MAX_PAGES = 10;

type Tab = OrderState | 'all';

export function OrdersPage() {
  const { t, formatTime } = useI18n();
  const { user, can } = useSession();
  const { socket } = useRealtime();
  const { byId: units } = useOrgUnits();
  const now = useNow();
  const [tab, setTab] = useState<Tab>('all');
  const [mine, setMine] = useState(false);
  const [overdue, setOverdue] = useState(false);
  const [orders, setOrders] = useState<ReadonlyMap<number, WorkOrderView>>(new Map());
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);
  const [reloadToken, setReloadToken] = useState(0);

  const merge = useCallback((items: readonly WorkOrderView[], reset = false) => {
    setOrders((prev) => {
      const next = new Map(reset ? [] : prev);
      for (const o of items) {
        const old = next.get(o.id);
        if (!old || old.version <= o.version) next.set(o.id, o);
      }
      return next;
    });
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    void (async () => {
      try {
        const all: WorkOrderView[] = [];
        let before: number | undefined;
        for (let i = 0; i < MAX_PAGES; i++) {
          const page = await ordersApi.list({ mine, overdue, before, limit: PAGE }, controller.signal);
          all.push(...page.items);
          if (!page.nextCursor) break;
          before = Number(page.nextCursor);
        }
        merge(all, true);
        setError(null);
      } catch (err) {
        if (!controller.signal.aborted) setError(err);
      } finally {
        if (!controller.signal.aborted) setLoading(false);
      }
    })();
    return () => controller.abort();
  }, [mine, overdue, merge, reloadToken]);

  useEffect(() => {
    if (!socket) return;
    const onOrder = (o: WorkOrderView) => merge([o]);
    const onConnect = () => setReloadToken((n) => n + 1);
    socket.on('order:new', onOrder);
    socket.on('order:updated', onOrder);
    socket.io.on('reconnect', onConnect);
    return () => {
      socket.off('order:new', onOrder);
      socket.off('order:updated', onOrder);
      socket.io.off('reconnect', onConnect);
    };
  }, [socket, merge]);

  // Live events are not filtered by the server: apply the same filters here.
  const filtered = useMemo(
    () =>
      [...orders.values()]
        .filter((o) => (!mine || o.assigneeOrgUnitId === user.orgUnitId) && (!overdue || isOverdueAt(o, now)))
        .sort((a, b) => b.id - a.id),
    [orders, mine, overdue, user.orgUnitId, now],
  );
  const counts = useMemo(() => {
    const c: Record<Tab, number> = {
      all: filtered.length,
      reported: 0,
      assigned: 0,
      signed: 0,
      fed_back: 0,
      closed: 0,
    };
    for (const o of filtered) c[o.state] += 1;
    return c;
  }, [filtered]);
  const shown = tab === 'all' ? filtered : filtered.filter((o) => o.state === tab);

  return (
    <div className="orders-page">
      <div className="toolbar">
        <h1 className="page-title">{t('order.title')}</h1>
        <div className="tabs order-tabs" role="tablist">
          {(['all', ...ORDER_STATES] as const).map((s) => (
            <button
              key={s}
              type="button"
              role="tab"
              aria-selected={tab === s}
              data-tab={s}
              className={`tab ${tab === s ? 'tab--active' : ''}`}
              onClick={() => setTab(s)}
            >
              {s === 'all' ? t('order.tabAll') : t(`order.state.${s}`)}{' '}
              <span className="count" data-count={counts[s]}>
                {counts[s]}
              </span>
            </button>
          ))}
        </div>
        <label className="check">
          <input type="checkbox" name="order-mine" checked={mine} onChange={(e) => setMine(e.target.checked)} />
          {t('order.mine')}
        </label>
        <label className="check">
          <input
            type="checkbox"
            name="order-overdue"
            checked={overdue}
            onChange={(e) => setOverdue(e.target.checked)}
          />
          {t('order.overdueOnly')}
        </label>
        <span className="toolbar__spacer" />
        {can('order.create') && (
          <button
            type="button"
            className="button button--primary"
            data-action="create-order"
            onClick={() => setCreating(true)}
          >
            {t('order.create')}
          </button>
        )}
      </div>
      <div className="table-wrap">
        <table className="data-table data-table--orders">
          <thead>
            <tr>
              <th>{t('order.colId')}</th>
              <th>{t('order.colLevel')}</th>
              <th>{t('order.colTitle')}</th>
              <th>{t('order.colPlace')}</th>
              <th>{t('order.colHolder')}</th>
              <th>{t('order.colState')}</th>
              <th>{t('order.colDeadline')}</th>
              <th>{t('order.colCreated')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((o) => (
              <tr
                key={o.id}
                data-order-id={o.id}
                data-state={o.state}
                className={`order-row ${isOverdueAt(o, now) ? 'order-row--overdue' : ''}`}
                onClick={() => navigate('orders', { orderId: o.id })}
              >
                <td className="mono">#{o.id}</td>
                <td>
                  <LevelBadge level={o.level} />
                </td>
                <td className="order-row__title">
                  <a
                    href={`/orders/${o.id}`}
                    onClick={(e) => {
                      e.preventDefault();
                      e.stopPropagation();
                      navigate('orders', { orderId: o.id });
                    }}
                  >
                    {o.title}
                  </a>
                  {o.superviseCount > 0 && (
                    <span
                      className="badge order-supervised"
                      title={t('order.supervisedTimes', { count: o.superviseCount })}
                    >
                      {t('order.supervised')} ×{o.superviseCount}
                    </span>
                  )}
                </td>
                <td>{units.get(o.placeOrgUnitId)?.name ?? '—'}</td>
                <td>{o.assigneeOrgName}</td>
                <td>
                  <OrderStateBadge state={o.state} />
                </td>
                <td>
                  <Countdown order={o} now={now} />
                </td>
                <td className="mono nowrap">{formatTime(o.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {!loading && error === null && shown.length === 0 && <div className="empty">{t('order.empty')}</div>}
        {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
        {loading && <div className="table-footer muted">{t('common.loading')}</div>}
      </div>
      {creating && (
        <CreateOrderDialog
          onClose={() => setCreating(false)}
          onCreated={(o) => {
            merge([o]);
            setCreating(false);
            navigate('orders', { orderId: o.id });
          }}
        />
      )}
    </div>
  );
}
