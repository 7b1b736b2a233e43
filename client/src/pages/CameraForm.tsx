import { useEffect, useRef, useState, type SubmitEvent } from 'react';
import type { CameraPointView, NetworkView, OrgUnitView, ServerToClientEvents } from '@api/contract.ts';
import { api, ApiError } from '../api.ts';
import { Field } from '../components/Field.tsx';
import { Modal } from '../components/Modal.tsx';
import {
  AddressAndViewFields,
  CodeField,
  NameField,
  NetworkAndUnitFields,
  type PointFieldProps,
} from '../components/PointFields.tsx';
import { PositionPicker } from '../components/PositionPicker.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { describeError, fieldLine, fieldMessage } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { useRealtime } from '../realtime.tsx';
import {
  createBody,
  formStateOf,
  parseForm,
  patchBody,
  POINT_FIELD_PATHS,
  type CameraFormState,
} from './cameraFormModel.ts';

interface CameraFormProps {
  /** null: a new point. */
  camera: CameraPointView | null;
  orgUnits: readonly OrgUnitView[];
  networks: readonly NetworkView[];
  readOnly: boolean;
  onClose: () => void;
  /** After create or update (the saved point) or delete (null). */
  onSaved: (camera: CameraPointView | null) => void;
}

/** Paths the form shows next to a control; any other server error path goes to the summary. */
const FIELD_PATHS = new Set<string>([
  ...POINT_FIELD_PATHS,
  'onvifUrl',
  'mainStreamUri',
  'subStreamUri',
  'credentials',
  'credentials.username',
  'credentials.password',
  'ptz',
  'rtspTransport',
]);

/** The access fields that are one URI each; the error path is the field's own name. */
const ACCESS_FIELDS = [
  { key: 'onvifUrl', label: 'form.onvifUrl', placeholder: 'http://192.168.1.64/onvif/device_service' },
  { key: 'mainStreamUri', label: 'form.mainStream', placeholder: 'rtsp://192.168.1.64:554/Streaming/Channels/101' },
  { key: 'subStreamUri', label: 'form.subStream', placeholder: 'rtsp://192.168.1.64:554/Streaming/Channels/102' },
] as const;

type Notice = { kind: 'error' | 'info'; text: string } | null;

