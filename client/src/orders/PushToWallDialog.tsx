import { useMemo, useState, type FormEvent } from 'react';
import type { WorkOrderView } from '@api/contract.ts';
import { ApiError } from '../api.ts';
import { Field } from '../components/Field.tsx';
import { Modal } from '../components/Modal.tsx';
import { describeError, fieldMessageOf } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { useSession } from '../session.tsx';
import { descendantsOf, lineageOf, useOrgUnits } from './orderBits.tsx';
import { ordersApi } from './ordersApi.ts';

/** 视频调度: push the order's cameras to a lower unit's wall. */
export function PushToWallDialog({
  order,
  cameraName,
  onClose,
}: {
  order: WorkOrderView;
  cameraName: (id: number) => string;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const { user } = useSession();
  const { units, byId } = useOrgUnits();
  const targets = useMemo(() => {
    const below = descendantsOf(user.orgUnitId, units);
    // The units that own the order's place first: their walls can show its cameras.
    const owning = new Set(lineageOf(order.placeOrgUnitId, byId).map((u) => u.id));
    return [...below.filter((u) => owning.has(u.id)), ...below.filter((u) => !owning.has(u.id))];
  }, [units, byId, user.orgUnitId, order.placeOrgUnitId]);
  const [target, setTarget] = useState('');
  const [picked, setPicked] = useState<ReadonlySet<number>>(() => new Set(order.cameraIds));
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const chosen = target || (targets[0] ? String(targets[0].id) : '');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!chosen) return;
    setBusy(true);
    setError(null);
    ordersApi
      .pushToWall({
        targetOrgUnitId: Number(chosen),
        cameraIds: order.cameraIds.filter((id) => picked.has(id)),
        orderId: order.id,
        ...(note.trim() ? { note: note.trim() } : {}),
      })
      .then(
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

  const fieldError = (path: string) =>
    error instanceof ApiError
      ? fieldMessageOf(
          error.fields.find((f) => f.path === path || f.path.startsWith(`${path}.`)),
          t,
        )
      : undefined;

  return (
    <Modal title={t('order.pushWallTitle')} onClose={onClose}>
      <form className="order-push" onSubmit={submit} noValidate>
        <Field label={t('order.pushTarget')} error={fieldError('targetOrgUnitId')}>
          {(id) => (
            <select id={id} name="push-target" value={chosen} onChange={(e) => setTarget(e.target.value)}>
              {targets.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <fieldset className="order-push__cameras">
          <legend>{t('order.pushCameras')}</legend>
          {order.cameraIds.map((id) => (
            <label key={id} className="check">
              <input
                type="checkbox"
                name="push-camera"
                value={id}
                checked={picked.has(id)}
                onChange={(e) =>
                  setPicked((prev) => {
                    const next = new Set(prev);
                    if (e.target.checked) next.add(id);
                    else next.delete(id);
                    return next;
                  })
                }
              />
              {cameraName(id)}
            </label>
          ))}
          {fieldError('cameraIds') && <div className="field__error">{fieldError('cameraIds')}</div>}
        </fieldset>
        <Field label={t('order.note')}>
          {(id) => (
            <input id={id} name="push-note" value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />
          )}
        </Field>
        {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
        {done && (
          <div className="notice notice--success" role="status">
            {t('order.pushed')}
          </div>
        )}
        <div className="modal__footer">
          <button type="button" className="button" onClick={onClose}>
            {t('common.close')}
          </button>
          <button type="submit" className="button button--primary" disabled={busy || !chosen || picked.size === 0}>
            {t('order.pushSubmit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
