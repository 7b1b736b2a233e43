import { useMemo, useState, type FormEvent } from 'react';
import type { AlertLevel, WorkOrderView } from '@api/contract.ts';
import { ApiError } from '../api.ts';
import { Field } from '../components/Field.tsx';
import { Modal } from '../components/Modal.tsx';
import { describeError, fieldMessageOf } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { useSession } from '../session.tsx';
import { descendantsOf, useOrgUnits } from './orderBits.tsx';
import { ordersApi, type CreateOrderBody } from './ordersApi.ts';
import { PlacePicker, type PlaceChoice } from './OrderPlace.tsx';
import { useAlerts } from '../alerts/AlertsProvider.tsx';
import { isOpen } from '../alerts/alertColors.ts';

/** The place fields of the request: a map position, a camera's (with the camera), or an alert. */
function placeBody(place: PlaceChoice, orgUnitId: string): Partial<CreateOrderBody> {
  const unit = orgUnitId ? { orgUnitId: Number(orgUnitId) } : {};
  switch (place.kind) {
    case 'map':
      return { ...unit, position: { lon: place.position.lon, lat: place.position.lat } };
    case 'camera':
      return {
        orgUnitId: orgUnitId ? Number(orgUnitId) : place.camera.orgUnitId,
        position: { lon: place.camera.position.lon, lat: place.camera.position.lat },
        cameraIds: [place.camera.id],
      };
    case 'alert':
      return { alertId: place.alert.id };
    case 'none':
      return unit;
  }
}

const LEVELS: readonly AlertLevel[] = ['blue', 'yellow', 'orange', 'red'];

/** 人工建单: an order typed in by hand (a matter reported by phone or a grid worker). */
export function CreateOrderDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (order: WorkOrderView) => void;
}) {
  const { t } = useI18n();
  const { user } = useSession();
  const { units, byId } = useOrgUnits();
  const [title, setTitle] = useState('');
  const [level, setLevel] = useState<AlertLevel>('yellow');
  const [description, setDescription] = useState('');
  const [orgUnitId, setOrgUnitId] = useState('');
  const [place, setPlace] = useState<PlaceChoice>({ kind: 'none' });
  const { alerts } = useAlerts();
  const openAlerts = useMemo(() => alerts.filter((a) => isOpen(a.status)), [alerts]);
  const [assignTo, setAssignTo] = useState('auto');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [localError, setLocalError] = useState<Record<string, string>>({});

  const places = useMemo(() => {
    const own = byId.get(user.orgUnitId);
    return [...(own ? [own] : []), ...descendantsOf(user.orgUnitId, units)];
  }, [units, byId, user.orgUnitId]);
  const below = useMemo(() => descendantsOf(user.orgUnitId, units), [units, user.orgUnitId]);

  const fieldError = (path: string): string | undefined =>
    localError[path] ??
    (error instanceof ApiError
      ? fieldMessageOf(
          error.fields.find((f) => f.path === path || f.path.startsWith(`${path}.`)),
          t,
        )
      : undefined);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const local: Record<string, string> = {};
    // From an alert the title may stay empty: the alert's own is used.
    if (!title.trim() && place.kind !== 'alert') local['title'] = t('order.required');
    if (place.kind === 'none' && !orgUnitId) local['position'] = t('order.placeRequired');
    setLocalError(local);
    if (Object.keys(local).length > 0) return;
    const body: CreateOrderBody = {
      ...(title.trim() ? { title: title.trim() } : {}),
      level,
      ...(description.trim() ? { description: description.trim() } : {}),
      ...placeBody(place, orgUnitId),
      assignTo: assignTo === 'auto' || assignTo === 'hold' || assignTo === 'report_up' ? assignTo : Number(assignTo),
    };
    setBusy(true);
    setError(null);
    ordersApi.create(body).then(
      (o) => {
        setBusy(false);
        onCreated(o);
      },
      (err: unknown) => {
        setBusy(false);
        setError(err);
      },
    );
  };

  return (
    <Modal title={t('order.createTitle')} onClose={onClose}>
      <form className="order-create" onSubmit={submit} noValidate>
        <Field label={t('order.fieldTitle')} error={fieldError('title')}>
          {(id) => (
            <input
              id={id}
              name="order-title"
              value={title}
              maxLength={200}
              onChange={(e) => setTitle(e.target.value)}
            />
          )}
        </Field>
        <div className="field-row">
          <Field label={t('order.fieldLevel')} error={fieldError('level')}>
            {(id) => (
              <select id={id} name="order-level" value={level} onChange={(e) => setLevel(e.target.value as AlertLevel)}>
                {LEVELS.map((l) => (
                  <option key={l} value={l}>
                    {t(`alert.level.${l}`)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('order.fieldPlace')} error={fieldError('orgUnitId')}>
            {(id) => (
              <select id={id} name="order-place" value={orgUnitId} onChange={(e) => setOrgUnitId(e.target.value)}>
                <option value="">{t('order.placeByPosition')}</option>
                {places.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <PlacePicker
          choice={place}
          onChoose={setPlace}
          alerts={openAlerts}
          error={localError['position'] ?? fieldError('position') ?? fieldError('alertId') ?? fieldError('cameraIds')}
        />
        <Field label={t('order.fieldDescription')} error={fieldError('description')}>
          {(id) => (
            <textarea
              id={id}
              name="order-description"
              rows={3}
              maxLength={4000}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
            />
          )}
        </Field>
        <Field label={t('order.fieldAssignTo')} error={fieldError('assignTo')}>
          {(id) => (
            <select id={id} name="order-assign-to" value={assignTo} onChange={(e) => setAssignTo(e.target.value)}>
              <option value="auto">{t('order.assignAuto')}</option>
              <option value="hold">{t('order.assignHold')}</option>
              <option value="report_up">{t('order.assignReportUp')}</option>
              {below.map((u) => (
                <option key={u.id} value={u.id}>
                  {t('order.assignToUnit', { name: u.name })}
                </option>
              ))}
            </select>
          )}
        </Field>
        {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
        <div className="modal__footer">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button--primary" disabled={busy}>
            {t('order.createSubmit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
