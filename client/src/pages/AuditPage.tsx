import { useCallback, useEffect, useState } from 'react';
import type { AuditEntry } from '@api/contract.ts';
import { api, isAbort } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';

function detailText(detail: Record<string, unknown> | null): string {
  if (!detail) return '';
  return Object.entries(detail)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}

export function AuditPage() {
  const { t, formatTime } = useI18n();
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [token, setToken] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    api.audit(null, controller.signal).then(
      (page) => {
        setItems(page.items);
        setNextCursor(page.nextCursor);
        setLoading(false);
      },
      (err: unknown) => {
        if (isAbort(err)) return;
        setError(err);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [token]);

  const loadMore = useCallback(() => {
    if (!nextCursor) return;
    setLoading(true);
    api.audit(nextCursor).then(
      (page) => {
        setItems((prev) => [...prev, ...page.items]);
        setNextCursor(page.nextCursor);
        setLoading(false);
      },
      (err: unknown) => {
        setError(err);
        setLoading(false);
      },
    );
  }, [nextCursor]);

  return (
    <div className="audit">
      <div className="toolbar">
        <h1 className="page-title">{t('audit.title')}</h1>
        <span className="result-count">{t('audit.count', { count: items.length })}</span>
        <span className="toolbar__spacer" />
        <button type="button" className="button" onClick={() => setToken((n) => n + 1)} disabled={loading}>
          {t('common.refresh')}
        </button>
      </div>
      <div className="table-wrap">
        <table className="data-table">
          <thead>
            <tr>
              <th>{t('audit.colTime')}</th>
              <th>{t('audit.colUser')}</th>
              <th>{t('audit.colAction')}</th>
              <th>{t('audit.colTarget')}</th>
              <th>{t('audit.colOutcome')}</th>
              <th>{t('audit.colIp')}</th>
              <th>{t('audit.colDetail')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((entry) => (
              <tr key={entry.id}>
                <td className="mono nowrap">{formatTime(entry.at)}</td>
                <td>{entry.username ?? t('common.none')}</td>
                <td className="mono">{entry.action}</td>
                <td className="mono">
                  {entry.targetType
                    ? `${entry.targetType}${entry.targetId ? `:${entry.targetId}` : ''}`
                    : t('common.none')}
                </td>
                <td>
                  <span className={`badge badge--outcome-${entry.outcome}`}>{t(`outcome.${entry.outcome}`)}</span>
                </td>
                <td className="mono">{entry.ip ?? t('common.none')}</td>
                <td className="cell-detail" title={detailText(entry.detail)}>
                  {detailText(entry.detail)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!loading && error === null && items.length === 0 && <div className="empty">{t('audit.empty')}</div>}
        {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
        <div className="table-footer">
          {loading && <span className="muted">{t('common.loading')}</span>}
          {!loading && nextCursor && (
            <button type="button" className="button" onClick={loadMore}>
              {t('common.loadMore')}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
