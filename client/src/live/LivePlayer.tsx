/**
 * A live video tile: <LivePlayer cameraId quality />. Plays while it is on
 * screen, stops (and frees its relay viewer slot) when it scrolls away or
 * unmounts. The recovery logic lives in `LiveSession`; this wires it to the
 * element, the visibility and the realtime socket, and draws the overlay.
 *
 * Issue 15: a tile plays over the page's one live socket (fMP4 → MediaSource, `MseSession`, ~0.5 s behind
 * the camera) by default and falls back to HLS (`LiveSession`) by itself when that fails; `data-transport`
 * says which. A low-latency tile that leaves the screen keeps playing for a grace period, so scrolling back
 * (or a tour group coming round again) finds it warm.
 */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import type { ServerToClientEvents } from '@api/contract.ts';
import { api } from '../api.ts';
import { useI18n, type MessageKey } from '../i18n.tsx';
import { useRealtime } from '../realtime.tsx';
import { serverText } from '../serverMessages.ts';
import { IDLE_VIEW, LiveSession, type LiveReason, type Quality, type TileView } from './liveSession.ts';
import { MseSession, mseUsable } from './msePlayer.ts';
import { PTZ_LATENCY, TILE_LATENCY } from './mseState.ts';

/** A low-latency tile off screen keeps its subscription this long (a warm start when it comes back). */
export const WARM_GRACE_MS = 15_000;

async function loadHls() {
  const [{ default: Hls }, { default: workerPath }] = await Promise.all([
    import('hls.js'),
    // The ESM build has no inline worker: serve the transmuxer worker from the platform itself.
    import('hls.js/dist/hls.worker.js?url'),
  ]);
  return { Hls, workerPath };
}

const REASON_KEYS: Record<LiveReason, MessageKey> = {
  not_found: 'live.reason.not_found',
  no_stream: 'live.reason.no_stream',
  unreachable: 'live.reason.unreachable',
  busy: 'live.reason.busy',
  unavailable: 'live.reason.unavailable',
  bad_source: 'live.reason.bad_source',
  forbidden: 'live.reason.forbidden',
  session: 'live.reason.session',
  network: 'live.reason.network',
  expired: 'live.reason.expired',
  stalled: 'live.reason.stalled',
  timeout: 'live.reason.timeout',
  media: 'live.reason.media',
  unsupported: 'live.reason.unsupported',
  server: 'live.reason.server',
};

const STATE_KEYS: Record<TileView['state'], MessageKey> = {
  idle: 'live.state.idle',
  loading: 'live.state.loading',
  live: 'live.state.live',
  reconnecting: 'live.state.reconnecting',
  error: 'live.state.error',
};

export interface LivePlayerProps {
  cameraId: number;
  quality: Quality;
  className?: string;
  /** Drawn above the video and below the state overlay, e.g. PTZ controls. */
  children?: ReactNode;
  onStateChange?: (view: TileView) => void;
  /** Play over the live socket (fMP4/MSE) with HLS as fallback; default true. False: HLS only. */
  lowLatency?: boolean;
  /** 'ptz': the smallest latency target (an operator steering a dome); default 'tile'. */
  latency?: 'tile' | 'ptz';
}

