/**
 * 云台 control drawn over a live tile: drag on the picture to turn the dome
 * (speed follows the drag vector), hold + / − to zoom, pick a preset to go
 * there. Every gesture ends with a stop, also when the pointer leaves the tile.
 */
import {
  useCallback,
  useEffect,
  useRef,
  useState,
  type KeyboardEvent as ReactKeyboardEvent,
  type PointerEvent as ReactPointerEvent,
} from 'react';
import type { PtzCommand, PtzPresetView } from '@api/contract.ts';
import { api, ApiError, isAbort } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { PtzSender, dragVelocity } from './ptzSender.ts';

/** A held gesture re-sends its velocity this often: the move times out on the camera if the stop is lost. */
const KEEP_ALIVE_MS = 1_000;
const MOVE_TIMEOUT_SEC = 2;
const ZOOM_SPEED = 0.5;

interface Drag {
  pointerId: number;
  x0: number;
  y0: number;
  x: number;
  y: number;
}

export function PtzOverlay({ cameraId }: { cameraId: number }) {
  const { t } = useI18n();
  const tRef = useRef(t);
  useEffect(() => {
    tRef.current = t;
  });
  const senderRef = useRef<PtzSender | null>(null);
  const velocityRef = useRef<PtzCommand | null>(null);
  const keepAliveRef = useRef<number | undefined>(undefined);
  const [drag, setDrag] = useState<Drag | null>(null);
  const [presets, setPresets] = useState<PtzPresetView[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    let messageTimer: number | undefined;
    const sender = new PtzSender(
      (command) => api.ptz(cameraId, command),
      (err) => {
        const t = tRef.current;
        const text =
          err instanceof ApiError && err.status === 409
            ? t('ptz.notPtz')
            : err instanceof ApiError && err.status === 502
              ? t('ptz.deviceFailed')
              : describeError(err, t);
        setMessage(text);
        window.clearTimeout(messageTimer);
        messageTimer = window.setTimeout(() => setMessage(null), 5_000);
      },
    );
    senderRef.current = sender;
    return () => {
      window.clearTimeout(messageTimer);
      window.clearInterval(keepAliveRef.current);
      keepAliveRef.current = undefined;
      sender.close(velocityRef.current !== null);
      velocityRef.current = null;
      senderRef.current = null;
    };
  }, [cameraId]);

  useEffect(() => {
    const controller = new AbortController();
    setPresets(null);
    api.ptzPresets(cameraId, controller.signal).then(setPresets, (err: unknown) => {
      if (!isAbort(err)) setPresets([]);
    });
    return () => controller.abort();
  }, [cameraId]);

  /** Starts, changes or (with null) ends a continuous move. Reads refs only, so it is stable. */
  const move = useCallback((command: PtzCommand | null) => {
    const sender = senderRef.current;
    if (!sender) return;
    const previous = velocityRef.current;
    if (command === null) {
      window.clearInterval(keepAliveRef.current);
      keepAliveRef.current = undefined;
      velocityRef.current = null;
      if (previous !== null) sender.push({ action: 'stop' });
      return;
    }
    if (previous !== null && JSON.stringify(previous) === JSON.stringify(command)) return;
    velocityRef.current = command;
    sender.push(command);
    if (keepAliveRef.current === undefined) {
      keepAliveRef.current = window.setInterval(() => {
        if (velocityRef.current) senderRef.current?.push(velocityRef.current);
      }, KEEP_ALIVE_MS);
    }
  }, []);

  // Alt-Tab or a dialog mid-gesture: no pointerup will ever come, so the window losing focus ends it.
  const dragging = drag !== null;
  useEffect(() => {
    if (!dragging) return;
    const onBlur = () => {
      setDrag(null);
      move(null);
    };
    window.addEventListener('blur', onBlur);
    return () => window.removeEventListener('blur', onBlur);
  }, [dragging, move]);

  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>) => {
    if (e.button !== 0 || e.target !== e.currentTarget) return;
    e.preventDefault();
    const rect = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    setDrag({ pointerId: e.pointerId, x0: x, y0: y, x, y });
  };

  const onPointerMove = (e: ReactPointerEvent<HTMLDivElement>) => {
    if (!drag || e.pointerId !== drag.pointerId) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    setDrag({ ...drag, x, y });
    const { pan, tilt } = dragVelocity(x - drag.x0, y - drag.y0, rect.width, rect.height);
    move(pan === 0 && tilt === 0 ? null : { action: 'move', pan, tilt, zoom: 0, timeoutSec: MOVE_TIMEOUT_SEC });
  };

  const endDrag = () => {
    if (!drag) return;
    setDrag(null);
    move(null);
  };

  const zoomHandlers = (direction: 1 | -1) => {
    const start = () =>
      move({ action: 'move', pan: 0, tilt: 0, zoom: direction * ZOOM_SPEED, timeoutSec: MOVE_TIMEOUT_SEC });
    const stop = () => move(null);
    return {
      onPointerDown: (e: ReactPointerEvent<HTMLButtonElement>) => {
        if (e.button === 0) start();
      },
      onPointerUp: stop,
      onPointerLeave: stop,
      onPointerCancel: stop,
      // Held Space or Enter zooms too.
      onKeyDown: (e: ReactKeyboardEvent<HTMLButtonElement>) => {
        if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) start();
      },
      onKeyUp: (e: ReactKeyboardEvent<HTMLButtonElement>) => {
        if (e.key === ' ' || e.key === 'Enter') stop();
      },
      onBlur: stop,
    };
  };

  return (
    <div
      className={`ptz ${drag ? 'ptz--dragging' : ''}`}
      data-ptz-camera={cameraId}
      title={t('ptz.dragHint')}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={endDrag}
      onPointerCancel={endDrag}
      onPointerLeave={endDrag}
      onContextMenu={(e) => e.preventDefault()}
    >
      {drag && (
        <svg className="ptz__vector" aria-hidden="true">
          <circle cx={drag.x0} cy={drag.y0} r={6} />
          <line x1={drag.x0} y1={drag.y0} x2={drag.x} y2={drag.y} />
          <circle cx={drag.x} cy={drag.y} r={3} />
        </svg>
      )}
      <div className="ptz__controls" onPointerDown={(e) => e.stopPropagation()}>
        <span className="ptz__label">{t('ptz.title')}</span>
        <button
          type="button"
          className="ptz__zoom"
          aria-label={t('ptz.zoomIn')}
          title={t('ptz.zoomIn')}
          {...zoomHandlers(1)}
        >
          +
        </button>
        <button
          type="button"
          className="ptz__zoom"
          aria-label={t('ptz.zoomOut')}
          title={t('ptz.zoomOut')}
          {...zoomHandlers(-1)}
        >
          −
        </button>
        <select
          className="ptz__presets"
          aria-label={t('ptz.presets')}
          value=""
          disabled={!presets || presets.length === 0}
          onChange={(e) => {
            const preset = e.target.value;
            if (preset) senderRef.current?.push({ action: 'goto', preset });
          }}
        >
          <option value="">
            {presets === null ? t('common.loading') : presets.length ? t('ptz.presets') : t('ptz.noPresets')}
          </option>
          {presets?.map((p) => (
            <option key={p.token} value={p.token}>
              {p.name || p.token}
            </option>
          ))}
        </select>
      </div>
      {message && (
        <div className="ptz__message" role="alert">
          {message}
        </div>
      )}
    </div>
  );
}
