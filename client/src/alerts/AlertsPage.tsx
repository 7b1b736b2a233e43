import { useEffect, useMemo, useRef, useState } from 'react';
import {
  ALERT_LEVELS,
  ALERT_STATUSES,
  ALERT_TYPES,
  type AlertLevel,
  type AlertStatus,
  type AlertType,
  type AlertView,
  type OrgUnitView,
} from '@api/contract.ts';
import { api, isAbort } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { navigateToAlert } from '../router.ts';
import { throttle } from '../throttle.ts';
import { AlertActions, AlertStatusBadge, LevelBadge } from './AlertBits.tsx';
import { useAlerts } from './AlertsProvider.tsx';
import { alertExportUrl, alertsApi, NO_FILTER, type AlertQuery } from './alertsApi.ts';
import './alerts.css';

const PAGE = 100;
/** Live changes refetch the list at most this often (an alert storm must not hammer the server). */
const REFETCH_MS = 1_000;

type StatusChoice = 'open' | 'all' | AlertStatus;
type LevelChoice = '' | 'urgent' | AlertLevel;

const OPEN: AlertStatus[] = ['new', 'acknowledged'];

function statusesOf(choice: StatusChoice): AlertStatus[] {
  if (choice === 'open') return OPEN;
  if (choice === 'all') return [];
  return [choice];
}

function levelsOf(choice: LevelChoice): AlertLevel[] {
  if (choice === '') return [];
  if (choice === 'urgent') return ['red', 'orange'];
  return [choice];
}

