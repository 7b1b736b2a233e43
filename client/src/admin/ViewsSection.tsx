import { useCallback, useEffect, useState } from 'react';
import type { ViewSessionEntry } from '@api/contract.ts';
import { isAbort } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { navigate } from '../router.ts';
import { adminApi, type ViewQuery } from './adminApi.ts';

/** A local calendar day (`2026-11-01` from a date input) as the instant it starts, plus `days`. */
export function dayStart(day: string, days = 0): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const d = new Date(`${day}T00:00:00`);
  d.setDate(d.getDate() + days);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function minutesBetween(from: string, to: string): number {
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 60_000));
}

/** 调阅记录 — who watched which camera, when, for how long (GET /audit/view-sessions). */
export function ViewsSection() {
  const { t, formatTime } = useI18n();
  const [user, setUser] = useState('');
  const [camera, setCamera] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [query, setQuery] = useState<ViewQuery>({});
  const [items, setItems] = useState<ViewSessionEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    adminApi.viewSessions(query, null, controller.signal).then(
      (page) => {
        setItems(page.items);
        setCursor(page.nextCursor);
        setLoading(false);
      },
      (err: unknown) => {
        if (isAbort(err)) return;
        setError(err);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [query]);

  const more = useCallback(() => {
    if (!cursor) return;
    setLoading(true);
    adminApi.viewSessions(query, cursor).then(
      (page) => {
        setItems((prev) => [...prev, ...page.items]);
        setCursor(page.nextCursor);
        setLoading(false);
      },
      (err: unknown) => {
        setError(err);
        setLoading(false);
      },
    );
  }, [cursor, query]);

  const apply = () => {
    const cameraId = Number(camera);
    const q: ViewQuery = {};
    if (user.trim()) q.user = user.trim();
    if (Number.isInteger(cameraId) && cameraId > 0) q.camera = cameraId;
    const f = dayStart(from);
    const tt = dayStart(to, 1);
    if (f) q.from = f;
    if (tt) q.to = tt;
    setQuery(q);
  };

  return (
    <section className="admin-section" aria-label={t('admin.tab.views')}>
      <div className="toolbar">
        <h1 className="page-title">{t('admin.tab.views')}</h1>
        <span className="result-count">{t('audit.count', { count: items.length })}</span>
      </div>
      <p className="muted admin-intro">{t('admin.views.intro')}</p>
      <form
        className="toolbar toolbar--secondary admin-filters"
        onSubmit={(e) => {
          e.preventDefault();
          apply();
        }}
      >
        <label>
          {t('audit.filterUser')}
          <input name="user" value={user} onChange={(e) => setUser(e.target.value)} />
        </label>
        <label>
          {t('admin.views.camera')}
          <input name="camera" inputMode="numeric" value={camera} onChange={(e) => setCamera(e.target.value)} />
        </label>
        <label>
          {t('audit.filterFrom')}
          <input name="from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          {t('audit.filterTo')}
          <input name="to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <button type="submit" className="button">
          {t('audit.apply')}
        </button>
      </form>
      <div className="table-wrap">
        <table className="data-table data-table--views">
          <thead>
            <tr>
              <th>{t('audit.colUser')}</th>
              <th>{t('admin.views.camera')}</th>
              <th>{t('admin.views.quality')}</th>
              <th>{t('admin.views.started')}</th>
              <th>{t('admin.views.ended')}</th>
              <th>{t('admin.views.minutes')}</th>
              <th>{t('audit.colIp')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((v) => (
              <tr key={v.id} data-camera-id={v.cameraId}>
                <td>{v.username ?? t('common.none')}</td>
                <td>
                  {v.cameraName ? (
                    <a
                      href={`/registry/cameras/${v.cameraId}`}
                      onClick={(e) => {
                        e.preventDefault();
                        navigate('registry', { cameraId: v.cameraId });
                      }}
                    >
                      {v.cameraName}
                    </a>
                  ) : (
                    t('admin.views.deleted', { id: v.cameraId })
                  )}
                </td>
                <td>{t(v.quality === 'main' ? 'live.main' : 'live.sub')}</td>
                <td className="nowrap">{formatTime(v.startedAt)}</td>
                <td className="nowrap">{v.endedAt ? formatTime(v.endedAt) : t('admin.views.open')}</td>
                <td>{minutesBetween(v.startedAt, v.endedAt ?? v.lastSeenAt)}</td>
                <td className="mono">{v.ip ?? t('common.none')}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {!loading && error === null && items.length === 0 && <div className="empty">{t('audit.empty')}</div>}
        {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
        <div className="table-footer">
          {loading && <span className="muted">{t('common.loading')}</span>}
          {!loading && cursor && (
            <button type="button" className="button" onClick={more}>
              {t('common.loadMore')}
            </button>
          )}
        </div>
      </div>
    </section>
  );
}
