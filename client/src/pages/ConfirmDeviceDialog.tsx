/**
 * Turns a discovered device into a camera point: the technician names it,
 * picks network and org unit and places it on the map; the server takes the
 * device address, stream URIs, PTZ and the credentials that worked from the scan.
 */
import { useMemo, useState, type SubmitEvent } from 'react';
import type {
  CameraPointView,
  ConfirmDeviceRequest,
  DiscoveredDeviceView,
  NetworkView,
  OrgUnitView,
} from '@api/contract.ts';
import { api, ApiError } from '../api.ts';
import { Field } from '../components/Field.tsx';
import { Modal } from '../components/Modal.tsx';
import { networkLabel } from '../components/NetworkList.tsx';
import { buildOrgTree, flattenOrgTree } from '../components/OrgTree.tsx';
import { PositionPicker, type PositionText } from '../components/PositionPicker.tsx';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { formStateOf, parseForm } from './cameraFormModel.ts';
import { clockIsOff, formatOffset, mainAndSub, makeAndModel, profileSummary, suggestedName } from './deviceFormat.ts';

interface ConfirmState extends PositionText {
  name: string;
  code: string;
  networkId: string;
  orgUnitId: string;
  address: string;
  direction: string;
  fov: string;
}

/** Paths shown beside a control; any other error path goes to the summary. */
const FIELD_PATHS = new Set([
  'name',
  'code',
  'networkId',
  'orgUnitId',
  'position',
  'position.lon',
  'position.lat',
  'position.system',
  'address',
  'direction',
  'fov',
]);

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
  const orgOptions = useMemo(() => flattenOrgTree(buildOrgTree(orgUnits)), [orgUnits]);
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
        setNotice(t('confirm.conflict', { message: error.message }));
        onConflict();
      } else if (error instanceof ApiError && error.fields.length > 0) {
        const byField: Record<string, string> = {};
        const rest: string[] = [];
        for (const f of error.fields) {
          if (FIELD_PATHS.has(f.path)) byField[f.path] ??= f.message;
          else rest.push(`${f.path}: ${f.message}`);
        }
        setErrors(byField);
        setOther(rest);
        setNotice(rest.length > 0 ? error.message : t('form.fixErrors'));
      } else {
        setNotice(describeError(error, t));
      }
    } finally {
      setBusy(false);
    }
  };

  const { main, sub } = mainAndSub(device.profiles);
  const identity = makeAndModel(device);

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
            <Field label={t('form.name')} error={err('name')}>
              {(id) => (
                <input id={id} value={form.name} onChange={(e) => set('name', e.target.value)} maxLength={200} />
              )}
            </Field>
            <div className="field-row">
              <Field label={t('form.network')} error={err('networkId')}>
                {(id) => (
                  <select id={id} value={form.networkId} onChange={(e) => set('networkId', e.target.value)}>
                    <option value="">{t('common.choose')}</option>
                    {networks.map((n) => (
                      <option key={n.id} value={n.id}>
                        {networkLabel(n, lang)}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <Field label={t('form.orgUnit')} error={err('orgUnitId')}>
                {(id) => (
                  <select id={id} value={form.orgUnitId} onChange={(e) => set('orgUnitId', e.target.value)}>
                    <option value="">{t('common.choose')}</option>
                    {orgOptions.map(({ unit, depth }) => (
                      <option key={unit.id} value={unit.id}>
                        {'\u00a0\u00a0\u00a0'.repeat(depth) + unit.name}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            </div>
            <Field label={t('form.code')} error={err('code')}>
              {(id) => (
                <input
                  id={id}
                  className="mono"
                  inputMode="numeric"
                  value={form.code}
                  onChange={(e) => set('code', e.target.value)}
                  maxLength={20}
                />
              )}
            </Field>
            <Field label={t('form.address')} error={err('address')}>
              {(id) => <input id={id} value={form.address} onChange={(e) => set('address', e.target.value)} />}
            </Field>
            <div className="field-row">
              <Field label={t('form.direction')} error={err('direction')}>
                {(id) => (
                  <input
                    id={id}
                    type="number"
                    min={0}
                    max={360}
                    step="any"
                    value={form.direction}
                    onChange={(e) => set('direction', e.target.value)}
                  />
                )}
              </Field>
              <Field label={t('form.fov')} error={err('fov')}>
                {(id) => (
                  <input
                    id={id}
                    type="number"
                    min={0}
                    max={360}
                    step="any"
                    value={form.fov}
                    onChange={(e) => set('fov', e.target.value)}
                  />
                )}
              </Field>
            </div>
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