/** A datetime-local value (local time, no zone) as an ISO instant; empty stays null. */
function instant(local: string): string | null {
  if (!local) return null;
  const ms = Date.parse(local);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/** Units in tree order with their depth, for the place filter. */
function unitOptions(units: readonly OrgUnitView[]): { unit: OrgUnitView; depth: number }[] {
  const children = new Map<number | null, OrgUnitView[]>();
  const ids = new Set(units.map((u) => u.id));
  for (const u of units) {
    const parent = u.parentId !== null && ids.has(u.parentId) ? u.parentId : null;
    children.set(parent, [...(children.get(parent) ?? []), u]);
  }
  const out: { unit: OrgUnitView; depth: number }[] = [];
  const walk = (parent: number | null, depth: number) => {
    for (const u of children.get(parent) ?? []) {
      out.push({ unit: u, depth });
      walk(u.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

/** 告警: the alert list of the user's jurisdiction, filtered on the server, kept live, exportable. */
export function AlertsPage() {
  const { t, lang, formatTime } = useI18n();
  const { alerts: live, sound, setSound } = useAlerts();
  const [status, setStatus] = useState<StatusChoice>('open');
  const [level, setLevel] = useState<LevelChoice>('');
  const [type, setType] = useState<AlertType | ''>('');
  const [org, setOrg] = useState<number | null>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [text, setText] = useState('');
  const q = useDebounced(text, 300);
  const [units, setUnits] = useState<OrgUnitView[]>([]);

  const query = useMemo<AlertQuery>(
    () => ({
      ...NO_FILTER,
      statuses: statusesOf(status),
      levels: levelsOf(level),
      types: type ? [type] : [],
      org,
      from: instant(from),
      to: instant(to),
      q,
    }),
    [status, level, type, org, from, to, q],
  );
  const filtered = level !== '' || type !== '' || org !== null || !!from || !!to || !!text || status !== 'open';

  const [rows, setRows] = useState<AlertView[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);
  /** How many rows the user has paged in: a live refetch keeps at least that many. */
  const shown = useRef(PAGE);

  useEffect(() => {
    const controller = new AbortController();
    api.orgUnits(controller.signal).then(setUnits, () => undefined);
    return () => controller.abort();
  }, []);

  useEffect(() => {
    shown.current = PAGE;
  }, [query]);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    alertsApi.search(query, null, Math.min(500, shown.current), controller.signal).then(
      (page) => {
        setRows(page.items);
        setTotal(page.total ?? null);
        setCursor(page.nextCursor);
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (isAbort(err)) return;
        setError(err);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [query, generation]);

  // Live: every alert change (new, folded, handled elsewhere) asks the server again, at most once a second.
  const refetch = useMemo(() => throttle(() => setGeneration((n) => n + 1), REFETCH_MS), []);
  const liveSeq = useMemo(() => live.reduce((m, a) => Math.max(m, a.seq), 0), [live]);
  const firstSeq = useRef<number | null>(null);
  useEffect(() => {
    if (firstSeq.current === null) {
      firstSeq.current = liveSeq;
      return;
    }
    if (liveSeq !== firstSeq.current) refetch.call();
  }, [liveSeq, refetch]);
  useEffect(() => () => refetch.cancel(), [refetch]);

  // Until the refetch lands, a row shows the newest version the live store has of it.
  const liveById = useMemo(() => new Map(live.map((a) => [a.id, a])), [live]);
  const view = rows.map((r) => {
    const newer = liveById.get(r.id);
    return newer && newer.seq > r.seq ? newer : r;
  });

  const loadMore = () => {
    if (!cursor) return;
    setLoading(true);
    alertsApi.search(query, cursor, PAGE).then(
      (page) => {
        setRows((prev) => [...prev, ...page.items.filter((a) => !prev.some((p) => p.id === a.id))]);
        setCursor(page.nextCursor);
        shown.current += page.items.length;
        setLoading(false);
      },
      (err: unknown) => {
        setError(err);
        setLoading(false);
      },
    );
  };

  const clear = () => {
    setStatus('open');
    setLevel('');
    setType('');
    setOrg(null);
    setFrom('');
    setTo('');
    setText('');
  };

  const options = useMemo(() => unitOptions(units), [units]);

  return (
    <div className="alerts-page">
      <div className="toolbar">
        <h1 className="page-title">{t('alert.title')}</h1>
        <span className="result-count" data-total={total ?? ''}>
          {t('alert.count', { count: total ?? view.length })}
        </span>
        <input
          type="search"
          name="alert-q"
          className="toolbar__search"
          value={text}
          maxLength={100}
          placeholder={t('alert.searchPlaceholder')}
          aria-label={t('alert.searchPlaceholder')}
          onChange={(e) => setText(e.target.value)}
        />
        <span className="toolbar__spacer" />
        <label className="alerts-page__sound">
          <input type="checkbox" name="alert-sound" checked={sound} onChange={(e) => setSound(e.target.checked)} />
          {t('alert.sound')}
        </label>
      </div>
      <div className="toolbar toolbar--secondary alerts-filters">
        <select
          name="alert-filter"
          value={status}
          onChange={(e) => setStatus(e.target.value as StatusChoice)}
          aria-label={t('alert.filter')}
        >
          <option value="open">{t('alert.filterOpen')}</option>
          <option value="all">{t('alert.filterAll')}</option>
          {ALERT_STATUSES.map((s) => (
            <option key={s} value={s}>
              {t(`alert.status.${s}`)}
            </option>
          ))}
        </select>
        <select
          name="alert-level"
          value={level}
          onChange={(e) => setLevel(e.target.value as LevelChoice)}
          aria-label={t('alert.colLevel')}
        >
          <option value="">{t('alert.anyLevel')}</option>
          <option value="urgent">{t('alert.urgentLevels')}</option>
          {[...ALERT_LEVELS].reverse().map((l) => (
            <option key={l} value={l}>
              {t(`alert.level.${l}`)}
            </option>
          ))}
        </select>
        <select
          name="alert-type"
          value={type}
          onChange={(e) => setType(e.target.value as AlertType | '')}
          aria-label={t('alert.colType')}
        >
          <option value="">{t('alert.anyType')}</option>
          {ALERT_TYPES.map((ty) => (
            <option key={ty} value={ty}>
              {t(`alert.type.${ty}`)}
            </option>
          ))}
        </select>
        <select
          name="alert-org"
          value={org ?? ''}
          onChange={(e) => setOrg(e.target.value ? Number(e.target.value) : null)}
          aria-label={t('alert.colPlace')}
        >
          <option value="">{t('alert.anyPlace')}</option>
          {options.map(({ unit, depth }) => (
            <option key={unit.id} value={unit.id}>
              {'\u3000'.repeat(depth)}
              {unit.name}
            </option>
          ))}
        </select>
        <label className="alerts-filters__time">
          {t('alert.from')}
          <input type="datetime-local" name="alert-from" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label className="alerts-filters__time">
          {t('alert.to')}
          <input type="datetime-local" name="alert-to" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        {filtered && (
          <button type="button" className="link-button" onClick={clear}>
            {t('alert.clearFilters')}
          </button>
        )}
        <span className="toolbar__spacer" />
        <a className="button" data-action="export" href={alertExportUrl(query, lang === 'en' ? 'en' : 'zh')} download>
          {t('alert.export')}
        </a>
      </div>
      <div className="table-wrap">
        <table className="data-table data-table--alerts">
          <thead>
            <tr>
              <th>{t('alert.colLevel')}</th>
              <th>{t('alert.colType')}</th>
              <th>{t('alert.colTitle')}</th>
              <th>{t('alert.colPlace')}</th>
              <th>{t('alert.colTime')}</th>
              <th>{t('alert.colCount')}</th>
              <th>{t('alert.colStatus')}</th>
              <th>{t('alert.colActions')}</th>
            </tr>
          </thead>
          <tbody>
            {view.map((a) => (
              <tr key={a.id} data-alert-id={a.id} data-level={a.level} className={`alert-row alert-row--${a.level}`}>
                <td>
                  <LevelBadge level={a.level} />
                </td>
                <td>{t(`alert.type.${a.type}`)}</td>
                <td className="alert-row__title" title={a.description ?? undefined}>
                  <a
                    href={`/alerts/${a.id}`}
                    className="alert-row__link"
                    onClick={(e) => {
                      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
                      e.preventDefault();
                      navigateToAlert(a.id);
                    }}
                  >
                    {a.title}
                  </a>
                </td>
                <td>{a.orgUnitName}</td>
                <td className="mono nowrap">{formatTime(a.lastAt)}</td>
                <td className="alert-row__count">{a.count > 1 ? `×${a.count}` : '1'}</td>
                <td>
                  <AlertStatusBadge status={a.status} />
                </td>
                <td>
                  <AlertActions alert={a} compact />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!loading && error === null && view.length === 0 && <div className="empty">{t('alert.empty')}</div>}
        {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
        <div className="table-footer">
          {loading && <span className="muted">{t('common.loading')}</span>}
          {!loading && cursor && (
            <button type="button" className="button" onClick={loadMore}>
              {t('common.loadMore')}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
