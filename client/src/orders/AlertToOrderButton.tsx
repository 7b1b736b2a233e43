import { useState } from 'react';
import type { AlertView } from '@api/contract.ts';
import { useI18n } from '../i18n.tsx';
import { navigate } from '../router.ts';
import { useSession } from '../session.tsx';
import { describeOrderError } from './orderErrors.ts';
import { ordersApi } from './ordersApi.ts';

/** 转工单: turn an open alert into a work order (title, level, place and cameras come from the alert). */
export function AlertToOrderButton({ alert }: { alert: AlertView }) {
  const { t } = useI18n();
  const { can } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!can('order.create') || (alert.status !== 'new' && alert.status !== 'acknowledged')) return null;
  const run = () => {
    setBusy(true);
    setError(null);
    ordersApi.create({ alertId: alert.id }).then(
      (order) => {
        setBusy(false);
        navigate('orders', { orderId: order.id });
      },
      (err: unknown) => {
        setBusy(false);
        setError(err);
      },
    );
  };
  return (
    <>
      <button type="button" className="button" data-action="to-order" disabled={busy} onClick={run}>
        {t('order.fromAlertButton')}
      </button>
      {error !== null && <span className="field__error">{describeOrderError(error, t)}</span>}
    </>
  );
}
