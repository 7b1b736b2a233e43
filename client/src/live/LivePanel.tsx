/**
 * The registry's live view of one point: the sub stream in the panel, the
 * main stream in full screen, a snapshot button and, for domes the user may
 * steer, the PTZ overlay. Keyed by the camera id in the parent: another
 * point starts from a clean panel.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { useSession } from '../session.tsx';
import { LivePlayer } from './LivePlayer.tsx';
import { PtzOverlay } from './PtzOverlay.tsx';
import { PtzPad } from './PtzPad.tsx';

export interface LiveTarget {
  id: number;
  name: string;
  ptz: boolean;
}

function snapshotFileName(name: string, at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`;
  // Keep the point's name (Chinese is fine in a download name) but nothing a file system refuses.
  return `${name.replace(/[\\/:*?"<>|\s]+/g, '_')}-${stamp}.jpg`;
}

export function LivePanel({ camera, onClose }: { camera: LiveTarget; onClose: () => void }) {
  const { t } = useI18n();
  const { can } = useSession();
  const stageRef = useRef<HTMLDivElement>(null);
  /** 'native': the Fullscreen API; 'css': a fixed overlay where the API is refused (kiosk policies). */
  const [fullscreen, setFullscreen] = useState<'native' | 'css' | null>(null);
  const [snapshot, setSnapshot] = useState<{ busy: boolean; message: string | null; error: boolean }>({
    busy: false,
    message: null,
    error: false,
  });

  useEffect(() => {
    const onChange = () => {
      const element = document.fullscreenElement;
      setFullscreen((prev) =>
        element !== null && element === stageRef.current ? 'native' : prev === 'native' ? null : prev,
      );
    };
    document.addEventListener('fullscreenchange', onChange);
    return () => document.removeEventListener('fullscreenchange', onChange);
  }, []);

  useEffect(() => {
    if (fullscreen !== 'css') return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setFullscreen(null);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [fullscreen]);

  // Leaving the panel (another point, close) must not leave the page in full screen.
  useEffect(
    () => () => {
      if (document.fullscreenElement && document.fullscreenElement === stageRef.current) {
        document.exitFullscreen().catch(() => undefined);
      }
    },
    [],
  );

  const toggleFullscreen = useCallback(() => {
    const stage = stageRef.current;
    if (!stage) return;
    if (fullscreen === 'native') {
      document.exitFullscreen().catch(() => setFullscreen(null));
    } else if (fullscreen === 'css') {
      setFullscreen(null);
    } else if (document.fullscreenEnabled) {
      stage.requestFullscreen().catch(() => setFullscreen('css'));
    } else {
      setFullscreen('css');
    }
  }, [fullscreen]);

  const takeSnapshot = useCallback(async () => {
    setSnapshot({ busy: true, message: null, error: false });
    try {
      const blob = await api.snapshot(camera.id);
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = snapshotFileName(camera.name, new Date());
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setSnapshot({ busy: false, message: t('live.snapshotSaved'), error: false });
    } catch (err) {
      setSnapshot({ busy: false, message: t('live.snapshotFailed', { message: describeError(err, t) }), error: true });
    }
  }, [camera.id, camera.name, t]);

  const quality = fullscreen ? 'main' : 'sub';
  const steerable = camera.ptz && can('camera.control');

  return (
    <section className="live-panel" aria-label={t('live.panelTitle', { name: camera.name })}>
      <header className="live-panel__header">
        <span className="live-panel__name" title={camera.name}>
          {camera.name}
        </span>
        <span className="live-panel__quality">{quality === 'main' ? t('live.main') : t('live.sub')}</span>
        <button
          type="button"
          className="icon-button"
          aria-label={t('live.close')}
          title={t('live.close')}
          onClick={onClose}
        >
          ×
        </button>
      </header>
      <div ref={stageRef} className={`live-panel__stage ${fullscreen === 'css' ? 'live-panel__stage--css-full' : ''}`}>
        {/* The registry's panel stays on HLS (issue 15 leaves its ticket renewal as it is); the wall is low latency. */}
        <LivePlayer cameraId={camera.id} quality={quality} lowLatency={false}>
          {steerable && <PtzOverlay cameraId={camera.id} />}
        </LivePlayer>
        <div className="live-panel__tools">
          {fullscreen && <span className="live-panel__stage-name">{camera.name}</span>}
          <button
            type="button"
            className="button button--small live-panel__tool"
            disabled={snapshot.busy}
            onClick={() => void takeSnapshot()}
          >
            {snapshot.busy ? t('live.snapshotBusy') : t('live.snapshot')}
          </button>
          <button type="button" className="button button--small live-panel__tool" onClick={toggleFullscreen}>
            {fullscreen ? t('live.exitFullscreen') : t('live.fullscreen')}
          </button>
        </div>
      </div>
      {snapshot.message && (
        <div className={`live-panel__note ${snapshot.error ? 'live-panel__note--error' : ''}`} role="status">
          {snapshot.message}
        </div>
      )}
      {steerable && <PtzPad cameraId={camera.id} />}
    </section>
  );
}
