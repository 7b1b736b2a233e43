import { useState, type FormEvent } from 'react';
import type { AlertSourceIssued } from '@api/contract.ts';
import { ApiError } from '../api.ts';
import { Field } from '../components/Field.tsx';
import { Modal } from '../components/Modal.tsx';
import { describeError, fieldMessage } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { useOrgUnits } from '../orders/orderBits.tsx';
import { adminApi } from './adminApi.ts';
import { unitLabel, useAssignableUnits } from './UsersSection.tsx';
import { useList } from './useList.ts';

/** The device key, shown once: the server keeps only its hash. */
function KeyOnce({ issued, onClose }: { issued: AlertSourceIssued; onClose: () => void }) {
  const { t } = useI18n();
  return (
    <Modal title={t('admin.source.keyTitle', { name: issued.name })} onClose={onClose}>
      <div className="admin-form" data-form="source-key">
        <p>{t('admin.source.keyOnce')}</p>
        <code className="admin-secret" data-secret="device-key">
          {issued.key}
        </code>
        <p className="muted admin-form__note">{t('admin.source.keyUse')}</p>
        <div className="modal__footer">
          <button type="button" className="button button--primary" onClick={onClose}>
            {t('admin.source.keyStored')}
          </button>
        </div>
      </div>
    </Modal>
  );
}

function SourceDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (s: AlertSourceIssued) => void }) {
  const { t } = useI18n();
  const { units } = useAssignableUnits();
  const [name, setName] = useState('');
  const [orgUnitId, setOrgUnitId] = useState('');
  const [rate, setRate] = useState('60');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fieldError = (path: string) => {
    if (!(error instanceof ApiError)) return undefined;
    const f = error.fields.find((x) => x.path === path);
    return f ? fieldMessage(f, t) : undefined;
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    adminApi
      .createSource({
        name,
        ...(orgUnitId ? { orgUnitId: Number(orgUnitId) } : {}),
        ...(rate.trim() ? { rateLimitPerMinute: Number(rate) } : {}),
      })
      .then(
        (s) => {
          setBusy(false);
          onCreated(s);
        },
        (err: unknown) => {
          setBusy(false);
          setError(err);
        },
      );
  };
  const fieldsOnly = error instanceof ApiError && error.fields.length > 0;
  return (
    <Modal title={t('admin.source.newTitle')} onClose={onClose}>
      <form className="admin-form" onSubmit={submit} noValidate data-form="source">
        <Field label={t('admin.source.name')} error={fieldError('name')} hint={t('admin.source.nameHint')}>
          {(id) => <input id={id} name="name" value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <div className="field-row">
          <Field label={t('admin.source.orgUnit')} error={fieldError('orgUnitId')} hint={t('admin.source.orgHint')}>
            {(id) => (
              <select id={id} name="orgUnitId" value={orgUnitId} onChange={(e) => setOrgUnitId(e.target.value)}>
                <option value="">{t('common.choose')}</option>
                {units.map((u) => (
                  <option key={u.id} value={u.id}>
                    {unitLabel(t, u)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('admin.source.rate')} error={fieldError('rateLimitPerMinute')}>
            {(id) => (
              <input id={id} name="rate" inputMode="numeric" value={rate} onChange={(e) => setRate(e.target.value)} />
            )}
          </Field>
        </div>
        {error !== null && !fieldsOnly && (
          <div className="notice notice--error" role="alert">
            {describeError(error, t)}
          </div>
        )}
        <div className="modal__footer">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button--primary" disabled={busy}>
            {t('admin.source.create')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** 告警源 — device keys for alarm columns and AI boxes (POST /alerts/ingest with X-Device-Key). */
export function SourcesSection() {
  const { t, formatTime } = useI18n();
  const { items, loading, error, reload } = useList(adminApi.sources);
  const { byId } = useOrgUnits();
  const [creating, setCreating] = useState(false);
  const [issued, setIssued] = useState<AlertSourceIssued | null>(null);
  return (
    <section className="admin-section" aria-label={t('admin.tab.sources')}>
      <div className="toolbar">
        <h1 className="page-title">{t('admin.tab.sources')}</h1>
        <span className="result-count">{t('admin.count', { count: items.length })}</span>
        <span className="toolbar__spacer" />
        <button
          type="button"
          className="button button--primary"
          data-action="new-source"
          onClick={() => setCreating(true)}
        >
          {t('admin.source.new')}
        </button>
      </div>
      <p className="muted admin-intro">{t('admin.source.intro')}</p>
      <div className="table-wrap">
        <table className="data-table data-table--sources">
          <thead>
            <tr>
              <th>{t('admin.source.name')}</th>
              <th>{t('admin.source.orgUnit')}</th>
              <th>{t('admin.source.rate')}</th>
              <th>{t('admin.createdAt')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id} data-source-id={s.id}>
                <td>{s.name}</td>
                <td>{byId.get(s.orgUnitId)?.name ?? t('common.none')}</td>
                <td>{t('admin.source.perMinute', { n: s.rateLimitPerMinute })}</td>
                <td className="nowrap">{formatTime(s.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {!loading && error === null && items.length === 0 && <div className="empty">{t('admin.source.empty')}</div>}
        {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
      </div>
      {creating && (
        <SourceDialog
          onClose={() => setCreating(false)}
          onCreated={(s) => {
            setCreating(false);
            setIssued(s);
            reload();
          }}
        />
      )}
      {issued && <KeyOnce issued={issued} onClose={() => setIssued(null)} />}
    </section>
  );
}
