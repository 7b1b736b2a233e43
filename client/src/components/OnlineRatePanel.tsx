/**
 * 在线率 — the assessed figure: overall, per network and per township, for the
 * caller's jurisdiction. Refreshed every minute and (throttled) whenever a
 * health check changes a point's status or the registry changes.
 */
import { useEffect, useState } from 'react';
import type { NetworkView, OnlineRateReport, OnlineRateRow, OrgUnitView } from '@api/contract.ts';
import { api, isAbort } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n, type Translate } from '../i18n.tsx';
import { networkColor } from '../networkColors.ts';
import { useRealtime } from '../realtime.tsx';
import { throttle } from '../throttle.ts';
import { networkLabel } from './NetworkList.tsx';

const REFRESH_MS = 60_000;
const EVENT_THROTTLE_MS = 5_000;

interface OnlineRatePanelProps {
  networks: readonly NetworkView[];
  orgUnits: readonly OrgUnitView[];
  selectedNetwork: string | null;
  selectedOrg: number | null;
  onSelectNetwork: (id: string | null) => void;
  onSelectOrg: (id: number | null) => void;
}

export function formatRate(rate: number | null): string {
  return rate === null ? '—' : `${(rate * 100).toFixed(1)}%`;
}

/** Colour bands for reading the figure at a glance; the bands are the platform's choice, not an assessment rule. */
function rateTone(row: OnlineRateRow | null): 'good' | 'warn' | 'bad' | 'none' {
  const rate = row?.rate ?? null;
  // Nothing checked yet (all unknown): 0% would be true but alarming; it is simply not known.
  if (row === null || rate === null || row.unknown === row.total) return 'none';
  if (rate >= 0.95) return 'good';
  if (rate >= 0.85) return 'warn';
  return 'bad';
}

function countsTitle(row: OnlineRateRow, t: Translate): string {
  return t('rate.countsTitle', {
    online: row.online,
    degraded: row.degraded,
    offline: row.offline,
    unknown: row.unknown,
    total: row.total,
  });
}

function useOnlineRate() {
  const { socket } = useRealtime();
  const [report, setReport] = useState<OnlineRateReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [token, setToken] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    api.onlineRate(controller.signal).then(
      (next) => {
        setReport(next);
        setError(null);
      },
      (err: unknown) => {
        if (!isAbort(err)) setError(err);
      },
    );
    return () => controller.abort();
  }, [token]);

  useEffect(() => {
    const refresh = throttle(() => setToken((n) => n + 1), EVENT_THROTTLE_MS);
    const interval = window.setInterval(() => setToken((n) => n + 1), REFRESH_MS);
    socket?.on('camera:status', refresh.call);
    socket?.on('camera:changed', refresh.call);
    socket?.on('registry:imported', refresh.call);
    // Events missed while the socket was down would leave the figure stale.
    socket?.on('connect', refresh.call);
    socket?.on('realtime:resync', refresh.call);
    return () => {
      refresh.cancel();
      window.clearInterval(interval);
      socket?.off('camera:status', refresh.call);
      socket?.off('camera:changed', refresh.call);
      socket?.off('registry:imported', refresh.call);
      socket?.off('connect', refresh.call);
      socket?.off('realtime:resync', refresh.call);
    };
  }, [socket]);

  return { report, error, reload: () => setToken((n) => n + 1) };
}

function RateRow({
  row,
  label,
  color,
  selected,
  onClick,
}: {
  row: OnlineRateRow;
  label: string;
  color?: string | undefined;
  selected: boolean;
  onClick: () => void;
}) {
  const { t } = useI18n();
  const tone = rateTone(row);
  return (
    <li>
      <button
        type="button"
        className={`rate-row ${selected ? 'rate-row--selected' : ''}`}
        title={countsTitle(row, t)}
        aria-pressed={selected}
        onClick={onClick}
      >
        <span className="rate-row__name">
          {color && <span className="swatch" style={{ background: color }} />}
          {label}
        </span>
        <span className="rate-row__bar" aria-hidden="true">
          <span className="rate-row__online" style={{ width: `${(row.online / Math.max(row.total, 1)) * 100}%` }} />
          <span className="rate-row__degraded" style={{ width: `${(row.degraded / Math.max(row.total, 1)) * 100}%` }} />
          <span className="rate-row__down" style={{ width: `${(row.offline / Math.max(row.total, 1)) * 100}%` }} />
        </span>
        <span className={`rate-row__rate rate--${tone}`}>{formatRate(row.rate)}</span>
        <span className="rate-row__counts count">
          {t('rate.counts', { online: row.online, total: row.total })}
          {row.offline > 0 && <span className="rate-row__offline">{t('rate.offlineCount', { n: row.offline })}</span>}
        </span>
      </button>
    </li>
  );
}

