/**
 * 视频质量诊断: the technician's fault list with thumbnails, by unit (township), quality and fault kind,
 * each point's online status beside its picture quality; a point's history, its reference picture beside
 * today's, and "renew the reference" for a camera that was turned for good; a sweep of a unit on demand.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import {
  QUALITY_KINDS,
  QUALITY_STATUSES,
  type QualityKind,
  type QualityPointDetail,
  type QualityPointView,
  type QualityStatus,
  type QualitySweepView,
} from '@api/contract.ts';
import { isAbort } from '../api.ts';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { descendantsOf, useOrgUnits } from '../orders/orderBits.tsx';
import { useRealtime } from '../realtime.tsx';
import { useSession } from '../session.tsx';
import { qualityApi, referenceUrl, thumbnailUrl } from './qualityApi.ts';
import { QualityKinds, QualityBadge } from './qualityBits.tsx';
import './quality.css';

export function QualityPage() {
  const { t } = useI18n();
  const { user, can } = useSession();
  const { socket } = useRealtime();
  const { units, byId } = useOrgUnits();
  const [unitId, setUnitId] = useState<number>(user.orgUnitId);
  const [quality, setQuality] = useState<QualityStatus | ''>('faulty');
  const [kind, setKind] = useState<QualityKind | ''>('');
  const [items, setItems] = useState<QualityPointView[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [sweep, setSweep] = useState<QualitySweepView | null>(null);
  const [reload, setReload] = useState(0);

  const choices = useMemo(() => {
    const own = byId.get(user.orgUnitId);
    const parents = new Set(units.map((u) => u.parentId));
    return [...(own ? [own] : []), ...descendantsOf(user.orgUnitId, units).filter((u) => parents.has(u.id))];
  }, [units, byId, user.orgUnitId]);

  useEffect(() => {
    const controller = new AbortController();
    qualityApi
      .points(
        {
          ...(unitId !== user.orgUnitId ? { org: unitId } : {}),
          ...(quality ? { quality } : {}),
          ...(kind ? { kind } : {}),
        },
        controller.signal,
      )
      .then(
        (page) => {
          setItems(page.items);
          setError(null);
        },
        (err: unknown) => {
          if (!isAbort(err)) setError(err);
        },
      );
    return () => controller.abort();
  }, [unitId, quality, kind, user.orgUnitId, reload]);

  // Pushes in scope: reload the list (a sweep sends many at once; one reload per second is enough).
  useEffect(() => {
    if (!socket) return;
    let timer = 0;
    const soon = () => {
      if (!timer) timer = window.setTimeout(() => ((timer = 0), setReload((n) => n + 1)), 1000);
    };
    socket.on('quality:changed', soon);
    return () => {
      window.clearTimeout(timer);
      socket.off('quality:changed', soon);
    };
  }, [socket]);

  // The newest sweep, polled while it runs.
  const loadSweep = useCallback(() => {
    qualityApi.sweeps().then(
      (list) => setSweep(list[0] ?? null),
      () => undefined,
    );
  }, []);
  useEffect(loadSweep, [loadSweep]);
  useEffect(() => {
    if (sweep?.status !== 'running') return;
    const timer = window.setInterval(loadSweep, 3000);
    return () => window.clearInterval(timer);
  }, [sweep?.status, loadSweep]);

  const start = () => {
    qualityApi.startSweep(unitId === user.orgUnitId ? {} : { orgUnitId: unitId }).then((s) => {
      setSweep(s);
      setError(null);
    }, setError);
  };

  return (
    <div className="quality">
      <div className="toolbar">
        <h1 className="page-title">{t('quality.title')}</h1>
        <label className="dashboard__control">
          {t('dash.unit')}
          <select name="quality-unit" value={unitId} onChange={(e) => setUnitId(Number(e.target.value))}>
            {choices.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
        </label>
        <label className="dashboard__control">
          {t('quality.status')}
          <select name="quality-status" value={quality} onChange={(e) => setQuality(e.target.value as QualityStatus)}>
            <option value="">{t('quality.all')}</option>
            {QUALITY_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`quality.status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="dashboard__control">
          {t('quality.kind')}
          <select name="quality-kind" value={kind} onChange={(e) => setKind(e.target.value as QualityKind)}>
            <option value="">{t('quality.all')}</option>
            {QUALITY_KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`quality.kind.${k}`)}
              </option>
            ))}
          </select>
        </label>
        <span className="toolbar__spacer" />
        {sweep && (
          <span className="muted" data-sweep-status={sweep.status}>
            {t('quality.sweepLine', {
              status: t(`quality.sweep.${sweep.status}`),
              checked: sweep.checked,
              total: sweep.total,
              faulty: sweep.faulty,
            })}
          </span>
        )}
        {can('quality.manage') && (
          <button
            type="button"
            className="button"
            data-action="sweep"
            disabled={sweep?.status === 'running'}
            onClick={start}
          >
            {t('quality.sweepNow')}
          </button>
        )}
      </div>
      {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
      <div className="quality__body">
        <div className="table-wrap">
          <table className="data-table" data-table="quality">
            <thead>
              <tr>
                <th>{t('quality.picture')}</th>
                <th>{t('quality.point')}</th>
                <th>{t('dash.unit')}</th>
                <th>{t('quality.online')}</th>
                <th>{t('quality.status')}</th>
                <th>{t('quality.checkedAt')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr
                  key={p.cameraId}
                  data-camera-id={p.cameraId}
                  className={selected === p.cameraId ? 'row--selected' : ''}
                  onClick={() => setSelected(p.cameraId)}
                >
                  <td>
                    {p.hasThumbnail && p.lastCheckId !== null ? (
                      <img className="quality__thumb" src={thumbnailUrl(p.lastCheckId)} alt="" loading="lazy" />
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>{p.name}</td>
                  <td>{p.orgUnitName}</td>
                  <td>
                    <StatusBadge status={p.online} />
                  </td>
                  <td>
                    <QualityBadge status={p.quality} />
                    <QualityKinds kinds={p.kinds} reason={p.reason} />
                  </td>
                  <td className="mono">{p.checkedAt ? new Date(p.checkedAt).toLocaleString() : '—'}</td>
                </tr>
              ))}
              {items.length === 0 && (
                <tr>
                  <td colSpan={6} className="muted">
                    {t('quality.empty')}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        {selected !== null && (
          <PointPanel cameraId={selected} onChanged={() => setReload((n) => n + 1)} key={`${selected}-${reload}`} />
        )}
      </div>
    </div>
  );
}

function PointPanel({ cameraId, onChanged }: { cameraId: number; onChanged: () => void }) {
  const { t } = useI18n();
  const { can } = useSession();
  const [point, setPoint] = useState<QualityPointDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const controller = new AbortController();
    qualityApi.point(cameraId, controller.signal).then(setPoint, (err: unknown) => {
      if (!isAbort(err)) setError(err);
    });
    return () => controller.abort();
  }, [cameraId]);
  const renew = () =>
    qualityApi.renewReference(cameraId).then((p) => {
      setPoint(p);
      onChanged();
    }, setError);
  if (!point) return error ? <div className="notice notice--error">{describeError(error, t)}</div> : null;
  return (
    <aside className="quality__panel" data-panel="quality-point">
      <h2>{point.name}</h2>
      {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
      <div className="quality__pictures">
        <figure>
          <figcaption>{t('quality.today')}</figcaption>
          {point.hasThumbnail && point.lastCheckId !== null ? (
            <img src={thumbnailUrl(point.lastCheckId)} alt={t('quality.today')} />
          ) : (
            <span className="muted">—</span>
          )}
        </figure>
        <figure>
          <figcaption>
            {t('quality.reference')}
            {point.referenceAt ? ` · ${new Date(point.referenceAt).toLocaleDateString()}` : ''}
          </figcaption>
          {point.referenceAt ? (
            <img src={`${referenceUrl(point.cameraId)}?at=${encodeURIComponent(point.referenceAt)}`} alt="" />
          ) : (
            <span className="muted">—</span>
          )}
        </figure>
      </div>
      {can('quality.manage') && point.lastCheckId !== null && (
        <button type="button" className="button" data-action="renew-reference" onClick={() => void renew()}>
          {t('quality.renewReference')}
        </button>
      )}
      <h3>{t('quality.history')}</h3>
      <ul className="quality__history">
        {point.history.map((c) => (
          <li key={c.id} data-check-id={c.id}>
            <span className="mono">{new Date(c.at).toLocaleString()}</span> <QualityBadge status={c.status} />
            <QualityKinds kinds={c.kinds} reason={c.reason} />
          </li>
        ))}
      </ul>
    </aside>
  );
}
