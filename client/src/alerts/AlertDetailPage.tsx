/**
 * One alert at /alerts/:id (issue 17): what, where and when; the snapshot
 * stored when it arrived; its camera and linked cameras live; the place on the
 * map; its history; the actions; and links to the work order made of it and
 * to the alert it repeats (previousAlertId). Live changes (handled elsewhere,
 * the snapshot landing) refresh it.
 */
import { useEffect, useMemo, useState } from 'react';
import { ALERT_STATUSES, type AlertDetail, type CameraPointView } from '@api/contract.ts';
import { api, isAbort } from '../api.ts';
import { MapView, type MapPoint } from '../components/MapView.tsx';
import { describeError } from '../errors.ts';
import { useI18n, type MessageKey, type Translate } from '../i18n.tsx';
import { LivePlayer } from '../live/LivePlayer.tsx';
import { navigate, navigateToAlert, navigateToPlayback } from '../router.ts';
import { useSession } from '../session.tsx';
import { useMapConfig } from '../useMapConfig.ts';
import { AlertActions, AlertStatusBadge, LevelBadge } from './AlertBits.tsx';
import { useAlerts } from './AlertsProvider.tsx';
import { ALERT_LEVEL_COLORS } from './alertColors.ts';
import { alertsApi } from './alertsApi.ts';
import { useAlertSnapshot } from './useAlertSnapshot.ts';
import './alerts.css';

/** Cameras played at once on the page (sub stream). */
const MAX_LIVE = 4;

const HISTORY_KEYS: Record<string, MessageKey> = {
  created: 'alert.history.created',
  acknowledged: 'alert.history.acknowledged',
  false_alarm: 'alert.history.false_alarm',
  closed: 'alert.history.closed',
  dispatched: 'alert.history.dispatched',
  ptz_preset: 'alert.history.ptz_preset',
};

/** The notes and actors the server writes itself, in the user's language; people's own notes as written. */
function noteText(note: string | null, t: Translate): string {
  if (!note) return '';
  const repeat = /^repeat of alert (\d+) \((\w+)\)$/.exec(note);
  if (repeat) {
    const status = ALERT_STATUSES.find((s) => s === repeat[2]);
    return t('alert.history.repeatOf', { id: repeat[1]!, status: status ? t(`alert.status.${status}`) : repeat[2]! });
  }
  const preset = /^camera (\d+) → preset (\S+) \((.*), (\d+) m\)$/.exec(note);
  if (preset)
    return t('alert.history.presetNote', {
      camera: preset[1]!,
      preset: preset[2]!,
      name: preset[3]!,
      distance: preset[4]!,
    });
  if (note === 'camera back online') return t('alert.history.backOnline');
  return note;
}

function actorText(actor: string, t: Translate): string {
  if (actor === 'system:health') return t('alert.actor.health');
  if (actor === 'system:onvif') return t('alert.actor.onvif');
  if (actor === 'system:alerts') return t('alert.actor.alerts');
  if (actor.startsWith('source:')) return t('alert.actor.source', { name: actor.slice('source:'.length) });
  return actor;
}

/** A link inside the single-page app: a plain click navigates without a reload. */
function AppLink(props: { href: string; go: () => void; className?: string; children: React.ReactNode }) {
  return (
    <a
      href={props.href}
      className={props.className}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        props.go();
      }}
    >
      {props.children}
    </a>
  );
}

