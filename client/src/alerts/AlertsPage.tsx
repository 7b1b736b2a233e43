import { useState } from 'react';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { AlertActions, AlertStatusBadge, LevelBadge } from './AlertBits.tsx';
import { useAlerts } from './AlertsProvider.tsx';
import { isOpen } from './alertColors.ts';

type Filter = 'open' | 'all';

/** 告警: the alert list in the user's jurisdiction, live. */
export function AlertsPage() {
  const { t, formatTime } = useI18n();
  const { alerts, loading, error, sound, setSound } = useAlerts();
  const [filter, setFilter] = useState<Filter>('open');
  const shown = filter === 'open' ? alerts.filter((a) => isOpen(a.status)) : alerts;

  return (
    <div className="alerts-page">
      <div className="toolbar">
        <h1 className="page-title">{t('alert.title')}</h1>
        <span className="result-count">{t('alert.count', { count: shown.length })}</span>
        <select
          name="alert-filter"
          value={filter}
          onChange={(e) => setFilter(e.target.value === 'all' ? 'all' : 'open')}
          aria-label={t('alert.filter')}
        >
          <option value="open">{t('alert.filterOpen')}</option>
          <option value="all">{t('alert.filterAll')}</option>
        </select>
        <span className="toolbar__spacer" />
        <label className="alerts-page__sound">
          <input type="checkbox" name="alert-sound" checked={sound} onChange={(e) => setSound(e.target.checked)} />
          {t('alert.sound')}
        </label>
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
            {shown.map((a) => (
              <tr key={a.id} data-alert-id={a.id} data-level={a.level} className={`alert-row alert-row--${a.level}`}>
                <td>
                  <LevelBadge level={a.level} />
                </td>
                <td>{t(`alert.type.${a.type}`)}</td>
                <td className="alert-row__title" title={a.description ?? undefined}>
                  {a.title}
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
        {!loading && error === null && shown.length === 0 && <div className="empty">{t('alert.empty')}</div>}
        {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
        {loading && <div className="table-footer muted">{t('common.loading')}</div>}
      </div>
    </div>
  );
}
