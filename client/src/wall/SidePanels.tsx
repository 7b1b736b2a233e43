/** The wall's smaller panels: open alerts (draggable to a tile) and a compact online rate. */
import type { NetworkView } from '@api/contract.ts';
import { useAlerts } from '../alerts/AlertsProvider.tsx';
import { ALERT_LEVEL_COLORS, isOpen, levelRank } from '../alerts/alertColors.ts';
import { useI18n } from '../i18n.tsx';
import { networkColor } from '../networkColors.ts';
import { dragCamera } from './CameraTree.tsx';
import type { WallPoint } from './model.ts';

export function WallAlerts({ onShow }: { onShow: (cameraIds: number[]) => void }) {
  const { t, formatTime } = useI18n();
  const { alerts, enabled } = useAlerts();
  if (!enabled) return null;
  const open = alerts
    .filter((a) => isOpen(a.status))
    .sort((a, b) => levelRank(b.level) - levelRank(a.level) || b.lastAt.localeCompare(a.lastAt))
    .slice(0, 50);
  return (
    <section className="wall-alerts" aria-label={t('wall.alerts')}>
      <h2 className="wall-panel__title">
        {t('wall.alerts')} <span className="wall-tree__count">{open.length}</span>
      </h2>
      {open.length === 0 && <p className="wall-panel__empty">{t('alert.empty')}</p>}
      <ul>
        {open.map((a) => {
          const cams = [...new Set([...(a.cameraId !== null ? [a.cameraId] : []), ...a.linkedCameraIds])];
          return (
            <li key={a.id}>
              <button
                type="button"
                className="wall-alert"
                style={{ borderLeftColor: ALERT_LEVEL_COLORS[a.level] }}
                draggable={cams.length > 0}
                onDragStart={(e) => cams[0] !== undefined && dragCamera(e, cams[0])}
                onClick={() => cams.length && onShow(cams)}
                disabled={cams.length === 0}
                title={cams.length ? t('wall.alertShow') : t('alert.noCameras')}
              >
                <span className="wall-alert__title">{a.title}</span>
                <span className="wall-alert__meta">
                  {t(`alert.level.${a.level}`)} · {a.orgUnitName} · {formatTime(a.lastAt)}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

export function WallRate({ points, networks }: { points: readonly WallPoint[]; networks: readonly NetworkView[] }) {
  const { t, lang } = useI18n();
  const online = points.filter((p) => p.status === 'online').length;
  const pct = (n: number, of: number) => (of ? `${((n / of) * 100).toFixed(1)}%` : '—');
  const ids = networks.map((n) => n.id);
  return (
    <section className="wall-rate" aria-label={t('rate.title')}>
      <h2 className="wall-panel__title">
        {t('rate.title')} <strong className="wall-rate__overall">{pct(online, points.length)}</strong>
      </h2>
      <ul>
        {networks.map((n) => {
          const mine = points.filter((p) => p.networkId === n.id);
          if (!mine.length) return null;
          const on = mine.filter((p) => p.status === 'online').length;
          return (
            <li key={n.id} className="wall-rate__row">
              <span className="wall-cam__net" style={{ background: networkColor(n.id, ids) }} aria-hidden="true" />
              <span className="wall-rate__name">{lang === 'en' ? n.nameEn : n.name}</span>
              <span className="wall-rate__bar">
                <span style={{ width: pct(on, mine.length) === '—' ? 0 : `${(on / mine.length) * 100}%` }} />
              </span>
              <span className="wall-rate__pct">{pct(on, mine.length)}</span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