export function OnlineRatePanel({
  networks,
  orgUnits,
  selectedNetwork,
  selectedOrg,
  onSelectNetwork,
  onSelectOrg,
}: OnlineRatePanelProps) {
  const { t, lang, formatTime } = useI18n();
  const { report, error, reload } = useOnlineRate();
  const [open, setOpen] = useState(true);
  const networkIds = networks.map((n) => n.id);
  const networksById = new Map(networks.map((n) => [n.id, n]));
  const overall = report?.overall ?? null;
  // byOrg holds the caller's child units: townships for the county, villages for a township.
  const levels = new Set(
    (report?.byOrg ?? []).map((row) => orgUnits.find((u) => String(u.id) === row.key)?.level ?? null),
  );
  const byOrgTitle =
    levels.size === 1 && levels.has('township')
      ? t('rate.byTownship')
      : levels.size === 1 && levels.has('village')
        ? t('rate.byVillage')
        : t('rate.byUnit');

  return (
    <section className={`online-rate ${open ? 'online-rate--open' : ''}`} aria-label={t('rate.title')}>
      <header className="online-rate__head">
        <button
          type="button"
          className="online-rate__toggle"
          aria-expanded={open}
          onClick={() => setOpen((v) => !v)}
          title={open ? t('rate.collapse') : t('rate.expand')}
        >
          <span className="online-rate__caret" aria-hidden="true">
            {open ? '▾' : '▸'}
          </span>
          <span className="online-rate__title">{t('rate.title')}</span>
          <span className={`online-rate__overall rate--${rateTone(overall)}`} data-testid="online-rate">
            {overall ? formatRate(overall.rate) : '…'}
          </span>
          {overall && (
            <span className="online-rate__summary">
              {t('rate.summary', {
                online: overall.online,
                total: overall.total,
                degraded: overall.degraded,
                offline: overall.offline,
                unknown: overall.unknown,
              })}
            </span>
          )}
        </button>
        <span className="toolbar__spacer" />
        {error !== null && (
          <span className="online-rate__error">
            {describeError(error, t)}{' '}
            <button type="button" className="link-button" onClick={reload}>
              {t('common.retry')}
            </button>
          </span>
        )}
        {report && <span className="muted online-rate__at">{t('rate.at', { time: formatTime(report.at) })}</span>}
      </header>
      {open && report && (
        <div className="online-rate__body">
          <div className="online-rate__group">
            <h3>{t('rate.byNetwork')}</h3>
            <ul>
              {report.byNetwork.map((row) => {
                const network = networksById.get(row.key);
                return (
                  <RateRow
                    key={row.key}
                    row={row}
                    label={network ? networkLabel(network, lang) : row.name}
                    color={networkColor(row.key, networkIds)}
                    selected={selectedNetwork === row.key}
                    onClick={() => onSelectNetwork(selectedNetwork === row.key ? null : row.key)}
                  />
                );
              })}
            </ul>
          </div>
          <div className="online-rate__group">
            <h3>{byOrgTitle}</h3>
            {report.byOrg.length === 0 ? (
              <p className="muted">{t('rate.noUnits')}</p>
            ) : (
              <ul>
                {report.byOrg.map((row) => {
                  const id = Number(row.key);
                  return (
                    <RateRow
                      key={row.key}
                      row={row}
                      label={row.name}
                      selected={selectedOrg === id}
                      onClick={() => onSelectOrg(selectedOrg === id ? null : id)}
                    />
                  );
                })}
              </ul>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
