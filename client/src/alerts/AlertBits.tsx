import { useState } from 'react';
import type { AlertLevel, AlertStatus, AlertView } from '@api/contract.ts';
import type { AlertAction } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { AlertToOrderButton } from '../orders/AlertToOrderButton.tsx';
import { useSession } from '../session.tsx';
import { useAlerts } from './AlertsProvider.tsx';

export function LevelBadge({ level }: { level: AlertLevel }) {
  const { t } = useI18n();
  return (
    <span className={`alert-level alert-level--${level}`} data-level={level}>
      {t(`alert.level.${level}`)}
    </span>
  );
}

export function AlertStatusBadge({ status }: { status: AlertStatus }) {
  const { t } = useI18n();
  return (
    <span className={`badge alert-status alert-status--${status}`} data-status={status}>
      {t(`alert.status.${status}`)}
    </span>
  );
}

const ACTIONS_FROM: Record<AlertAction, readonly AlertStatus[]> = {
  ack: ['new'],
  'false-alarm': ['new', 'acknowledged'],
  close: ['new', 'acknowledged', 'dispatched'],
};

/** Acknowledge / false alarm / close with an optional note (only with `alert.handle`). */
export function AlertActions({ alert, compact = false }: { alert: AlertView; compact?: boolean }) {
  const { t } = useI18n();
  const { can } = useSession();
  const { act } = useAlerts();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!can('alert.handle')) return null;
  const available = (['ack', 'false-alarm', 'close'] as const).filter((a) => ACTIONS_FROM[a].includes(alert.status));
  if (available.length === 0) return null;

  const run = (action: AlertAction) => {
    setBusy(true);
    setError(null);
    act(alert.id, action, note).then(
      () => {
        setBusy(false);
        setNote('');
      },
      (err: unknown) => {
        setBusy(false);
        setError(err);
      },
    );
  };

  return (
    <div className={`alert-actions ${compact ? 'alert-actions--compact' : ''}`}>
      <input
        className="alert-actions__note"
        name="alert-note"
        value={note}
        maxLength={1000}
        placeholder={t('alert.notePlaceholder')}
        onChange={(e) => setNote(e.target.value)}
      />
      {available.map((action) => (
        <button
          key={action}
          type="button"
          className={`button ${action === 'ack' ? 'button--primary' : ''}`}
          data-action={action}
          title={action === 'close' ? t('alert.closeTitle') : undefined}
          disabled={busy}
          onClick={() => run(action)}
        >
          {t(`alert.action.${action}`)}
        </button>
      ))}
      <AlertToOrderButton alert={alert} />
      {error !== null && <span className="field__error">{describeError(error, t)}</span>}
    </div>
  );
}
