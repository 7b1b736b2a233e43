/**
 * One work order: facts, linked cameras (live on demand), the timeline of its
 * steps with notes and evidence, and the steps the caller's unit may take now
 * (exactly the server's `actions`). Refetched whenever the order changes live.
 */
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import type { CameraPointView, OrderAction, OrgUnitView } from '@api/contract.ts';
import { LevelBadge } from '../alerts/AlertBits.tsx';
import { api, ApiError, isAbort } from '../api.ts';
import { Field } from '../components/Field.tsx';
import { fieldMessage } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { LivePanel, type LiveTarget } from '../live/LivePanel.tsx';
import { useRealtime } from '../realtime.tsx';
import { navigate, navigateToAlert } from '../router.ts';
import { OrderPlaceMap } from './OrderPlace.tsx';
import { useSession } from '../session.tsx';
import { Countdown, OrderStateBadge, unitsBetween, useNow, useOrgUnits } from './orderBits.tsx';
import {
  attachmentUrl,
  ordersApi,
  STEP_ACTIONS,
  type OrderDetail,
  type StepAction,
  type StepBody,
} from './ordersApi.ts';
import { PushToWallDialog } from './PushToWallDialog.tsx';
import { describeOrderError } from './orderErrors.ts';

const MAX_UPLOAD_BYTES = 4 * 1024 * 1024;

/** Closing at an intermediate level approves the feedback and passes it up (审核通过). */
const labelOf = (a: StepAction, o: OrderDetail): OrderAction => (a === 'close' && o.chain.length > 2 ? 'approve' : a);

const isStep = (a: OrderAction): a is StepAction => (STEP_ACTIONS as readonly string[]).includes(a);

