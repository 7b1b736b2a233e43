import { useCallback, useEffect } from 'react';
import { Modal } from '../components/Modal.tsx';
import { useI18n } from '../i18n.tsx';
import { LivePlayer } from '../live/LivePlayer.tsx';
import { AlertActions, AlertStatusBadge, LevelBadge } from './AlertBits.tsx';
import { useAlerts } from './AlertsProvider.tsx';

/** Linked cameras opened in the pop-up (sub stream). */
const MAX_TILES = 4;

/**
 * The pop-up for a new red or orange alert: what and where, the linked cameras
 * playing live, and acknowledge. It goes away once the alert is handled here or elsewhere.
 */
export function AlertPopup() {
  const { t, formatTime } = useI18n();
  const { alerts, popupQueue, dismissPopup } = useAlerts();
  const id = popupQueue[0];
  const alert = id === undefined ? undefined : alerts.find((a) => a.id === id);

  useEffect(() => {
    if (id !== undefined && alert && alert.status !== 'new') dismissPopup(id);
  }, [id, alert, dismissPopup]);

  const close = useCallback(() => {
    if (id !== undefined) dismissPopup(id);
  }, [id, dismissPopup]);

  if (!alert || alert.status !== 'new') return null;
  const cameras = alert.linkedCameraIds.slice(0, MAX_TILES);
  const more = popupQueue.length - 1;

  return (
    <Modal title={t('alert.popupTitle', { level: t(`alert.level.${alert.level}`) })} onClose={close} wide>
      <div className={`alert-popup alert-popup--${alert.level}`} data-alert-id={alert.id} data-level={alert.level}>
        <div className="alert-popup__head">
          <LevelBadge level={alert.level} />
          <strong className="alert-popup__title">{alert.title}</strong>
          <AlertStatusBadge status={alert.status} />
        </div>
        <dl className="alert-popup__facts">
          <dt>{t('alert.colType')}</dt>
          <dd>{t(`alert.type.${alert.type}`)}</dd>
          <dt>{t('alert.colPlace')}</dt>
          <dd>{alert.orgUnitName}</dd>
          <dt>{t('alert.colTime')}</dt>
          <dd className="mono">{formatTime(alert.lastAt)}</dd>
          <dt>{t('alert.colCount')}</dt>
          <dd>{alert.count}</dd>
        </dl>
        {alert.description && <p className="alert-popup__description">{alert.description}</p>}
        {cameras.length > 0 ? (
          <div className={`alert-popup__tiles alert-popup__tiles--${Math.min(cameras.length, 4)}`}>
            {cameras.map((cameraId) => (
              <div key={cameraId} className="alert-popup__tile" data-camera-id={cameraId}>
                <LivePlayer cameraId={cameraId} quality="sub" />
              </div>
            ))}
          </div>
        ) : (
          <p className="muted">{t('alert.noCameras')}</p>
        )}
        <div className="alert-popup__footer">
          <AlertActions alert={alert} />
          <span className="toolbar__spacer" />
          {more > 0 && <span className="muted">{t('alert.morePending', { count: more })}</span>}
          <button type="button" className="button" onClick={close}>
            {t('alert.later')}
          </button>
        </div>
      </div>
    </Modal>
  );
}
