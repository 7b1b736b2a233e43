/**
 * What a wall screen shows of an alert (issue 17): a banner across the screen
 * while alerts of its rule's levels are new, and a pop-up for the latest one,
 * big enough to read from across the room. On a kiosk neither has buttons.
 */
import type { AlertView } from '@api/contract.ts';
import { AlertActions, LevelBadge } from '../alerts/AlertBits.tsx';
import { useAlertSnapshot } from '../alerts/useAlertSnapshot.ts';
import { useI18n } from '../i18n.tsx';

export function WallAlertBanner({ alerts }: { alerts: readonly AlertView[] }) {
  const { t, formatTime } = useI18n();
  const top = alerts[0];
  if (!top) return null;
  return (
    <div className={`wall-alert-banner wall-alert-banner--${top.level}`} role="alert" data-alert-id={top.id}>
      <LevelBadge level={top.level} />
      <strong className="wall-alert-banner__title">{top.title}</strong>
      <span className="wall-alert-banner__meta">
        {top.orgUnitName} · {t(`alert.type.${top.type}`)} · {formatTime(top.lastAt)}
      </span>
      {alerts.length > 1 && (
        <span className="wall-alert-banner__more">{t('wall.alertMore', { count: alerts.length - 1 })}</span>
      )}
    </div>
  );
}

export function WallAlertPopup({
  alert,
  interactive,
  onClose,
}: {
  alert: AlertView;
  interactive: boolean;
  onClose: () => void;
}) {
  const { t, formatTime } = useI18n();
  const snapshot = useAlertSnapshot(alert.id, alert.hasSnapshot);
  return (
    <section
      className={`wall-alert-popup wall-alert-popup--${alert.level}`}
      role="alertdialog"
      aria-label={t('alert.popupTitle', { level: t(`alert.level.${alert.level}`) })}
      data-alert-id={alert.id}
      data-level={alert.level}
    >
      <header className="wall-alert-popup__head">
        <LevelBadge level={alert.level} />
        <strong className="wall-alert-popup__title">{alert.title}</strong>
        {interactive && (
          <button
            type="button"
            className="wall-icon wall-alert-popup__close"
            aria-label={t('common.closeWindow')}
            title={t('common.closeWindow')}
            onClick={onClose}
          >
            ×
          </button>
        )}
      </header>
      <div className="wall-alert-popup__body">
        {snapshot && (
          <img
            className="wall-alert-popup__snapshot"
            src={snapshot}
            alt={t('alert.snapshotAlt', { title: alert.title })}
          />
        )}
        <dl className="wall-alert-popup__facts">
          <dt>{t('alert.colPlace')}</dt>
          <dd>{alert.orgUnitName}</dd>
          <dt>{t('alert.colType')}</dt>
          <dd>{t(`alert.type.${alert.type}`)}</dd>
          <dt>{t('alert.colTime')}</dt>
          <dd>{formatTime(alert.lastAt)}</dd>
          {alert.count > 1 && (
            <>
              <dt>{t('alert.colCount')}</dt>
              <dd>{alert.count}</dd>
            </>
          )}
        </dl>
      </div>
      {alert.description && <p className="wall-alert-popup__description">{alert.description}</p>}
      {interactive && (
        <footer className="wall-alert-popup__footer">
          <AlertActions alert={alert} compact />
          <a className="wall-button" href={`/alerts/${alert.id}`} target="_blank" rel="noreferrer">
            {t('alert.openDetail')}
          </a>
        </footer>
      )}
    </section>
  );
}
