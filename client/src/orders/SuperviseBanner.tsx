/** 督办: a banner for every `order:supervise` the user's unit receives, until dismissed. */
import { useEffect, useState } from 'react';
import type { OrderSuperviseEvent } from '@api/contract.ts';
import { useI18n } from '../i18n.tsx';
import { useRealtime } from '../realtime.tsx';
import { navigate } from '../router.ts';

const MAX_SHOWN = 5;

export function SuperviseBanner() {
  const { t, formatTime } = useI18n();
  const { socket } = useRealtime();
  const [events, setEvents] = useState<OrderSuperviseEvent[]>([]);

  useEffect(() => {
    if (!socket) return;
    const onSupervise = (e: OrderSuperviseEvent) =>
      setEvents((prev) => [e, ...prev.filter((p) => p.orderId !== e.orderId)].slice(0, MAX_SHOWN));
    socket.on('order:supervise', onSupervise);
    return () => {
      socket.off('order:supervise', onSupervise);
    };
  }, [socket]);

  if (events.length === 0) return null;
  const dismiss = (orderId: number) => setEvents((prev) => prev.filter((p) => p.orderId !== orderId));
  return (
    <div className="supervise-stack" role="alert">
      {events.map((e) => (
        <div key={e.orderId} className="supervise-toast" data-order-id={e.orderId}>
          <strong className="supervise-toast__label">{t('order.superviseTitle', { count: e.count })}</strong>
          <a
            href={`/orders/${e.orderId}`}
            onClick={(ev) => {
              ev.preventDefault();
              dismiss(e.orderId);
              navigate('orders', { orderId: e.orderId });
            }}
          >
            #{e.orderId} {e.title}
          </a>
          <span className="muted">
            {t(e.kind === 'sign' ? 'order.superviseSign' : 'order.superviseHandle', { time: formatTime(e.deadline) })}
          </span>
          <button
            type="button"
            className="icon-button"
            aria-label={t('common.close')}
            title={t('common.close')}
            onClick={() => dismiss(e.orderId)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
