import { useState, type FormEvent } from 'react';
import { ApiError } from '../api.ts';
import { Field } from '../components/Field.tsx';
import { Modal } from '../components/Modal.tsx';
import { describeError, fieldMessage } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { adminApi } from './adminApi.ts';
// .admin-form: the dialog opens from the top bar on every page, not only with the admin page's chunk.
import './admin.css';

/** 修改密码 — the caller's own password; every other session of the account ends, this one stays. */
export function PasswordDialog({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);

  const fieldError = (path: string) => {
    if (!(error instanceof ApiError)) return undefined;
    const f = error.fields.find((x) => x.path === path);
    return f ? fieldMessage(f, t) : undefined;
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (next !== repeat) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    setBusy(true);
    setError(null);
    adminApi.changeOwnPassword({ currentPassword: current, newPassword: next }).then(
      () => {
        setBusy(false);
        setDone(true);
      },
      (err: unknown) => {
        setBusy(false);
        setError(err);
      },
    );
  };
  const fieldsOnly = error instanceof ApiError && error.fields.length > 0;

  return (
    <Modal title={t('password.title')} onClose={onClose}>
      {done ? (
        <div className="admin-form" data-form="password-done">
          <div className="notice notice--success" role="status">
            {t('password.done')}
          </div>
          <div className="modal__footer">
            <button type="button" className="button button--primary" onClick={onClose}>
              {t('common.close')}
            </button>
          </div>
        </div>
      ) : (
        <form className="admin-form" onSubmit={submit} noValidate data-form="password">
          <Field label={t('password.current')} error={fieldError('currentPassword')}>
            {(id) => (
              <input
                id={id}
                name="currentPassword"
                type="password"
                autoComplete="current-password"
                value={current}
                onChange={(e) => setCurrent(e.target.value)}
              />
            )}
          </Field>
          <Field label={t('password.new')} error={fieldError('newPassword')} hint={t('admin.passwordHint')}>
            {(id) => (
              <input
                id={id}
                name="newPassword"
                type="password"
                autoComplete="new-password"
                value={next}
                onChange={(e) => setNext(e.target.value)}
              />
            )}
          </Field>
          <Field label={t('password.repeat')} error={mismatch ? t('password.mismatch') : undefined}>
            {(id) => (
              <input
                id={id}
                name="repeatPassword"
                type="password"
                autoComplete="new-password"
                value={repeat}
                onChange={(e) => setRepeat(e.target.value)}
              />
            )}
          </Field>
          <p className="muted admin-form__note">{t('password.othersEnd')}</p>
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
              {t('password.submit')}
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}