export function OrderDetailPage({ orderId }: { orderId: number }) {
  const { t, formatTime } = useI18n();
  const { can } = useSession();
  const { socket } = useRealtime();
  const { byId: units } = useOrgUnits();
  const now = useNow();
  const [order, setOrder] = useState<OrderDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [token, setToken] = useState(0);
  const [cameras, setCameras] = useState<ReadonlyMap<number, CameraPointView>>(new Map());
  const [live, setLive] = useState<LiveTarget | null>(null);
  const [action, setAction] = useState<StepAction | null>(null);
  const [pushing, setPushing] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    ordersApi.get(orderId, controller.signal).then(
      (o) => {
        setOrder(o);
        setError(null);
      },
      (err: unknown) => {
        if (!isAbort(err)) setError(err);
      },
    );
    return () => controller.abort();
  }, [orderId, token]);

  useEffect(() => {
    if (!socket) return;
    const onOrder = (o: { id: number; version: number }) => {
      if (o.id === orderId) setToken((n) => n + 1);
    };
    socket.on('order:updated', onOrder);
    return () => {
      socket.off('order:updated', onOrder);
    };
  }, [socket, orderId]);

  const cameraKey = order?.cameraIds.join(',') ?? '';
  useEffect(() => {
    const ids = cameraKey ? cameraKey.split(',').map(Number) : [];
    if (ids.length === 0) return;
    const controller = new AbortController();
    void Promise.all(
      ids.map((id) =>
        api.camera(id, controller.signal).then(
          (c) => c,
          () => null,
        ),
      ),
    ).then((list) => {
      if (controller.signal.aborted) return;
      setCameras(new Map(list.filter((c): c is CameraPointView => c !== null).map((c) => [c.id, c])));
    });
    return () => controller.abort();
  }, [cameraKey]);

  const reload = useCallback(() => setToken((n) => n + 1), []);

  if (error !== null && order === null) {
    return (
      <div className="order-detail">
        <BackLink />
        <div className="notice notice--error">{describeOrderError(error, t)}</div>
      </div>
    );
  }
  if (order === null || order.id !== orderId) return <div className="order-detail muted">{t('common.loading')}</div>;

  const steps = can('order.handle') ? order.actions.filter(isStep) : [];
  // Units outside the caller's jurisdiction are the levels above it (an order only travels down to it).
  const unitName = (id: number | null) =>
    id === null
      ? '—'
      : id === order.assigneeOrgUnitId
        ? order.assigneeOrgName
        : (units.get(id)?.name ?? t('order.upperLevel'));
  const cameraName = (id: number) => cameras.get(id)?.name ?? t('order.cameraN', { id });

  return (
    <div className="order-detail" data-order-id={order.id} data-state={order.state}>
      <div className="toolbar">
        <BackLink />
        <h1 className="page-title order-detail__title">
          <span className="mono">#{order.id}</span> {order.title}
        </h1>
        <LevelBadge level={order.level} />
        <OrderStateBadge state={order.state} />
        <Countdown order={order} now={now} />
        <span className="toolbar__spacer" />
        {can('wall.dispatch') && order.cameraIds.length > 0 && (
          <button type="button" className="button" data-action="push-wall" onClick={() => setPushing(true)}>
            {t('order.pushWall')}
          </button>
        )}
      </div>
      <div className="order-detail__body">
        <section className="panel order-detail__facts">
          <dl className="facts">
            <dt>{t('order.colPlace')}</dt>
            <dd data-field="place">
              {order.place ? order.place.units.map((u) => u.name).join(' · ') : unitName(order.placeOrgUnitId)}
            </dd>
            {order.place?.address && (
              <>
                <dt>{t('order.address')}</dt>
                <dd data-field="address">{order.place.address}</dd>
              </>
            )}
            <dt>{t('order.colHolder')}</dt>
            <dd data-field="holder">{order.assigneeOrgName}</dd>
            <dt>{t('order.assigner')}</dt>
            <dd>{unitName(order.assignerOrgUnitId)}</dd>
            <dt>{t('order.chain')}</dt>
            <dd>{order.chain.map(unitName).join(' → ')}</dd>
            <dt>{t('order.signDeadline')}</dt>
            <dd className="mono">{order.signDeadline ? formatTime(order.signDeadline) : '—'}</dd>
            <dt>{t('order.handleDeadline')}</dt>
            <dd className="mono">{order.handleDeadline ? formatTime(order.handleDeadline) : '—'}</dd>
            <dt>{t('order.createdBy')}</dt>
            <dd>
              {order.createdBy.displayName} · <span className="mono">{formatTime(order.createdAt)}</span>
            </dd>
            {order.alertId !== null && (
              <>
                <dt>{t('order.fromAlert')}</dt>
                <dd>
                  <a
                    href={`/alerts/${order.alertId}`}
                    className="order-detail__alert"
                    data-field="alert"
                    onClick={(e) => {
                      e.preventDefault();
                      navigateToAlert(order.alertId);
                    }}
                  >
                    {t('order.alertLink', { id: order.alertId })}
                  </a>
                </dd>
              </>
            )}

            {order.superviseCount > 0 && (
              <>
                <dt>{t('order.supervised')}</dt>
                <dd>{t('order.supervisedTimes', { count: order.superviseCount })}</dd>
              </>
            )}
            {order.escalations > 0 && (
              <>
                <dt>{t('order.escalations')}</dt>
                <dd>{order.escalations}</dd>
              </>
            )}
            {order.closedAt && (
              <>
                <dt>{t('order.closedAt')}</dt>
                <dd className="mono">
                  {formatTime(order.closedAt)}{' '}
                  {order.closedOnTime !== null && (
                    <span className={`badge ${order.closedOnTime ? 'badge--online' : 'badge--offline'}`}>
                      {order.closedOnTime ? t('order.onTime') : t('order.late')}
                    </span>
                  )}
                </dd>
              </>
            )}
          </dl>
          {order.description && <p className="order-detail__description">{order.description}</p>}
          {order.position && <OrderPlaceMap position={order.position} />}

          <h3>{t('order.cameras')}</h3>
          {order.cameraIds.length === 0 ? (
            <p className="muted">{t('order.noCameras')}</p>
          ) : (
            <ul className="order-cameras">
              {order.cameraIds.map((id) => (
                <li key={id} data-camera-id={id}>
                  <span>{cameraName(id)}</span>
                  <button
                    type="button"
                    className="button button--small"
                    data-action="open-live"
                    onClick={() => setLive({ id, name: cameraName(id), ptz: cameras.get(id)?.ptz ?? false })}
                  >
                    {t('order.openLive')}
                  </button>
                </li>
              ))}
            </ul>
          )}
          {live && <LivePanel key={live.id} camera={live} onClose={() => setLive(null)} />}
        </section>

        <section className="panel order-detail__side">
          {steps.length > 0 && (
            <div className="order-actions">
              <h3>{t('order.actions')}</h3>
              <div className="order-actions__buttons">
                {steps.map((a) => (
                  <button
                    key={a}
                    type="button"
                    data-action={a}
                    className={`button ${action === a ? 'button--primary' : ''}`}
                    onClick={() => setAction(action === a ? null : a)}
                  >
                    {t(`order.action.${labelOf(a, order)}`)}
                  </button>
                ))}
              </div>
              {action && steps.includes(action) && (
                <StepForm
                  key={action}
                  order={order}
                  action={action}
                  cameraName={cameraName}
                  units={units}
                  onDone={() => {
                    setAction(null);
                    reload();
                  }}
                />
              )}
            </div>
          )}
          <h3>{t('order.timeline')}</h3>
          <ol className="order-timeline">
            {order.history.map((h) => (
              <li
                key={h.id}
                className={`order-timeline__item order-timeline__item--${h.action}`}
                data-action={h.action}
              >
                <div className="order-timeline__head">
                  <strong>{t(`order.action.${h.action}`)}</strong>
                  <span>{h.actor.displayName}</span>
                  {h.actor.orgUnitId !== null && (
                    <span className="muted">{h.actor.orgName ?? unitName(h.actor.orgUnitId)}</span>
                  )}
                  <span className="mono muted">{formatTime(h.at)}</span>
                </div>
                {h.assigneeOrgUnitId !== null &&
                  (h.action === 'assign' || h.action === 'reassign' || h.action === 'escalate') && (
                    <div className="muted">→ {unitName(h.assigneeOrgUnitId)}</div>
                  )}
                {h.note && <p className="order-timeline__note">{h.note}</p>}
                {h.attachments.length > 0 && (
                  <div className="order-timeline__attachments">
                    {h.attachments.map((a) => (
                      <a key={a.id} href={attachmentUrl(a)} target="_blank" rel="noreferrer" data-attachment-id={a.id}>
                        <img
                          src={attachmentUrl(a)}
                          alt={
                            a.kind === 'snapshot'
                              ? t('order.snapshotOf', { name: a.cameraId ? cameraName(a.cameraId) : '' })
                              : t('order.image')
                          }
                          loading="lazy"
                        />
                      </a>
                    ))}
                  </div>
                )}
              </li>
            ))}
          </ol>
        </section>
      </div>
      {pushing && <PushToWallDialog order={order} cameraName={cameraName} onClose={() => setPushing(false)} />}
    </div>
  );
}

