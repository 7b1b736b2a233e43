import { useMemo, useState, type FormEvent } from 'react';
import { ROLES, type OrgUnitView, type Role, type UserView } from '@api/contract.ts';
import { ApiError } from '../api.ts';
import { Field } from '../components/Field.tsx';
import { Modal } from '../components/Modal.tsx';
import { describeError, fieldMessage } from '../errors.ts';
import { useI18n, type Translate } from '../i18n.tsx';
import { descendantsOf, useOrgUnits } from '../orders/orderBits.tsx';
import { useSession } from '../session.tsx';
import { adminApi } from './adminApi.ts';
import { useList } from './useList.ts';

/** The caller's unit and every unit below it: where an account may be placed. */
export function useAssignableUnits(): { units: OrgUnitView[]; byId: ReadonlyMap<number, OrgUnitView> } {
  const { user } = useSession();
  const { units, byId } = useOrgUnits();
  const list = useMemo(() => {
    const own = byId.get(user.orgUnitId);
    return [...(own ? [own] : []), ...descendantsOf(user.orgUnitId, units)];
  }, [units, byId, user.orgUnitId]);
  return { units: list, byId };
}

export function unitLabel(t: Translate, u: OrgUnitView): string {
  return `${u.name}（${t(`level.${u.level}`)}）`;
}

const errorOf = (error: unknown, path: string, t: Translate): string | undefined => {
  if (!(error instanceof ApiError)) return undefined;
  const f = error.fields.find((x) => x.path === path);
  return f ? fieldMessage(f, t) : undefined;
};

/** Any failure that no field shows: the dialog's own notice. */
const formNotice = (error: unknown, paths: readonly string[], t: Translate): string | null => {
  if (error === null) return null;
  if (error instanceof ApiError && error.fields.length > 0 && error.fields.every((f) => paths.includes(f.path)))
    return null;
  return describeError(error, t);
};