export function AlertDetailPage({ alertId }: { alertId: number }) {
  const { t, formatTime } = useI18n();
  const { alerts } = useAlerts();
  const mapConfig = useMapConfig();
  const [detail, setDetail] = useState<AlertDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [cameras, setCameras] = useState<CameraPointView[]>([]);
  // The live store's version of this alert: a newer seq means it changed (status, snapshot, fold).
  const liveSeq = alerts.find((a) => a.id === alertId)?.seq ?? 0;
  const snapshot = useAlertSnapshot(alertId, detail?.hasSnapshot);

  useEffect(() => {
    const controller = new AbortController();
    alertsApi.detail(alertId, controller.signal).then(
      (d) => {
        setDetail(d);
        setError(null);
      },
      (err: unknown) => !isAbort(err) && setError(err),
    );
    return () => controller.abort();
  }, [alertId, liveSeq]);

  const cameraIds = useMemo(
    () =>
      detail ? [...new Set([...(detail.cameraId !== null ? [detail.cameraId] : []), ...detail.linkedCameraIds])] : [],
    [detail],
  );
  const cameraKey = cameraIds.join(',');
  const canPlayback = useSession().can('recording.read');
  useEffect(() => {
    if (!cameraKey) return;
    const controller = new AbortController();
    Promise.all(cameraKey.split(',').map((id) => api.camera(Number(id), controller.signal).catch(() => null))).then(
      (list) => setCameras(list.filter((c): c is CameraPointView => c !== null)),
      () => undefined,
    );
    return () => controller.abort();
  }, [cameraKey]);

  const points = useMemo<MapPoint[]>(
    () => cameras.map((c) => ({ id: c.id, position: c.position, color: '#38bdf8', dim: c.status === 'offline' })),
    [cameras],
  );
  const mapAlerts = useMemo(
    () =>
      detail
        ? [
            {
              id: detail.id,
              position: detail.position,
              color: ALERT_LEVEL_COLORS[detail.level],
              fresh: detail.status === 'new',
              rank: 0,
            },
          ]
        : [],
    [detail],
  );

  if (error !== null) {
    return (
      <div className="alert-detail">
        <AppLink href="/alerts" go={() => navigateToAlert(null)} className="link-button">
          {t('alert.backToList')}
        </AppLink>
        <div className="notice notice--error">{describeError(error, t)}</div>
      </div>
    );
  }
  if (!detail) return <div className="alert-detail muted">{t('common.loading')}</div>;

  const name = (id: number) => cameras.find((c) => c.id === id)?.name ?? `#${id}`;
  const live = cameraIds.slice(0, MAX_LIVE);

  return (
    <div className={`alert-detail alert-detail--${detail.level}`} data-alert-id={detail.id} data-level={detail.level}>
      <div className="alert-detail__head">
        <AppLink href="/alerts" go={() => navigateToAlert(null)} className="link-button">
          {t('alert.backToList')}
        </AppLink>
        <LevelBadge level={detail.level} />
        <h1 className="alert-detail__title">{detail.title}</h1>
        <AlertStatusBadge status={detail.status} />
        <span className="muted mono">{t('alert.number', { id: detail.id })}</span>
      </div>

      <div className="alert-detail__body">
        <section className="alert-detail__facts" aria-label={t('alert.facts')}>
          <dl>
            <dt>{t('alert.colType')}</dt>
            <dd>{t(`alert.type.${detail.type}`)}</dd>
            <dt>{t('alert.colPlace')}</dt>
            <dd>{detail.orgUnitName}</dd>
            <dt>{t('alert.position')}</dt>
            <dd className="mono">
              {detail.position.lon.toFixed(6)}, {detail.position.lat.toFixed(6)}
            </dd>
            <dt>{t('alert.firstAt')}</dt>
            <dd className="mono">{formatTime(detail.firstAt)}</dd>
            <dt>{t('alert.colTime')}</dt>
            <dd className="mono">{formatTime(detail.lastAt)}</dd>
            <dt>{t('alert.colCount')}</dt>
            <dd>{detail.count}</dd>
            {detail.cameraId !== null && (
              <>
                <dt>{t('alert.camera')}</dt>
                <dd>{name(detail.cameraId)}</dd>
              </>
            )}
            <dt>{t('alert.order')}</dt>
            <dd>
              {detail.orderId !== null ? (
                <AppLink
                  href={`/orders/${detail.orderId}`}
                  go={() => navigate('orders', { orderId: detail.orderId })}
                  className="alert-detail__order"
                >
                  {t('alert.orderLink', { id: detail.orderId })}
                </AppLink>
              ) : (
                <span className="muted">{t('common.none')}</span>
              )}
            </dd>
            {detail.previousAlertId !== undefined && (
              <>
                <dt>{t('alert.previous')}</dt>
                <dd>
                  <AppLink
                    href={`/alerts/${detail.previousAlertId}`}
                    go={() => navigateToAlert(detail.previousAlertId ?? null)}
                    className="alert-detail__previous"
                  >
                    {t('alert.previousLink', { id: detail.previousAlertId })}
                  </AppLink>
                </dd>
              </>
            )}
          </dl>
          {detail.description && <p className="alert-detail__description">{detail.description}</p>}
          <AlertActions alert={detail} />
        </section>

        <section className="alert-detail__snapshot" aria-label={t('alert.snapshot')}>
          <h2>{t('alert.snapshot')}</h2>
          {detail.hasSnapshot ? (
            <img
              src={snapshot ?? undefined}
              alt={t('alert.snapshotAlt', { title: detail.title })}
              className="alert-detail__image"
            />
          ) : (
            <p className="muted">{t('alert.noSnapshot')}</p>
          )}
        </section>

        <section className="alert-detail__map" aria-label={t('alert.map')}>
          <h2>{t('alert.map')}</h2>
          <div className="alert-detail__map-area">
            {mapConfig.status === 'ready' && (
              <MapView
                config={mapConfig.config}
                points={points}
                alerts={mapAlerts}
                pin={detail.position}
                initialCenter={detail.position}
                showPlaceLabels
              />
            )}
          </div>
        </section>

        <section className="alert-detail__live" aria-label={t('alert.liveCameras')}>
          <h2>{t('alert.liveCameras')}</h2>
          {canPlayback && cameraIds.length > 0 && (
            <button
              type="button"
              data-testid="alert-playback"
              onClick={() =>
                // 回放: the linked cameras from 30 s before the alert.
                navigateToPlayback(cameraIds[0]!, {
                  at: Date.parse(detail.firstAt) - 30_000,
                  cameras: cameraIds,
                  alert: detail.id,
                })
              }
            >
              {t('playback.open')}
            </button>
          )}
          {live.length ? (
            <div className={`alert-popup__tiles alert-popup__tiles--${Math.min(live.length, 4)}`}>
              {live.map((id) => (
                <div key={id} className="alert-popup__tile alert-detail__tile" data-camera-id={id}>
                  <LivePlayer cameraId={id} quality="sub" />
                  <span className="alert-detail__tile-name">{name(id)}</span>
                </div>
              ))}
            </div>
          ) : (
            <p className="muted">{t('alert.noCameras')}</p>
          )}
        </section>

        <section className="alert-detail__history" aria-label={t('alert.history')}>
          <h2>{t('alert.history')}</h2>
          <table className="data-table">
            <thead>
              <tr>
                <th>{t('alert.colTime')}</th>
                <th>{t('alert.historyActor')}</th>
                <th>{t('alert.historyAction')}</th>
                <th>{t('alert.historyNote')}</th>
              </tr>
            </thead>
            <tbody>
              {detail.history.map((h, i) => {
                const key = HISTORY_KEYS[h.action];
                return (
                  <tr key={i} data-action={h.action}>
                    <td className="mono nowrap">{formatTime(h.at)}</td>
                    <td>{actorText(h.actor, t)}</td>
                    <td>{key ? t(key) : h.action}</td>
                    <td>{noteText(h.note, t)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      </div>
    </div>
  );
}