function BackLink() {
  const { t } = useI18n();
  return (
    <a
      href="/orders"
      className="link-button order-detail__back"
      onClick={(e) => {
        e.preventDefault();
        navigate('orders');
      }}
    >
      ← {t('order.back')}
    </a>
  );
}

function StepForm({
  order,
  action,
  cameraName,
  units,
  onDone,
}: {
  order: OrderDetail;
  action: StepAction;
  cameraName: (id: number) => string;
  /** The page's units (one fetch for the page; a form opened later finds them loaded). */
  units: ReadonlyMap<number, OrgUnitView>;
  onDone: () => void;
}) {
  const { t } = useI18n();
  const [note, setNote] = useState('');
  const [target, setTarget] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [snapshotCamera, setSnapshotCamera] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [localError, setLocalError] = useState<string | null>(null);

  const needsTarget = action === 'assign' || action === 'reassign';
  const needsNote = action === 'feedback' || action === 'return';
  const evidence = action === 'feedback' || action === 'close' || action === 'return' || action === 'sign';
  const targets = useMemo(
    () => (needsTarget ? unitsBetween(order.assigneeOrgUnitId, order.placeOrgUnitId, units) : []),
    [needsTarget, order.assigneeOrgUnitId, order.placeOrgUnitId, units],
  );

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (needsNote && !note.trim()) return setLocalError(t('order.noteRequired'));
    if (needsTarget && !target) return setLocalError(t('order.targetRequired'));
    const big = files.find((f) => f.size > MAX_UPLOAD_BYTES);
    if (big) return setLocalError(t('order.fileTooBig', { name: big.name }));
    setLocalError(null);
    setBusy(true);
    setError(null);
    try {
      const attachmentIds: number[] = [];
      for (const f of files) attachmentIds.push((await ordersApi.upload(order.id, f)).id);
      const body: StepBody = {
        version: order.version,
        ...(note.trim() ? { note: note.trim() } : {}),
        ...(needsTarget ? { targetOrgUnitId: Number(target) } : {}),
        ...(attachmentIds.length > 0 ? { attachmentIds } : {}),
        ...(action === 'feedback' && snapshotCamera ? { snapshotCameraId: Number(snapshotCamera) } : {}),
      };
      await ordersApi.step(order.id, action, body);
      setBusy(false);
      onDone();
    } catch (err) {
      setBusy(false);
      setError(err);
    }
  };

  const fieldError =
    error instanceof ApiError
      ? (path: string) => {
          const f = error.fields.find((x) => x.path === path);
          return f ? fieldMessage(f, t) : undefined;
        }
      : () => undefined;

  return (
    <form className="order-step" data-step={action} onSubmit={(e) => void submit(e)} noValidate>
      {needsTarget && (
        <Field label={t('order.target')} error={fieldError('targetOrgUnitId')}>
          {(id) => (
            <select id={id} name="order-target" value={target} onChange={(e) => setTarget(e.target.value)}>
              <option value="">{t('common.choose')}</option>
              {targets.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <Field label={needsNote ? t('order.noteRequiredLabel') : t('order.note')} error={fieldError('note')}>
        {(id) => (
          <textarea
            id={id}
            name="order-note"
            rows={3}
            maxLength={2000}
            value={note}
            onChange={(e) => setNote(e.target.value)}
          />
        )}
      </Field>
      {evidence && (
        <Field label={t('order.images')} hint={t('order.imagesHint')}>
          {(id) => (
            <input
              id={id}
              name="order-images"
              type="file"
              accept="image/jpeg,image/png"
              multiple
              onChange={(e) => setFiles(Array.from(e.target.files ?? []))}
            />
          )}
        </Field>
      )}
      {action === 'feedback' && order.cameraIds.length > 0 && (
        <Field label={t('order.snapshotFrom')}>
          {(id) => (
            <select
              id={id}
              name="order-snapshot-camera"
              value={snapshotCamera}
              onChange={(e) => setSnapshotCamera(e.target.value)}
            >
              <option value="">{t('order.noSnapshot')}</option>
              {order.cameraIds.map((c) => (
                <option key={c} value={c}>
                  {cameraName(c)}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      {localError && <div className="field__error">{localError}</div>}
      {error !== null && <div className="notice notice--error">{describeOrderError(error, t)}</div>}
      <button type="submit" className="button button--primary" data-submit={action} disabled={busy}>
        {busy
          ? t('order.submitting')
          : t('order.submitAction', { action: t(`order.action.${labelOf(action, order)}`) })}
      </button>
    </form>
  );
}
