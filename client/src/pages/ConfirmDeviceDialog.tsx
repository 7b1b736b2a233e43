/**
 * Turns a discovered device into a camera point: the technician names it,
 * picks network and org unit and places it on the map; the server takes the
 * device address, stream URIs, PTZ and the credentials that worked from the scan.
 */
import { useState, type SubmitEvent } from 'react';
import type {
  CameraPointView,
  ConfirmDeviceRequest,
  DiscoveredDeviceView,
  NetworkView,
  OrgUnitView,
} from '@api/contract.ts';
import { api, ApiError } from '../api.ts';
import { Modal } from '../components/Modal.tsx';
import {
  AddressAndViewFields,
  CodeField,
  NameField,
  NetworkAndUnitFields,
  type PointFieldProps,
  type PointFieldValues,
} from '../components/PointFields.tsx';
import { PositionPicker, type PositionText } from '../components/PositionPicker.tsx';
import { describeError, fieldLine, fieldMessage } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { serverText } from '../serverMessages.ts';
import { formStateOf, parseForm, POINT_FIELD_PATHS } from './cameraFormModel.ts';
import { clockIsOff, formatOffset, mainAndSub, makeAndModel, profileSummary, suggestedName } from './deviceFormat.ts';

type ConfirmState = PointFieldValues & PositionText;

/** Paths shown beside a control; any other error path goes to the summary. */
const FIELD_PATHS = new Set<string>(POINT_FIELD_PATHS);

/** The camera form's checks apply unchanged; only the confirmation fields are sent. */
function parseConfirm(state: ConfirmState) {
  const parsed = parseForm({ ...formStateOf(null), ...state });
  if (!parsed.ok) return parsed;
  const { input } = parsed;
  const body: ConfirmDeviceRequest = {
    name: input.name,
    networkId: input.networkId,
    orgUnitId: input.orgUnitId,
    position: input.position,
  };
  if (input.code != null) body.code = input.code;
  if (input.address != null) body.address = input.address;
  if (input.direction != null) body.direction = input.direction;
  if (input.fov != null) body.fov = input.fov;
  return { ok: true as const, body };
}

interface ConfirmDeviceDialogProps {
  device: DiscoveredDeviceView;
  orgUnits: readonly OrgUnitView[];
  networks: readonly NetworkView[];
  onClose: () => void;
  onConfirmed: (camera: CameraPointView) => void;
  /** 409: someone registered the device meanwhile; the page reloads the scan. */
  onConflict: () => void;
}

