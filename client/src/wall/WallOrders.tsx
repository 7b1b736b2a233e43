/**
 * The wall's work-order panel: open orders the screen's unit must act on,
 * with a countdown to the running deadline, overdue first, a new order
 * flashing as it arrives. Live through `order:new` / `order:updated`; every
 * (re)connection reloads, so a cut socket loses nothing.
 */
import { useCallback, useEffect, useState } from 'react';
import type { WorkOrderView } from '@api/contract.ts';
import { ALERT_LEVEL_COLORS } from '../alerts/alertColors.ts';
import { useI18n } from '../i18n.tsx';
import { Countdown, isOverdueAt, useNow } from '../orders/orderBits.tsx';
import { ordersApi } from '../orders/ordersApi.ts';
import { useRealtime } from '../realtime.tsx';
import { dragCamera } from './CameraTree.tsx';

const OPEN_STATES = ['reported', 'assigned', 'signed'] as const;
const FLASH_MS = 15_000;

export function WallOrders({ unitId, onShow }: { unitId: number; onShow: (cameraIds: number[]) => void }) {
  const { t } = useI18n();
  const { socket } = useRealtime();
  const now = useNow();
  const [orders, setOrders] = useState<WorkOrderView[]>([]);
  const [fresh, setFresh] = useState<Map<number, number>>(new Map());

  const load = useCallback((signal?: AbortSignal) => {
    ordersApi.list({ state: [...OPEN_STATES], mine: true, limit: 100 }, signal).then(
      (page) => setOrders(page.items),
      (err: unknown) => {
        if (!signal?.aborted) console.warn('wall orders', err);
      },
    );
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal);
    return () => controller.abort();
  }, [load]);

  useEffect(() => {
    if (!socket) return;
    const onOrder = (o: WorkOrderView, isNew: boolean) => {
      const mine = o.assigneeOrgUnitId === unitId && (OPEN_STATES as readonly string[]).includes(o.state);
      setOrders((cur) => {
        const rest = cur.filter((x) => x.id !== o.id);
        return mine ? [o, ...rest] : rest;
      });
      // An order that just reached this unit flashes, whether it is new or came down the chain.
      if (mine && (isNew || o.state === 'assigned' || o.state === 'reported'))
        setFresh((cur) => new Map(cur).set(o.id, Date.now()));
    };
    const onNew = (o: WorkOrderView) => onOrder(o, true);
    const onUpdated = (o: WorkOrderView) => onOrder(o, false);
    // Every (re)connection reloads: an order that arrived before the socket joined its room is not lost.
    const onConnect = () => load();
    socket.on('order:new', onNew);
    socket.on('order:updated', onUpdated);
    socket.on('connect', onConnect);
    socket.on('realtime:resync', onConnect);
    return () => {
      socket.off('order:new', onNew);
      socket.off('order:updated', onUpdated);
      socket.off('connect', onConnect);
      socket.off('realtime:resync', onConnect);
    };
  }, [socket, unitId, load]);

  const sorted = [...orders].sort(
    (a, b) =>
      Number(isOverdueAt(b, now)) - Number(isOverdueAt(a, now)) ||
      (a.signDeadline ?? a.handleDeadline ?? '').localeCompare(b.signDeadline ?? b.handleDeadline ?? ''),
  );
  return (
    <section className="wall-orders" aria-label={t('wall.orders')}>
      <h2 className="wall-panel__title">
        {t('wall.orders')} <span className="wall-tree__count">{orders.length}</span>
      </h2>
      {orders.length === 0 && <p className="wall-panel__empty">{t('wall.ordersEmpty')}</p>}
      <ul>
        {sorted.slice(0, 30).map((o) => {
          const flashing = (fresh.get(o.id) ?? 0) > Date.now() - FLASH_MS;
          return (
            <li key={o.id}>
              <button
                type="button"
                className={`wall-alert wall-order ${flashing ? 'wall-order--new' : ''}`}
                style={{ borderLeftColor: ALERT_LEVEL_COLORS[o.level] }}
                data-order-id={o.id}
                draggable={o.cameraIds.length > 0}
                onDragStart={(e) => o.cameraIds[0] !== undefined && dragCamera(e, o.cameraIds[0])}
                onClick={() => o.cameraIds.length && onShow(o.cameraIds)}
                title={o.cameraIds.length ? t('wall.alertShow') : t('alert.noCameras')}
              >
                <span className="wall-alert__title">
                  #{o.id} {o.title}
                </span>
                <span className="wall-alert__meta">
                  {t(`order.state.${o.state}`)} · <Countdown order={o} now={now} />
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
