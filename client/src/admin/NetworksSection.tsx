import { useState, type FormEvent } from 'react';
import type { NetworkView } from '@api/contract.ts';
import { ApiError } from '../api.ts';
import { Field } from '../components/Field.tsx';
import { Modal } from '../components/Modal.tsx';
import { describeError, fieldMessage } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { adminApi } from './adminApi.ts';
import { useList } from './useList.ts';

/** The five networks every county has: fixed by the platform (server/src/cameras/networks.ts). */
const BUILTIN = new Set(['xueliang', 'tianwang', 'traffic', 'urban', 'huiyan']);

function NetworkDialog({
  editing,
  onClose,
  onSaved,
}: {
  editing: NetworkView | null;
  onClose: () => void;
  onSaved: () => void;
}) {
  const { t } = useI18n();
  const [id, setId] = useState(editing?.id ?? '');
  const [name, setName] = useState(editing?.name ?? '');
  const [nameEn, setNameEn] = useState(editing?.nameEn ?? '');
  const [error, setError] = useState<unknown>(null);
  const fieldError = (path: string) => {
    if (!(error instanceof ApiError)) return undefined;
    const f = error.fields.find((x) => x.path === path);
    return f ? fieldMessage(f, t) : undefined;
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    (editing
      ? adminApi.renameNetwork(editing.id, { name, nameEn })
      : adminApi.createNetwork({ id, name, nameEn })
    ).then(onSaved, setError);
  };
  const fieldsOnly = error instanceof ApiError && error.fields.length > 0 && error.status === 400;
  return (
    <Modal
      title={editing ? t('admin.network.editTitle', { name: editing.name }) : t('admin.network.newTitle')}
      onClose={onClose}
    >
      <form className="admin-form" onSubmit={submit} noValidate data-form="network">
        {!editing && (
          <Field label={t('admin.network.id')} error={fieldError('id')} hint={t('admin.network.idHint')}>
            {(fid) => <input id={fid} name="id" value={id} onChange={(e) => setId(e.target.value)} />}
          </Field>
        )}
        <Field label={t('admin.network.name')} error={fieldError('name')}>
          {(fid) => <input id={fid} name="name" value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label={t('admin.network.nameEn')} error={fieldError('nameEn')}>
          {(fid) => <input id={fid} name="nameEn" value={nameEn} onChange={(e) => setNameEn(e.target.value)} />}
        </Field>
        {error !== null && !fieldsOnly && (
          <div className="notice notice--error" role="alert">
            {describeError(error, t)}
          </div>
        )}
        <div className="modal__footer">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button--primary">
            {t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** 网络 — the county's camera networks: the built-in five, configured ones, and ones added here. */
export function NetworksSection() {
  const { t, lang } = useI18n();
  const { items, error, reload } = useList(adminApi.networks);
  const [dialog, setDialog] = useState<{ editing: NetworkView | null } | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  return (
    <section className="admin-section" aria-label={t('admin.tab.networks')}>
      <div className="toolbar">
        <h1 className="page-title">{t('admin.tab.networks')}</h1>
        <span className="result-count">{t('admin.count', { count: items.length })}</span>
        <span className="toolbar__spacer" />
        <button
          type="button"
          className="button button--primary"
          data-action="new-network"
          onClick={() => setDialog({ editing: null })}
        >
          {t('admin.network.new')}
        </button>
      </div>
      <p className="muted admin-intro">{t('admin.network.intro')}</p>
      {actionError !== null && <div className="notice notice--error">{describeError(actionError, t)}</div>}
      <div className="table-wrap">
        <table className="data-table data-table--networks">
          <thead>
            <tr>
              <th>{t('admin.network.name')}</th>
              <th>{t('admin.network.id')}</th>
              <th>{t('admin.network.points')}</th>
              <th>{t('admin.network.kind')}</th>
              <th>{t('col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((n) => {
              const fixed = BUILTIN.has(n.id);
              return (
                <tr key={n.id} data-network-id={n.id}>
                  <td>{lang === 'en' ? n.nameEn : n.name}</td>
                  <td className="mono">{n.id}</td>
                  <td>{t('admin.network.pointsOf', { total: n.cameraCount, online: n.onlineCount })}</td>
                  <td>{t(fixed ? 'admin.network.builtin' : 'admin.network.added')}</td>
                  <td className="cell-actions">
                    {!fixed && (
                      <>
                        <button
                          type="button"
                          className="button button--small"
                          data-action="rename"
                          onClick={() => setDialog({ editing: n })}
                        >
                          {t('admin.screen.rename')}
                        </button>
                        <button
                          type="button"
                          className="button button--small button--danger-ghost"
                          data-action="delete"
                          onClick={() => {
                            if (!window.confirm(t('admin.network.confirmDelete', { name: n.name }))) return;
                            setActionError(null);
                            adminApi.deleteNetwork(n.id).then(reload, setActionError);
                          }}
                        >
                          {t('common.delete')}
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
      </div>
      {dialog && (
        <NetworkDialog
          editing={dialog.editing}
          onClose={() => setDialog(null)}
          onSaved={() => {
            setDialog(null);
            reload();
          }}
        />
      )}
    </section>
  );
}