export function CameraForm({ camera, orgUnits, networks, readOnly, onClose, onSaved }: CameraFormProps) {
  const { t, formatTime } = useI18n();
  const [base, setBase] = useState<CameraPointView | null>(camera);
  const [form, setForm] = useState<CameraFormState>(() => formStateOf(camera));
  /** Errors by field path: local checks are translated, server messages are shown as sent. */
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [otherErrors, setOtherErrors] = useState<string[]>([]);
  const [notice, setNotice] = useState<Notice>(null);
  const [busy, setBusy] = useState<'save' | 'delete' | null>(null);
  const [confirmingDelete, setConfirmingDelete] = useState(false);

  // The table row may be stale (e.g. while the live connection was down): start from the
  // current version unless the user has already begun typing, in which case a save will
  // meet the 409 and reload anyway.
  const touched = useRef(false);
  useEffect(() => {
    if (!camera) return;
    const controller = new AbortController();
    api.camera(camera.id, controller.signal).then(
      (fresh) => {
        if (fresh.version === camera.version || touched.current) return;
        setBase(fresh);
        setForm(formStateOf(fresh));
      },
      () => {
        // Keep the row's data; saving reports any real problem.
      },
    );
    return () => controller.abort();
  }, [camera]);

  // Health checks run all the time: keep the status line of the open point current.
  const { socket } = useRealtime();
  const baseId = base?.id ?? null;
  useEffect(() => {
    if (!socket || baseId === null) return;
    const onStatus: ServerToClientEvents['camera:status'] = (event) => {
      if (event.id !== baseId) return;
      setBase((prev) =>
        prev && prev.id === event.id
          ? {
              ...prev,
              status: event.status,
              statusReason: event.reason,
              lastSeenAt: event.lastSeenAt ?? prev.lastSeenAt,
              lastCheckedAt: event.at,
            }
          : prev,
      );
    };
    socket.on('camera:status', onStatus);
    return () => {
      socket.off('camera:status', onStatus);
    };
  }, [socket, baseId]);

  const set = <K extends keyof CameraFormState>(key: K, value: CameraFormState[K]) => {
    touched.current = true;
    setForm((prev) => ({ ...prev, [key]: value }));
  };

  const err = (...paths: string[]) => paths.map((p) => errors[p]).find((m) => m !== undefined);
  const pointFields: PointFieldProps = { form, set, err };

  const reload = async (id: number, message: Notice) => {
    try {
      const fresh = await api.camera(id);
      setBase(fresh);
      setForm(formStateOf(fresh));
      setErrors({});
      setOtherErrors([]);
      setNotice(message);
    } catch (e) {
      setNotice({
        kind: 'error',
        text: e instanceof ApiError && e.status === 404 ? t('form.notFound') : describeError(e, t),
      });
    }
  };

  const showServerError = (e: unknown) => {
    if (e instanceof ApiError && e.fields.length > 0) {
      const byField: Record<string, string> = {};
      const other: string[] = [];
      for (const f of e.fields) {
        if (FIELD_PATHS.has(f.path)) byField[f.path] ??= fieldMessage(f, t);
        else other.push(fieldLine(f, t));
      }
      setErrors(byField);
      setOtherErrors(other);
      setNotice({ kind: 'error', text: t('form.fixErrors') });
    } else if (e instanceof ApiError && e.status === 404) {
      setNotice({ kind: 'error', text: t('form.notFound') });
    } else {
      setNotice({ kind: 'error', text: describeError(e, t) });
    }
  };

  const submit = async (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (readOnly || busy) return;
    const parsed = parseForm(form);
    if (!parsed.ok) {
      setErrors(Object.fromEntries(Object.entries(parsed.errors).map(([path, key]) => [path, t(key)])));
      setOtherErrors([]);
      setNotice({ kind: 'error', text: t('form.fixErrors') });
      return;
    }
    setErrors({});
    setOtherErrors([]);
    setNotice(null);
    setBusy('save');
    try {
      if (base) {
        const patch = patchBody(base, parsed.input);
        if (!patch) {
          setNotice({ kind: 'info', text: t('form.noChanges') });
          return;
        }
        onSaved(await api.patchCamera(base.id, patch));
      } else {
        onSaved(await api.createCamera(createBody(parsed.input)));
      }
    } catch (e) {
      if (base && e instanceof ApiError && e.status === 409) {
        await reload(base.id, { kind: 'error', text: t('form.conflict') });
      } else {
        showServerError(e);
      }
    } finally {
      setBusy(null);
    }
  };

  const remove = async () => {
    if (!base) return;
    setBusy('delete');
    try {
      await api.deleteCamera(base.id, base.version);
      onSaved(null);
    } catch (e) {
      setConfirmingDelete(false);
      if (e instanceof ApiError && e.status === 409) await reload(base.id, { kind: 'error', text: t('form.conflict') });
      else showServerError(e);
    } finally {
      setBusy(null);
    }
  };

  const title = readOnly ? t('form.titleView') : base ? t('form.titleEdit') : t('form.titleNew');

  const footer = confirmingDelete ? (
    <>
      <span className="footer-message">{t('form.confirmDelete', { name: base?.name ?? '' })}</span>
      <button type="button" className="button" onClick={() => setConfirmingDelete(false)} disabled={busy !== null}>
        {t('common.cancel')}
      </button>
      <button type="button" className="button button--danger" onClick={() => void remove()} disabled={busy !== null}>
        {busy === 'delete' ? t('common.deleting') : t('form.confirmDeleteYes')}
      </button>
    </>
  ) : (
    <>
      {base && !readOnly && (
        <button type="button" className="button button--danger-ghost" onClick={() => setConfirmingDelete(true)}>
          {t('common.delete')}
        </button>
      )}
      <span className="toolbar__spacer" />
      <button type="button" className="button" onClick={onClose}>
        {readOnly ? t('common.close') : t('common.cancel')}
      </button>
      {!readOnly && (
        <button type="submit" form="camera-form" className="button button--primary" disabled={busy !== null}>
          {busy === 'save' ? t('common.saving') : t('common.save')}
        </button>
      )}
    </>
  );

  return (
    <Modal title={title} onClose={onClose} footer={footer} wide>
      <form id="camera-form" className="camera-form" onSubmit={(e) => void submit(e)} noValidate>
        {notice && (
          <div className={`notice notice--${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
            {notice.text}
            {otherErrors.length > 0 && (
              <ul>
                {otherErrors.map((m) => (
                  <li key={m}>{m}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        {base && <PointHealth camera={base} />}
        <fieldset disabled={readOnly} className="camera-form__grid">
          <div className="camera-form__column">
            <h3>{t('form.sectionBasic')}</h3>
            <NameField {...pointFields} />
            <CodeField {...pointFields} />
            <NetworkAndUnitFields {...pointFields} networks={networks} orgUnits={orgUnits} />
            <AddressAndViewFields {...pointFields} />
            <label className="check">
              <input type="checkbox" checked={form.ptz} onChange={(e) => set('ptz', e.target.checked)} />
              {t('form.ptz')}
            </label>

            <h3>{t('form.sectionAccess')}</h3>
            {ACCESS_FIELDS.map(({ key, label, placeholder }) => (
              <Field key={key} label={t(label)} error={err(key)}>
                {(id) => (
                  <input
                    id={id}
                    className="mono"
                    placeholder={placeholder}
                    value={form[key]}
                    onChange={(e) => set(key, e.target.value)}
                  />
                )}
              </Field>
            ))}
            <Field label={t('form.rtspTransport')} error={err('rtspTransport')}>
              {(id) => (
                <select
                  id={id}
                  value={form.rtspTransport}
                  onChange={(e) => set('rtspTransport', e.target.value as CameraFormState['rtspTransport'])}
                >
                  {(['auto', 'tcp', 'udp'] as const).map((v) => (
                    <option key={v} value={v}>
                      {t(`form.rtspTransport.${v}`)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {base?.rtspTransportSeen && (
              <p className="field__hint">
                {t('form.rtspTransportSeen', { transport: base.rtspTransportSeen.toUpperCase() })}
              </p>
            )}
            <div className="credentials">
              <div className="credentials__title">{t('form.credentials')}</div>
              {base?.credentialsUnreadable && (
                <div className="field__error" role="alert">
                  {t('form.credUnreadable')}
                </div>
              )}
              <p className="field__hint">
                {readOnly
                  ? base?.hasCredentials
                    ? t('form.credStored')
                    : t('form.credNone')
                  : `${base?.hasCredentials ? t('form.credKept') : t('form.credNone')} ${t('form.credWriteOnly')}`}
              </p>
              {err('credentials') && <div className="field__error">{err('credentials')}</div>}
              {!readOnly && (
                <div className="field-row">
                  <Field label={t('form.credUsername')} error={err('credentials.username')}>
                    {(id) => (
                      <input
                        id={id}
                        autoComplete="off"
                        value={form.credUsername}
                        disabled={form.clearCredentials}
                        onChange={(e) => set('credUsername', e.target.value)}
                      />
                    )}
                  </Field>
                  <Field label={t('form.credPassword')} error={err('credentials.password')}>
                    {(id) => (
                      <input
                        id={id}
                        type="password"
                        autoComplete="new-password"
                        value={form.credPassword}
                        disabled={form.clearCredentials}
                        onChange={(e) => set('credPassword', e.target.value)}
                      />
                    )}
                  </Field>
                </div>
              )}
              {base?.hasCredentials && !readOnly && (
                <label className="check">
                  <input
                    type="checkbox"
                    checked={form.clearCredentials}
                    onChange={(e) => {
                      const clear = e.target.checked;
                      touched.current = true;
                      setForm((prev) => ({ ...prev, clearCredentials: clear, credUsername: '', credPassword: '' }));
                    }}
                  />
                  {t('form.credClear')}
                </label>
              )}
            </div>
          </div>

          <div className="camera-form__column">
            <h3>{t('form.sectionPosition')}</h3>
            <PositionPicker
              value={{ lon: form.lon, lat: form.lat, system: form.system }}
              onChange={(patch) => {
                touched.current = true;
                setForm((prev) => ({ ...prev, ...patch }));
              }}
              errors={{
                lon: err('position.lon', 'position'),
                lat: err('position.lat'),
                system: err('position.system'),
              }}
              readOnly={readOnly}
            />
            {base && (
              <p className="field__hint">
                {t('form.meta', {
                  time: formatTime(base.updatedAt),
                  version: base.version,
                  system: t(`coord.${base.coordSource}`),
                })}
              </p>
            )}
          </div>
        </fieldset>
      </form>
    </Modal>
  );
}

/** What the health checks last said about the point, and what the device told discovery about itself. */
function PointHealth({ camera }: { camera: CameraPointView }) {
  const { t, formatTime } = useI18n();
  const device = camera.device;
  const identity = device
    ? [
        [device.manufacturer, device.model].filter(Boolean).join(' '),
        device.serial ? t('form.serial', { serial: device.serial }) : null,
        device.mac ? t('form.mac', { mac: device.mac }) : null,
      ].filter((part): part is string => Boolean(part))
    : [];
  return (
    <div className="point-health" role="status" aria-live="polite">
      <StatusBadge status={camera.status} reason={camera.statusReason} />
      {camera.statusReason && <span className="point-health__reason">{camera.statusReason}</span>}
      <span className="muted">
        {t('form.lastSeen', { time: camera.lastSeenAt ? formatTime(camera.lastSeenAt) : t('form.never') })}
      </span>
      {camera.lastCheckedAt && (
        <span className="muted">{t('form.lastChecked', { time: formatTime(camera.lastCheckedAt) })}</span>
      )}
      {identity.length > 0 && <span className="point-health__device">{identity.join(' · ')}</span>}
    </div>
  );
}
