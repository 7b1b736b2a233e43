/**
 * 审计日志 — who did what, in words (issue 17): actions and objects named as
 * a person says them (登录, 点位 #201) with the code in a tooltip, filters by
 * kind of action, outcome, user and day, and a CSV export with the same filters.
 */
import { useCallback, useEffect, useState } from 'react';
import type { AuditEntry } from '@api/contract.ts';
import { isAbort } from '../api.ts';
import { adminApi, auditExportUrl, type AuditQuery } from '../admin/adminApi.ts';
import { dayStart } from '../admin/ViewsSection.tsx';
import '../admin/admin.css';
import { describeError } from '../errors.ts';
import { useI18n, type MessageKey, type Translate } from '../i18n.tsx';
import { navigate } from '../router.ts';
import { AUDIT_ACTIONS, AUDIT_FAMILIES, DETAIL_KEYS, DETAIL_VALUES, TARGET_TYPES } from './auditWords.ts';

/** An action as words: its own label, else its family's with the verb left as is. */
export function actionText(t: Translate, action: string): string {
  const own = AUDIT_ACTIONS[action];
  if (own) return t(own);
  const family = AUDIT_FAMILIES[action.split('.')[0] ?? ''];
  return family ? t('audit.otherOf', { family: t(family) }) : t('audit.other');
}

function targetText(t: Translate, e: AuditEntry): string {
  if (!e.targetType) return t('common.none');
  const key = TARGET_TYPES[e.targetType];
  const kind = key ? t(key) : t('audit.target.other');
  return e.targetId ? t('audit.targetOf', { kind, id: e.targetId }) : kind;
}

/** Where a target opens in the console, when it has a page. */
function targetLink(e: AuditEntry): (() => void) | null {
  const id = Number(e.targetId);
  if (!Number.isInteger(id) || id <= 0) return null;
  if (e.targetType === 'camera') return () => navigate('registry', { cameraId: id });
  if (e.targetType === 'order') return () => navigate('orders', { orderId: id });
  if (e.targetType === 'wall_screen') return () => navigate('wall', { screenId: id });
  return null;
}

function detailValue(t: Translate, v: unknown): string {
  if (typeof v === 'boolean') return t(v ? 'common.yes' : 'common.no');
  if (typeof v === 'string') {
    const key = DETAIL_VALUES[v];
    return key ? t(key) : v;
  }
  if (Array.isArray(v)) return v.map((x) => detailValue(t, x)).join('、');
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}

/** The detail as "label: value" pairs; keys without a label stay in the tooltip only. */
function detailText(t: Translate, detail: Record<string, unknown> | null): { shown: string; full: string } {
  if (!detail) return { shown: '', full: '' };
  const shown = Object.entries(detail)
    .filter(([k]) => DETAIL_KEYS[k])
    .map(([k, v]) => `${t(DETAIL_KEYS[k] as MessageKey)}：${detailValue(t, v)}`)
    .join('；');
  return { shown, full: JSON.stringify(detail) };
}

export function AuditPage() {
  const { t, lang, formatTime } = useI18n();
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [token, setToken] = useState(0);
  const [family, setFamily] = useState('');
  const [outcome, setOutcome] = useState('');
  const [user, setUser] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [query, setQuery] = useState<AuditQuery>({});

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    adminApi.audit(query, null, controller.signal).then(
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
  }, [token, query]);

  const loadMore = useCallback(() => {
    if (!nextCursor) return;
    setLoading(true);
    adminApi.audit(query, nextCursor).then(
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
  }, [nextCursor, query]);

  const apply = () => {
    const q: AuditQuery = {};
    if (family) q.action = family.includes('.') ? family : `${family}.*`;
    if (outcome === 'ok' || outcome === 'denied' || outcome === 'failed') q.outcome = outcome;
    if (user.trim()) q.user = user.trim();
    const f = dayStart(from);
    const tt = dayStart(to, 1);
    if (f) q.from = f;
    if (tt) q.to = tt;
    setQuery(q);
  };

  return (
    <div className="audit">
      <div className="toolbar">
        <h1 className="page-title">{t('audit.title')}</h1>
        <span className="result-count">{t('audit.count', { count: items.length })}</span>
        <span className="toolbar__spacer" />
        <a className="button" href={auditExportUrl(query, lang)} download data-action="export">
          {t('audit.export')}
        </a>
        <button type="button" className="button" onClick={() => setToken((n) => n + 1)} disabled={loading}>
          {t('common.refresh')}
        </button>
      </div>
      <form
        className="toolbar toolbar--secondary admin-filters"
        onSubmit={(e) => {
          e.preventDefault();
          apply();
        }}
      >
        <label>
          {t('audit.filterAction')}
          <select name="action" value={family} onChange={(e) => setFamily(e.target.value)}>
            <option value="">{t('audit.any')}</option>
            {Object.entries(AUDIT_FAMILIES).map(([f, key]) => (
              <option key={f} value={f}>
                {t(key)}
              </option>
            ))}
            <option value="authz.denied">{t('audit.action.authz.denied')}</option>
          </select>
        </label>
        <label>
          {t('audit.colOutcome')}
          <select name="outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            <option value="">{t('audit.any')}</option>
            <option value="ok">{t('outcome.ok')}</option>
            <option value="denied">{t('outcome.denied')}</option>
            <option value="failed">{t('outcome.failed')}</option>
          </select>
        </label>
        <label>
          {t('audit.filterUser')}
          <input name="user" value={user} onChange={(e) => setUser(e.target.value)} />
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
        <table className="data-table data-table--audit">
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
            {items.map((entry) => {
              const detail = detailText(t, entry.detail);
              const open = targetLink(entry);
              const target = targetText(t, entry);
              return (
                <tr key={entry.id} data-action={entry.action}>
                  <td className="mono nowrap">{formatTime(entry.at)}</td>
                  <td>{entry.username ?? t('audit.anonymous')}</td>
                  <td title={entry.action}>{actionText(t, entry.action)}</td>
                  <td title={entry.targetType ? `${entry.targetType}:${entry.targetId ?? ''}` : undefined}>
                    {open ? (
                      <a
                        href="#"
                        onClick={(e) => {
                          e.preventDefault();
                          open();
                        }}
                      >
                        {target}
                      </a>
                    ) : (
                      target
                    )}
                  </td>
                  <td>
                    <span className={`badge badge--outcome-${entry.outcome}`}>{t(`outcome.${entry.outcome}`)}</span>
                  </td>
                  <td className="mono">{entry.ip ?? t('common.none')}</td>
                  <td className="cell-detail" title={detail.full}>
                    {detail.shown}
                  </td>
                </tr>
              );
            })}
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