export function LivePlayer({
  cameraId,
  quality,
  className,
  children,
  onStateChange,
  lowLatency = true,
  latency = 'tile',
}: LivePlayerProps) {
  const { t, lang } = useI18n();
  const { socket } = useRealtime();
  const tileRef = useRef<HTMLDivElement>(null);
  const videoRef = useRef<HTMLVideoElement>(null);
  const sessionRef = useRef<LiveSession | MseSession | null>(null);
  const [visible, setVisible] = useState(false);
  /** Playing: on screen, or a low-latency tile within its grace period after leaving it. */
  const [active, setActive] = useState(false);
  const wantMse = lowLatency && mseUsable();
  const [transport, setTransport] = useState<{ key: string; mode: 'mse' | 'hls' }>({
    key: `${cameraId}:${quality}`,
    mode: wantMse ? 'mse' : 'hls',
  });
  // Another camera or quality tries the live socket again.
  const mode =
    transport.key === `${cameraId}:${quality}` ? transport.mode : wantMse ? ('mse' as const) : ('hls' as const);
  const [view, setView] = useState<TileView>(IDLE_VIEW);
  const [stats, setStats] = useState<{ kbps: number | null } | null>(null);
  const [fps, setFps] = useState<number | null>(null);

  const onStateRef = useRef(onStateChange);
  useEffect(() => {
    onStateRef.current = onStateChange;
  });

  useEffect(() => {
    const tile = tileRef.current;
    if (!tile) return;
    const observer = new IntersectionObserver((entries) => {
      const entry = entries[entries.length - 1];
      if (entry) setVisible(entry.isIntersecting);
    });
    observer.observe(tile);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (visible) {
      setActive(true);
      return;
    }
    if (mode !== 'mse') {
      setActive(false);
      return;
    }
    const timer = window.setTimeout(() => setActive(false), WARM_GRACE_MS);
    return () => window.clearTimeout(timer);
  }, [visible, mode]);

  useEffect(() => {
    const video = videoRef.current;
    if (!active || !video) {
      setView(IDLE_VIEW);
      return;
    }
    const key = `${cameraId}:${quality}`;
    const session =
      mode === 'mse'
        ? new MseSession({
            video,
            quality,
            latency: latency === 'ptz' ? PTZ_LATENCY : TILE_LATENCY,
            requestTicket: (q, signal) => api.streamTicket(cameraId, { quality: q, wait: 'running' }, signal),
            onView: setView,
            onFallback: () => setTransport({ key, mode: 'hls' }),
            onFrameRate: setFps,
          })
        : new LiveSession({
            video,
            quality,
            requestTicket: (q, signal) => api.streamTicket(cameraId, { quality: q }, signal),
            onView: setView,
            loadHls,
            onFrameRate: setFps,
          });
    sessionRef.current = session;
    setStats(null);
    setFps(null);
    session.start();
    return () => {
      session.destroy();
      if (sessionRef.current === session) sessionRef.current = null;
    };
  }, [cameraId, quality, active, mode, latency]);

  useEffect(() => {
    if (!socket) return;
    const onState: ServerToClientEvents['stream:state'] = (event) => {
      if (event.cameraId !== cameraId || event.quality !== quality) return;
      const session = sessionRef.current;
      if (session instanceof LiveSession) session.serverState(event);
      // The bitrate is the relay's; the frame rate is measured on the picture (ffmpeg's counts wall time).
      setStats(event.state === 'live' ? { kbps: event.bitrateKbps } : null);
    };
    socket.on('stream:state', onState);
    return () => {
      socket.off('stream:state', onState);
    };
  }, [socket, cameraId, quality]);

  useEffect(() => {
    onStateRef.current?.(view);
  }, [view]);

  const retry = useCallback(() => {
    const session = sessionRef.current;
    if (session instanceof LiveSession) session.retry();
  }, []);

  const statsText = [
    stats && stats.kbps !== null ? `${Math.round(stats.kbps)} kbps` : null,
    view.state === 'live' && fps !== null ? `${fps} fps` : null,
  ]
    .filter(Boolean)
    .join(' · ');
  const reasonText = view.reason ? t(REASON_KEYS[view.reason]) : null;
  // The relay's reason in the console's language when it is one the server codes (issue 12: why a camera is
  // not live — refused, wrong password, UDP only…); its own words otherwise.
  const detailText = view.detail ? (serverText(lang, { message: view.detail }) ?? view.detail) : null;
  const detail = detailText && detailText !== reasonText ? detailText : null;

  return (
    <div
      ref={tileRef}
      className={`live-tile live-tile--${view.state} ${className ?? ''}`}
      data-state={view.state}
      data-camera-id={cameraId}
      data-quality={quality}
      data-transport={mode}
    >
      <video ref={videoRef} className="live-tile__video" muted autoPlay playsInline disablePictureInPicture />
      {children}
      {view.state === 'live' && (
        <div className="live-tile__badge">
          <span className="live-tile__dot" aria-hidden="true" />
          {t(STATE_KEYS.live)}
          {statsText && <span className="live-tile__stats">{statsText}</span>}
        </div>
      )}
      {view.state !== 'live' && (
        <div className="live-tile__overlay" role={view.state === 'error' ? 'alert' : 'status'}>
          {(view.state === 'loading' || view.state === 'reconnecting') && (
            <span className="live-tile__spinner" aria-hidden="true" />
          )}
          <span className="live-tile__title">{t(STATE_KEYS[view.state])}</span>
          {reasonText && <span className="live-tile__reason">{reasonText}</span>}
          {detail && <span className="live-tile__detail">{detail}</span>}
          {view.state === 'error' && view.permanent && (
            <button type="button" className="button button--small" onClick={retry}>
              {t('common.retry')}
            </button>
          )}
        </div>
      )}
    </div>
  );
}