function UserDialog({
  editing,
  onClose,
  onSaved,
}: {
  editing: UserView | null;
  onClose: () => void;
  onSaved: (u: UserView) => void;
}) {
  const { t } = useI18n();
  const { user: me } = useSession();
  const { units } = useAssignableUnits();
  const [username, setUsername] = useState(editing?.username ?? '');
  const [displayName, setDisplayName] = useState(editing?.displayName ?? '');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>(editing?.role ?? 'township_operator');
  const [orgUnitId, setOrgUnitId] = useState(editing ? String(editing.orgUnitId) : '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const self = editing?.id === me.id;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const call = editing
      ? adminApi.updateUser(editing.id, {
          ...(displayName !== editing.displayName ? { displayName } : {}),
          ...(role !== editing.role ? { role } : {}),
          ...(orgUnitId && Number(orgUnitId) !== editing.orgUnitId ? { orgUnitId: Number(orgUnitId) } : {}),
        })
      : adminApi.createUser({
          username,
          displayName,
          password,
          role,
          // Not chosen: left out, so the server names the field as required.
          ...(orgUnitId ? { orgUnitId: Number(orgUnitId) } : {}),
        });
    call.then(
      (u) => {
        setBusy(false);
        onSaved(u);
      },
      (err: unknown) => {
        setBusy(false);
        setError(err);
      },
    );
  };
  const paths = ['username', 'displayName', 'password', 'role', 'orgUnitId'];
  const notice = formNotice(error, paths, t);

  return (
    <Modal
      title={editing ? t('admin.user.editTitle', { name: editing.username }) : t('admin.user.newTitle')}
      onClose={onClose}
    >
      <form className="admin-form" onSubmit={submit} noValidate data-form="user">
        {!editing && (
          <Field
            label={t('admin.user.username')}
            error={errorOf(error, 'username', t)}
            hint={t('admin.user.usernameHint')}
          >
            {(id) => (
              <input
                id={id}
                name="username"
                autoComplete="off"
                value={username}
                onChange={(e) => setUsername(e.target.value)}
              />
            )}
          </Field>
        )}
        <Field label={t('admin.user.displayName')} error={errorOf(error, 'displayName', t)}>
          {(id) => (
            <input id={id} name="displayName" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
          )}
        </Field>
        {!editing && (
          <Field label={t('admin.user.password')} error={errorOf(error, 'password', t)} hint={t('admin.passwordHint')}>
            {(id) => (
              <input
                id={id}
                name="password"
                type="password"
                autoComplete="new-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
          </Field>
        )}
        <div className="field-row">
          <Field label={t('admin.user.role')} error={errorOf(error, 'role', t)}>
            {(id) => (
              <select
                id={id}
                name="role"
                value={role}
                disabled={self}
                onChange={(e) => setRole(e.target.value as Role)}
              >
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {t(`role.${r}`)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('admin.user.orgUnit')} error={errorOf(error, 'orgUnitId', t)}>
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
        </div>
        {editing && <p className="muted admin-form__note">{t('admin.user.changeEndsSessions')}</p>}
        {notice && (
          <div className="notice notice--error" role="alert">
            {notice}
          </div>
        )}
        <div className="modal__footer">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button--primary" disabled={busy}>
            {busy ? t('common.saving') : t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function ResetPasswordDialog({
  target,
  onClose,
  onDone,
}: {
  target: UserView;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useI18n();
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    adminApi.updateUser(target.id, { password }).then(
      () => {
        setBusy(false);
        onDone();
      },
      (err: unknown) => {
        setBusy(false);
        setError(err);
      },
    );
  };
  const notice = formNotice(error, ['password'], t);
  return (
    <Modal title={t('admin.user.resetTitle', { name: target.username })} onClose={onClose}>
      <form className="admin-form" onSubmit={submit} noValidate data-form="reset-password">
        <Field label={t('admin.user.newPassword')} error={errorOf(error, 'password', t)} hint={t('admin.passwordHint')}>
          {(id) => (
            <input
              id={id}
              name="password"
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <p className="muted admin-form__note">{t('admin.user.resetEndsSessions')}</p>
        {notice && (
          <div className="notice notice--error" role="alert">
            {notice}
          </div>
        )}
        <div className="modal__footer">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button--primary" disabled={busy}>
            {t('admin.user.reset')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function UsersSection() {
  const { t, formatTime } = useI18n();
  const { user: me, can } = useSession();
  const { items, loading, error, reload } = useList(adminApi.users);
  const { byId } = useOrgUnits();
  const [dialog, setDialog] = useState<
    { kind: 'new' } | { kind: 'edit'; user: UserView } | { kind: 'reset'; user: UserView } | null
  >(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const people = items.filter((u) => u.kioskScreenId === null);
  const writable = can('user.write');

  const setDisabled = (u: UserView, disabled: boolean) => {
    if (disabled && !window.confirm(t('admin.user.confirmDisable', { name: u.username }))) return;
    setActionError(null);
    adminApi.updateUser(u.id, { disabled }).then(
      () => {
        setNotice(t(disabled ? 'admin.user.disabledNotice' : 'admin.user.enabledNotice', { name: u.username }));
        reload();
      },
      (err: unknown) => setActionError(err),
    );
  };

  return (
    <section className="admin-section" aria-label={t('admin.tab.users')}>
      <div className="toolbar">
        <h1 className="page-title">{t('admin.tab.users')}</h1>
        <span className="result-count">{t('admin.user.count', { count: people.length })}</span>
        <span className="toolbar__spacer" />
        {writable && (
          <button
            type="button"
            className="button button--primary"
            data-action="new-user"
            onClick={() => setDialog({ kind: 'new' })}
          >
            {t('admin.user.new')}
          </button>
        )}
      </div>
      {notice && (
        <div className="notice notice--success" role="status">
          {notice}
        </div>
      )}
      {actionError !== null && <div className="notice notice--error">{describeError(actionError, t)}</div>}
      <div className="table-wrap">
        <table className="data-table data-table--users">
          <thead>
            <tr>
              <th>{t('admin.user.username')}</th>
              <th>{t('admin.user.displayName')}</th>
              <th>{t('admin.user.role')}</th>
              <th>{t('admin.user.orgUnit')}</th>
              <th>{t('admin.user.state')}</th>
              <th>{t('admin.createdAt')}</th>
              {writable && <th>{t('col.actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {people.map((u) => (
              <tr key={u.id} data-username={u.username} data-disabled={u.disabled ? 'true' : 'false'}>
                <td className="mono">{u.username}</td>
                <td>{u.displayName}</td>
                <td>{t(`role.${u.role}`)}</td>
                <td>{byId.get(u.orgUnitId)?.name ?? t('common.none')}</td>
                <td>
                  <span className={`badge ${u.disabled ? 'badge--offline' : 'badge--online'}`}>
                    {t(u.disabled ? 'admin.user.disabled' : 'admin.user.enabled')}
                  </span>
                </td>
                <td className="nowrap">{formatTime(u.createdAt)}</td>
                {writable && (
                  <td className="cell-actions">
                    <button
                      type="button"
                      className="button button--small"
                      data-action="edit"
                      onClick={() => setDialog({ kind: 'edit', user: u })}
                    >
                      {t('registry.edit')}
                    </button>
                    <button
                      type="button"
                      className="button button--small"
                      data-action="reset-password"
                      onClick={() => setDialog({ kind: 'reset', user: u })}
                    >
                      {t('admin.user.reset')}
                    </button>
                    {u.id !== me.id && (
                      <button
                        type="button"
                        className={`button button--small ${u.disabled ? '' : 'button--danger-ghost'}`}
                        data-action={u.disabled ? 'enable' : 'disable'}
                        onClick={() => setDisabled(u, !u.disabled)}
                      >
                        {t(u.disabled ? 'admin.user.enable' : 'admin.user.disable')}
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {loading && <div className="muted table-footer">{t('common.loading')}</div>}
        {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
      </div>
      {dialog?.kind === 'new' && (
        <UserDialog
          editing={null}
          onClose={() => setDialog(null)}
          onSaved={(u) => {
            setDialog(null);
            setNotice(t('admin.user.createdNotice', { name: u.username }));
            reload();
          }}
        />
      )}
      {dialog?.kind === 'edit' && (
        <UserDialog
          editing={dialog.user}
          onClose={() => setDialog(null)}
          onSaved={(u) => {
            setDialog(null);
            setNotice(t('admin.user.savedNotice', { name: u.username }));
            reload();
          }}
        />
      )}
      {dialog?.kind === 'reset' && (
        <ResetPasswordDialog
          target={dialog.user}
          onClose={() => setDialog(null)}
          onDone={() => {
            setNotice(t('admin.user.resetNotice', { name: dialog.user.username }));
            setDialog(null);
          }}
        />
      )}
    </section>
  );
}
