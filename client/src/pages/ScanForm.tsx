import { useRef, useState, type SubmitEvent } from 'react';
import type { ScanView } from '@api/contract.ts';
import { api, ApiError } from '../api.ts';
import { Field } from '../components/Field.tsx';
import { describeError, fieldMessage } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import {
  credentialRowIndex,
  INITIAL_SCAN_FORM,
  MAX_CREDENTIALS,
  parseScanForm,
  SCAN_MODES,
  splitList,
  type ScanFormState,
} from './scanFormModel.ts';

/** Which control a server error path belongs to. */
type Slot = 'ranges' | 'wsdPorts' | 'httpPorts' | 'interface' | 'address' | 'credentials' | `cred.${number}`;

function slotOf(path: string, state: ScanFormState): Slot | null {
  const [head, index] = path.split('.');
  switch (head) {
    case 'ranges':
    case 'wsdPorts':
    case 'httpPorts':
    case 'interface':
    case 'address':
      return head;
    case 'credentials': {
      if (index === undefined) return 'credentials';
      const row = credentialRowIndex(state.credentials, Number(index));
      return row === null ? 'credentials' : `cred.${row}`;
    }
    default:
      return null;
  }
}

export function ScanForm({ onStarted }: { onStarted: (scan: ScanView) => void }) {
  const { t } = useI18n();
  const [form, setForm] = useState<ScanFormState>(INITIAL_SCAN_FORM);
  const [errors, setErrors] = useState<Partial<Record<Slot, string>>>({});
  const [summary, setSummary] = useState<string[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nextKey = useRef(1);

  const set = <K extends keyof ScanFormState>(key: K, value: ScanFormState[K]) =>
    setForm((prev) => ({ ...prev, [key]: value }));

  const setCredential = (key: number, patch: { username?: string; password?: string }) =>
    setForm((prev) => ({
      ...prev,
      credentials: prev.credentials.map((row) => (row.key === key ? { ...row, ...patch } : row)),
    }));

  const addCredential = () =>
    setForm((prev) =>
      prev.credentials.length >= MAX_CREDENTIALS
        ? prev
        : { ...prev, credentials: [...prev.credentials, { key: nextKey.current++, username: '', password: '' }] },
    );

  const removeCredential = (key: number) =>
    setForm((prev) => ({ ...prev, credentials: prev.credentials.filter((row) => row.key !== key) }));

  const showErrors = (entries: [string, string][]) => {
    const bySlot: Partial<Record<Slot, string>> = {};
    const other: string[] = [];
    const ranges = splitList(form.ranges);
    for (const [path, message] of entries) {
      const slot = slotOf(path, form);
      if (slot === null) {
        other.push(path === 'body' ? message : `${path}: ${message}`);
        continue;
      }
      // `ranges.2` names one of the ranges: say which.
      const [head, index] = path.split('.');
      const item = head === 'ranges' && index !== undefined ? ranges[Number(index)] : undefined;
      bySlot[slot] ??= item && !message.includes(item) ? `${item}: ${message}` : message;
    }
    setErrors(bySlot);
    setSummary(other);
  };

  const submit = async (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (busy) return;
    setNotice(null);
    const parsed = parseScanForm(form);
    if (!parsed.ok) {
      showErrors(Object.entries(parsed.errors).map(([path, key]) => [path, t(key)]));
      setNotice(t('form.fixErrors'));
      return;
    }
    setErrors({});
    setSummary([]);
    setBusy(true);
    try {
      onStarted(await api.startScan(parsed.request));
    } catch (err) {
      if (err instanceof ApiError && err.fields.length > 0) {
        showErrors(err.fields.map((f) => [f.path, fieldMessage(f, t)]));
        setNotice(t('form.fixErrors'));
      } else {
        setNotice(describeError(err, t));
      }
    } finally {
      setBusy(false);
    }
  };

  const modeLabel = {
    unicast: t('scan.modeUnicast'),
    multicast: t('scan.modeMulticast'),
    manual: t('scan.modeManual'),
  };

  return (
    <form className="scan-form" onSubmit={(e) => void submit(e)} noValidate aria-label={t('scan.formTitle')}>
      <h2 className="scan-form__title">{t('scan.formTitle')}</h2>
      <div className="tabs tabs--boxed" role="tablist" aria-label={t('scan.mode')}>
        {SCAN_MODES.map((mode) => (
          <button
            key={mode}
            type="button"
            role="tab"
            aria-selected={form.mode === mode}
            className={`tab ${form.mode === mode ? 'tab--active' : ''}`}
            onClick={() => {
              set('mode', mode);
              setErrors({});
              setSummary([]);
              setNotice(null);
            }}
          >
            {modeLabel[mode]}
          </button>
        ))}
      </div>

      {notice && (
        <div className="notice notice--error" role="alert">
          {notice}
          {summary.length > 0 && (
            <ul>
              {summary.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          )}
        </div>
      )}

      {form.mode === 'unicast' && (
        <>
          <Field label={t('scan.ranges')} error={errors.ranges} hint={t('scan.rangesHint')}>
            {(id) => (
              <textarea
                id={id}
                className="mono"
                rows={4}
                spellCheck={false}
                placeholder={'192.168.1.0/24\n10.2.3.1-10.2.3.50\n10.2.4.8'}
                value={form.ranges}
                onChange={(e) => set('ranges', e.target.value)}
              />
            )}
          </Field>
          <div className="field-row">
            <Field label={t('scan.wsdPorts')} error={errors.wsdPorts} hint={t('scan.wsdPortsHint')}>
              {(id) => (
                <input
                  id={id}
                  className="mono"
                  inputMode="numeric"
                  value={form.wsdPorts}
                  onChange={(e) => set('wsdPorts', e.target.value)}
                />
              )}
            </Field>
            <Field label={t('scan.httpPorts')} error={errors.httpPorts} hint={t('scan.httpPortsHint')}>
              {(id) => (
                <input
                  id={id}
                  className="mono"
                  inputMode="numeric"
                  placeholder="80, 8000"
                  value={form.httpPorts}
                  onChange={(e) => set('httpPorts', e.target.value)}
                />
              )}
            </Field>
          </div>
        </>
      )}

      {form.mode === 'multicast' && (
        <Field label={t('scan.interface')} error={errors.interface} hint={t('scan.interfaceHint')}>
          {(id) => (
            <input
              id={id}
              className="mono"
              placeholder="192.168.1.10"
              value={form.iface}
              onChange={(e) => set('iface', e.target.value)}
            />
          )}
        </Field>
      )}

      {form.mode === 'manual' && (
        <Field label={t('scan.address')} error={errors.address} hint={t('scan.addressHint')}>
          {(id) => (
            <input
              id={id}
              className="mono"
              placeholder="192.168.1.64:8000"
              value={form.address}
              onChange={(e) => set('address', e.target.value)}
            />
          )}
        </Field>
      )}

      <fieldset className="credentials scan-form__credentials">
        <legend className="credentials__title">{t('scan.credentials', { max: MAX_CREDENTIALS })}</legend>
        {errors.credentials && <div className="field__error">{errors.credentials}</div>}
        {form.credentials.map((row, i) => {
          const rowError = errors[`cred.${i}`];
          return (
            <div key={row.key} className="credential-row">
              <span className="credential-row__n">{i + 1}</span>
              <input
                aria-label={t('scan.credUsername', { n: i + 1 })}
                placeholder={t('form.credUsername')}
                autoComplete="off"
                spellCheck={false}
                value={row.username}
                aria-invalid={rowError ? true : undefined}
                onChange={(e) => setCredential(row.key, { username: e.target.value })}
              />
              <input
                type="password"
                aria-label={t('scan.credPassword', { n: i + 1 })}
                placeholder={t('form.credPassword')}
                // Never offered for saving or filled in by the browser: these are device secrets.
                autoComplete="new-password"
                value={row.password}
                onChange={(e) => setCredential(row.key, { password: e.target.value })}
              />
              <button
                type="button"
                className="icon-button"
                onClick={() => removeCredential(row.key)}
                aria-label={t('scan.credRemove', { n: i + 1 })}
                title={t('scan.credRemove', { n: i + 1 })}
              >
                ×
              </button>
              {rowError && <div className="field__error credential-row__error">{rowError}</div>}
            </div>
          );
        })}
        <div className="credentials__actions">
          <button
            type="button"
            className="link-button"
            onClick={addCredential}
            disabled={form.credentials.length >= MAX_CREDENTIALS}
          >
            {t('scan.credAdd')}
          </button>
        </div>
        <p className="field__hint">{t('scan.credHint')}</p>
      </fieldset>

      <button type="submit" className="button button--primary button--block" disabled={busy}>
        {busy ? t('scan.starting') : t('scan.start')}
      </button>
    </form>
  );
}
