/**
 * 云台控制盘 (issue 17): what an operator expects next to a dome's picture —
 * eight directions at a chosen speed, zoom, focus and iris, presets (go to,
 * store where the dome looks now, delete) and a preset patrol (巡航) that goes
 * from preset to preset with a dwell. Commands go through the same sender as
 * the drag on the picture (one at a time, newest wins, a stop never overtaken);
 * every held button ends with a stop, also when the pointer leaves it, the
 * window loses focus or the pad closes. The server rate-limits and audits each.
 */
import { useCallback, useEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import type { PtzCommand, PtzPresetView } from '@api/contract.ts';
import { api, ApiError, isAbort } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { PtzSender } from './ptzSender.ts';
import { ptzApi } from './ptzApi.ts';
import './ptzPad.css';

/** A held move is re-sent this often with a 2 s timeout: a lost stop ends on the camera. */
const KEEP_ALIVE_MS = 1_000;
const MOVE_TIMEOUT_SEC = 2;

/** The eight directions as (pan, tilt) unit steps, in the pad's reading order. */
export const DIRECTIONS = [
  ['up-left', -1, 1],
  ['up', 0, 1],
  ['up-right', 1, 1],
  ['left', -1, 0],
  ['right', 1, 0],
  ['down-left', -1, -1],
  ['down', 0, -1],
  ['down-right', 1, -1],
] as const;
type Direction = (typeof DIRECTIONS)[number][0];

const ARROWS: Record<Direction, string> = {
  'up-left': '↖',
  up: '↑',
  'up-right': '↗',
  left: '←',
  right: '→',
  'down-left': '↙',
  down: '↓',
  'down-right': '↘',
};

/** Speed 1–10 as the ONVIF velocity (0.1–1); diagonals keep the same speed along the diagonal. */
export function padVelocity(pan: number, tilt: number, speed: number): { pan: number; tilt: number } {
  const v = Math.max(1, Math.min(10, speed)) / 10;
  const scale = pan !== 0 && tilt !== 0 ? Math.SQRT1_2 : 1;
  const r = (n: number) => Math.round(n * v * scale * 100) / 100;
  return { pan: r(pan), tilt: r(tilt) };
}

type Held = { kind: 'move'; command: PtzCommand } | { kind: 'focus' } | null;

export function PtzPad({ cameraId }: { cameraId: number }) {
  const { t } = useI18n();
  const tRef = useRef(t);
  useEffect(() => {
    tRef.current = t;
  });
  const senderRef = useRef<PtzSender | null>(null);
  const heldRef = useRef<Held>(null);
  const keepAliveRef = useRef<number | undefined>(undefined);
  const patrolRef = useRef<{ timer: number | undefined; index: number } | null>(null);
  const [speed, setSpeed] = useState(5);
  const [presets, setPresets] = useState<PtzPresetView[] | null>(null);
  const [presetName, setPresetName] = useState('');
  const [dwell, setDwell] = useState(10);
  const [patrolAt, setPatrolAt] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [gen, setGen] = useState(0);

  const say = useCallback((err: unknown) => {
    const t = tRef.current;
    setMessage(
      err instanceof ApiError && err.status === 409
        ? t('ptz.notPtz')
        : err instanceof ApiError && err.status === 502
          ? t('ptz.deviceFailed')
          : describeError(err, t),
    );
  }, []);

  useEffect(() => {
    const sender = new PtzSender((command) => api.ptz(cameraId, command), say);
    senderRef.current = sender;
    return () => {
      window.clearInterval(keepAliveRef.current);
      keepAliveRef.current = undefined;
      if (patrolRef.current) window.clearTimeout(patrolRef.current.timer);
      patrolRef.current = null;
      const held = heldRef.current;
      heldRef.current = null;
      if (held?.kind === 'focus') void api.ptz(cameraId, { action: 'focus', speed: 0 }).catch(() => undefined);
      sender.close(held?.kind === 'move');
      senderRef.current = null;
    };
  }, [cameraId, say]);

  useEffect(() => {
    const controller = new AbortController();
    api.ptzPresets(cameraId, controller.signal).then(setPresets, (err: unknown) => {
      if (!isAbort(err)) setPresets([]);
    });
    return () => controller.abort();
  }, [cameraId, gen]);

  const stopPatrol = useCallback(() => {
    if (patrolRef.current) window.clearTimeout(patrolRef.current.timer);
    patrolRef.current = null;
    setPatrolAt(null);
  }, []);

  /** Starts a held gesture (a move with keep-alive, or focus) or, with null, ends the one held. */
  const hold = useCallback(
    (next: Held) => {
      const sender = senderRef.current;
      if (!sender) return;
      const held = heldRef.current;
      if (held?.kind === 'move' && next === null) sender.push({ action: 'stop' });
      if (held?.kind === 'focus' && next === null) sender.push({ action: 'focus', speed: 0 });
      window.clearInterval(keepAliveRef.current);
      keepAliveRef.current = undefined;
      heldRef.current = next;
      if (next === null) return;
      stopPatrol();
      if (next.kind === 'move') {
        sender.push(next.command);
        keepAliveRef.current = window.setInterval(() => {
          const h = heldRef.current;
          if (h?.kind === 'move') senderRef.current?.push(h.command);
        }, KEEP_ALIVE_MS);
      }
    },
    [stopPatrol],
  );

  // Alt-Tab mid-press: no pointerup will come.
  useEffect(() => {
    const onBlur = () => hold(null);
    window.addEventListener('blur', onBlur);
    return () => window.removeEventListener('blur', onBlur);
  }, [hold]);

  const holdHandlers = (start: () => void) => ({
    onPointerDown: (e: ReactPointerEvent<HTMLButtonElement>) => {
      if (e.button !== 0) return;
      e.preventDefault();
      start();
    },
    onPointerUp: () => hold(null),
    onPointerLeave: () => hold(null),
    onPointerCancel: () => hold(null),
    onKeyDown: (e: React.KeyboardEvent<HTMLButtonElement>) => {
      if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) start();
    },
    onKeyUp: (e: React.KeyboardEvent<HTMLButtonElement>) => {
      if (e.key === ' ' || e.key === 'Enter') hold(null);
    },
    onBlur: () => hold(null),
  });

  const moveTo = (pan: number, tilt: number, zoom = 0) => {
    const v = padVelocity(pan, tilt, speed);
    hold({
      kind: 'move',
      command: { action: 'move', pan: v.pan, tilt: v.tilt, zoom: zoom * (speed / 10), timeoutSec: MOVE_TIMEOUT_SEC },
    });
  };
  const focus = (direction: 1 | -1) => {
    hold({ kind: 'focus' });
    senderRef.current?.push({ action: 'focus', speed: (direction * speed) / 10 });
  };

  const goto = (token: string) => senderRef.current?.push({ action: 'goto', preset: token });

  const savePreset = () => {
    const name = presetName.trim();
    if (!name) return;
    setMessage(null);
    ptzApi.setPreset(cameraId, name).then(
      () => {
        setPresetName('');
        setGen((n) => n + 1);
      },
      (err: unknown) => say(err),
    );
  };

  const removePreset = (p: PtzPresetView) => {
    if (!window.confirm(t('ptz.confirmRemove', { name: p.name || p.token }))) return;
    setMessage(null);
    ptzApi.removePreset(cameraId, p.token).then(
      () => setGen((n) => n + 1),
      (err: unknown) => say(err),
    );
  };

  /** 巡航: every preset in order, `dwell` seconds each, round and round until stopped. */
  const startPatrol = () => {
    const list = presets ?? [];
    if (list.length === 0) return;
    stopPatrol();
    const state = { timer: undefined as number | undefined, index: 0 };
    patrolRef.current = state;
    const step = () => {
      if (patrolRef.current !== state) return;
      const p = list[state.index % list.length]!;
      state.index++;
      setPatrolAt(p.token);
      goto(p.token);
      state.timer = window.setTimeout(step, Math.max(2, dwell) * 1000);
    };
    step();
  };

  return (
    <section
      className="ptz-pad"
      aria-label={t('ptz.padTitle')}
      data-ptz-pad={cameraId}
      data-patrol={patrolAt ? 'running' : 'stopped'}
      data-patrol-at={patrolAt ?? undefined}
    >
      <div className="ptz-pad__row">
        <div className="ptz-pad__dirs" role="group" aria-label={t('ptz.directions')}>
          {DIRECTIONS.slice(0, 4).map(([dir, pan, tilt]) => (
            <button
              key={dir}
              type="button"
              className="ptz-pad__dir"
              data-dir={dir}
              aria-label={t(`ptz.dir.${dir}`)}
              title={t(`ptz.dir.${dir}`)}
              {...holdHandlers(() => moveTo(pan, tilt))}
            >
              {ARROWS[dir]}
            </button>
          ))}
          <button
            type="button"
            className="ptz-pad__dir ptz-pad__stop"
            data-action="stop"
            aria-label={t('ptz.stop')}
            title={t('ptz.stop')}
            onClick={() => {
              stopPatrol();
              hold(null);
              senderRef.current?.push({ action: 'stop' });
            }}
          >
            ■
          </button>
          {DIRECTIONS.slice(4).map(([dir, pan, tilt]) => (
            <button
              key={dir}
              type="button"
              className="ptz-pad__dir"
              data-dir={dir}
              aria-label={t(`ptz.dir.${dir}`)}
              title={t(`ptz.dir.${dir}`)}
              {...holdHandlers(() => moveTo(pan, tilt))}
            >
              {ARROWS[dir]}
            </button>
          ))}
        </div>
        <div className="ptz-pad__lens">
          <label className="ptz-pad__speed">
            {t('ptz.speed', { n: speed })}
            <input
              type="range"
              name="ptz-speed"
              min={1}
              max={10}
              value={speed}
              onChange={(e) => setSpeed(Number(e.target.value))}
            />
          </label>
          {(
            [
              ['zoom', () => moveTo(0, 0, 1), () => moveTo(0, 0, -1)],
              ['focus', () => focus(1), () => focus(-1)],
            ] as const
          ).map(([kind, plus, minus]) => (
            <div key={kind} className="ptz-pad__pair">
              <span>{t(`ptz.${kind}`)}</span>
              <button
                type="button"
                className="button button--small"
                data-action={`${kind}-minus`}
                {...holdHandlers(minus)}
              >
                {t(`ptz.${kind}Minus`)}
              </button>
              <button
                type="button"
                className="button button--small"
                data-action={`${kind}-plus`}
                {...holdHandlers(plus)}
              >
                {t(`ptz.${kind}Plus`)}
              </button>
            </div>
          ))}
          <div className="ptz-pad__pair">
            <span>{t('ptz.iris')}</span>
            <button
              type="button"
              className="button button--small"
              data-action="iris-close"
              onClick={() => senderRef.current?.push({ action: 'iris', step: -1 })}
            >
              {t('ptz.irisClose')}
            </button>
            <button
              type="button"
              className="button button--small"
              data-action="iris-open"
              onClick={() => senderRef.current?.push({ action: 'iris', step: 1 })}
            >
              {t('ptz.irisOpen')}
            </button>
          </div>
        </div>
      </div>
      <div className="ptz-pad__presets">
        <div className="ptz-pad__preset-head">
          <span>{t('ptz.presetsTitle')}</span>
          <input
            name="ptz-preset-name"
            placeholder={t('ptz.presetName')}
            value={presetName}
            maxLength={32}
            onChange={(e) => setPresetName(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') savePreset();
            }}
          />
          <button
            type="button"
            className="button button--small"
            data-action="save-preset"
            disabled={!presetName.trim()}
            onClick={savePreset}
          >
            {t('ptz.savePreset')}
          </button>
        </div>
        <ul className="ptz-pad__preset-list">
          {presets === null && <li className="muted">{t('common.loading')}</li>}
          {presets?.length === 0 && <li className="muted">{t('ptz.noPresets')}</li>}
          {presets?.map((p) => (
            <li key={p.token} data-preset-token={p.token} className={patrolAt === p.token ? 'ptz-pad__preset--on' : ''}>
              <button type="button" className="link-button" data-action="goto" onClick={() => goto(p.token)}>
                {p.name || p.token}
              </button>
              <button
                type="button"
                className="icon-button"
                data-action="remove-preset"
                aria-label={t('ptz.removePreset', { name: p.name || p.token })}
                title={t('ptz.removePreset', { name: p.name || p.token })}
                onClick={() => removePreset(p)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <div className="ptz-pad__patrol">
          <span>{t('ptz.patrol')}</span>
          <label>
            {t('ptz.dwell')}
            <input
              name="ptz-dwell"
              type="number"
              min={2}
              max={600}
              value={dwell}
              onChange={(e) => setDwell(Number(e.target.value) || 10)}
            />
          </label>
          {patrolAt ? (
            <button type="button" className="button button--small" data-action="patrol-stop" onClick={stopPatrol}>
              {t('ptz.patrolStop')}
            </button>
          ) : (
            <button
              type="button"
              className="button button--small"
              data-action="patrol-start"
              disabled={!presets || presets.length < 2}
              onClick={startPatrol}
            >
              {t('ptz.patrolStart')}
            </button>
          )}
        </div>
      </div>
      {message && (
        <div className="ptz-pad__message" role="alert">
          {message}
        </div>
      )}
    </section>
  );
}