export function ConfirmDeviceDialog({
  device,
  orgUnits,
  networks,
  onClose,
  onConfirmed,
  onConflict,
}: ConfirmDeviceDialogProps) {
  const { t, lang } = useI18n();
  const [form, setForm] = useState<ConfirmState>(() => ({
    name: suggestedName(device, t('discovery.cameraFallback')),
    code: '',
    networkId: '',
    // A technician of one village registers into it; anyone else chooses.
    orgUnitId: orgUnits.length === 1 && orgUnits[0] ? String(orgUnits[0].id) : '',
    address: '',
    direction: '',
    fov: '',
    lon: '',
    lat: '',
    system: 'wgs84',
  }));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [other, setOther] = useState<string[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [conflicted, setConflicted] = useState(false);

  const set = <K extends keyof ConfirmState>(key: K, value: ConfirmState[K]) =>
    setForm((prev) => ({ ...prev, [key]: value }));
  const err = (...paths: string[]) => paths.map((p) => errors[p]).find((m) => m !== undefined);
  const pointFields: PointFieldProps = { form, set, err };

  const submit = async (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (busy || conflicted) return;
    const parsed = parseConfirm(form);
    if (!parsed.ok) {
      setErrors(Object.fromEntries(Object.entries(parsed.errors).map(([path, key]) => [path, t(key)])));
      setOther([]);
      setNotice(t('form.fixErrors'));
      return;
    }
    setErrors({});
    setOther([]);
    setNotice(null);
    setBusy(true);
    try {
      onConfirmed(await api.confirmDevice(device.id, parsed.body));
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        setConflicted(true);
        setNotice(t('confirm.conflict', { message: describeError(error, t) }));
        onConflict();
      } else if (error instanceof ApiError && error.fields.length > 0) {
        const byField: Record<string, string> = {};
        const rest: string[] = [];
        for (const f of error.fields) {
          if (FIELD_PATHS.has(f.path)) byField[f.path] ??= fieldMessage(f, t);
          else rest.push(fieldLine(f, t));
        }
        setErrors(byField);
        setOther(rest);
        setNotice(t('form.fixErrors'));
      } else {
        setNotice(describeError(error, t));
      }
    } finally {
      setBusy(false);
    }
  };

  const { main, sub } = mainAndSub(device.profiles);
  const identity = makeAndModel(device);
  // Issue 12: streams reported on another host than the one that answered (NAT): said before confirming.
  const hostWarning = device.reasonParts?.find((p) => p.code === 'uri_host_rebased' || p.code === 'uri_host_differs');

  const footer = (
    <>
      <span className="toolbar__spacer" />
      <button type="button" className="button" onClick={onClose}>
        {conflicted ? t('common.close') : t('common.cancel')}
      </button>
      {!conflicted && (
        <button type="submit" form="confirm-device" className="button button--primary" disabled={busy}>
          {busy ? t('common.saving') : t('confirm.submit')}
        </button>
      )}
    </>
  );

  return (
    <Modal title={t('confirm.title', { host: device.host })} onClose={onClose} footer={footer} wide>
      <form id="confirm-device" className="camera-form confirm-device" onSubmit={(e) => void submit(e)} noValidate>
        {notice && (
          <div className="notice notice--error" role="alert">
            {notice}
            {other.length > 0 && (
              <ul>
                {other.map((m) => (
                  <li key={m}>{m}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        {hostWarning && (
          <div className="notice notice--warning" role="status" data-warning={hostWarning.code}>
            {serverText(lang, hostWarning) ?? hostWarning.text}
            {device.reportedUris?.mainStreamUri && (
              <div className="mono muted">{device.reportedUris.mainStreamUri}</div>
            )}
          </div>
        )}
        <dl className="device-facts">
          <dt>{t('device.address')}</dt>
          <dd className="mono">{device.xaddr}</dd>
          <dt>{t('device.makeModel')}</dt>
          <dd>
            {identity ?? t('common.none')}
            {device.firmware && <span className="muted"> · {t('device.firmware', { v: device.firmware })}</span>}
          </dd>
          <dt>{t('device.serialMac')}</dt>
          <dd className="mono">
            {device.serial ?? t('common.none')} · {device.mac ?? t('common.none')}
          </dd>
          <dt>{t('device.streams')}</dt>
          <dd>
            {main ? profileSummary(main) : t('common.none')}
            {sub && <> · {profileSummary(sub)}</>}
            {device.ptz && <span className="tag">{t('device.ptz')}</span>}
          </dd>
          <dt>{t('device.credentials')}</dt>
          <dd>{device.credentialsOk ? t('confirm.credentialsOk') : t('confirm.credentialsMissing')}</dd>
          {device.clockOffsetMs !== null && (
            <>
              <dt>{t('device.clock')}</dt>
              <dd className={clockIsOff(device) ? 'clock-warn' : undefined}>
                {clockIsOff(device)
                  ? t('device.clockSkewed', { offset: formatOffset(device.clockOffsetMs, t) })
                  : formatOffset(device.clockOffsetMs, t)}
              </dd>
            </>
          )}
        </dl>
        <fieldset className="camera-form__grid" disabled={conflicted}>
          <div className="camera-form__column">
            <h3>{t('form.sectionBasic')}</h3>
            <NameField {...pointFields} />
            <NetworkAndUnitFields {...pointFields} networks={networks} orgUnits={orgUnits} />
            <CodeField {...pointFields} />
            <AddressAndViewFields {...pointFields} />
            <p className="field__hint">{t('confirm.fromDevice')}</p>
          </div>
          <div className="camera-form__column">
            <h3>{t('form.sectionPosition')}</h3>
            <PositionPicker
              value={{ lon: form.lon, lat: form.lat, system: form.system }}
              onChange={(patch) => setForm((prev) => ({ ...prev, ...patch }))}
              errors={{
                lon: err('position.lon', 'position'),
                lat: err('position.lat'),
                system: err('position.system'),
              }}
            />
          </div>
        </fieldset>
      </form>
    </Modal>
  );
}
