/**
 * 录像回放 (issue 14): one point's recordings on a timeline (24 h, zoom, spans, gaps, alert markers), played
 * from any second through an HLS VOD ticket bound to this session, at ½×–8× (the player's playbackRate),
 * with a download dialog for an MP4 of a range. `/playback/:cameraId?at=<ISO>&cameras=<ids>&alert=<id>`: the
 * alert page opens its linked cameras here from 30 s before the alert.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type HlsType from 'hls.js';
import { API_BASE, request, windowSession } from '../api.ts';
import { describeError } from '../errors.ts';
import { currentLang, useI18n } from '../i18n.tsx';
import { serverText } from '../serverMessages.ts';
import { useSession } from '../session.tsx';
import { Timeline, type TimelineAlert, type TimelineSpan } from './Timeline.tsx';
import './playback.css';

interface SpansAnswer {
  spans: Array<{ start: string; end: string }>;
  gaps: Array<{ start: string; end: string }>;
  alerts: Array<{ id: number; level: string; at: string; title: string }>;
  /** The camera's own recordings (ONVIF Profile G), or why there are none to show. */
  deviceSpans?: Array<{ start: string; end: string }>;
  device?: { available: boolean; code: string | null; message: string | null } | null;
}

type Source = 'platform' | 'device';

interface PlaybackAnswer {
  playlistUrl: string | null;
  startOffsetSec: number;
  segments: Array<{ startMs: number; endMs: number; offsetSec: number }>;
  /** A replay of the camera's own recording: a live-like stream from `from`, at the device's speed. */
  source?: Source;
  speed?: number;
}

interface Clip {
  id: number;
  cameraId: number;
  start: string;
  end: string;
  status: 'pending' | 'ready' | 'failed';
  url: string | null;
}

export const SPEEDS = [0.5, 1, 2, 4, 8] as const;
const DAY = 24 * 3_600_000;
/** One ticket covers this much from the seek point (the server allows recording.maxRangeHours). */
const TICKET_SPAN = 3_600_000;

async function loadHls() {
  const [{ default: Hls }, { default: workerPath }] = await Promise.all([
    import('hls.js'),
    import('hls.js/dist/hls.worker.js?url'),
  ]);
  return { Hls, workerPath };
}

/** Wall-clock time of a player position, by the segment map the ticket came with. */
export function wallTimeAt(segments: PlaybackAnswer['segments'], t: number): number | null {
  for (const s of segments) {
    const d = (s.endMs - s.startMs) / 1000;
    if (t >= s.offsetSec && t < s.offsetSec + d + 0.05) return s.startMs + (t - s.offsetSec) * 1000;
  }
  return null;
}

/** Player position of a wall-clock time (the next recorded moment when it falls in a gap). */
export function positionOf(segments: PlaybackAnswer['segments'], ms: number): number | null {
  for (const s of segments) {
    if (ms < s.startMs) return s.offsetSec;
    if (ms < s.endMs) return s.offsetSec + (ms - s.startMs) / 1000;
  }
  return null;
}

const toLocalInput = (ms: number) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
};

/** Most points played together at one moment (the main one and three more). */
export const MAX_SYNC = 4;

/**
 * Another point played in step with the main player (同步回放): its own ticket from each moment the main one
 * seeks to, then kept at the main player's wall time (re-aligned when more than half a second apart), its
 * pause and its speed. Platform recordings only.
 */
function SyncTile(props: {
  cameraId: number;
  seekMs: number | null;
  seekN: number;
  wallMs: number | null;
  paused: boolean;
  rate: number;
}) {
  const { cameraId, seekMs, seekN, wallMs, paused, rate } = props;
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const answer = useRef<PlaybackAnswer | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [shownMs, setShownMs] = useState<number | null>(null);

  useEffect(() => {
    if (seekMs === null) return;
    let hls: HlsType | null = null;
    let gone = false;
    answer.current = null;
    const toMs = Math.min(Date.now(), seekMs + TICKET_SPAN);
    request<PlaybackAnswer>(`/recording/cameras/${cameraId}/playback`, {
      method: 'POST',
      json: { from: new Date(seekMs).toISOString(), to: new Date(toMs).toISOString() },
    })
      .then(async (a) => {
        const el = video.current;
        if (gone || !el) return;
        if (!a.playlistUrl) return setNote(t('playback.nothing'));
        setNote(null);
        const { Hls, workerPath } = await loadHls();
        if (gone) return;
        answer.current = a;
        hls = new Hls({
          ...(workerPath ? { workerPath } : {}),
          startPosition: a.startOffsetSec,
          xhrSetup: (xhr, url) => {
            xhr.open('GET', url, true);
            const session = windowSession();
            if (session) xhr.setRequestHeader('Authorization', `Bearer ${session}`);
          },
        });
        hls.loadSource(a.playlistUrl);
        hls.attachMedia(el);
        void el.play().catch(() => undefined);
      })
      .catch((err: unknown) => !gone && setNote(describeError(err, t)));
    return () => {
      gone = true;
      hls?.destroy();
    };
  }, [cameraId, seekMs, seekN, t]);

  useEffect(() => {
    const el = video.current;
    const a = answer.current;
    if (!el || !a) return;
    el.playbackRate = rate;
    if (paused && !el.paused) el.pause();
    if (!paused && el.paused) void el.play().catch(() => undefined);
    if (wallMs === null) return;
    const pos = positionOf(a.segments, wallMs);
    if (pos !== null && Math.abs(el.currentTime - pos) > 0.5) el.currentTime = pos;
  }, [wallMs, paused, rate]);

  return (
    <figure className="pb-sync-tile" data-testid="sync-tile" data-camera-id={cameraId} data-wall-ms={shownMs ?? ''}>
      <video
        ref={video}
        className="pb-video"
        data-testid="sync-video"
        muted
        playsInline
        onTimeUpdate={() => {
          const a = answer.current;
          if (a && video.current) setShownMs(wallTimeAt(a.segments, video.current.currentTime));
        }}
      />
      <figcaption>
        #{cameraId} {note && <span className="pb-error">{note}</span>}
      </figcaption>
    </figure>
  );
}

export function PlaybackPage({ cameraId }: { cameraId: number }) {
  const { t } = useI18n();
  const { can } = useSession();
  const params = new URLSearchParams(window.location.search);
  const atParam = Date.parse(params.get('at') ?? '');
  const alertId = Number(params.get('alert')) || null;
  const cameraList = (params.get('cameras') ?? '')
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  const [camera, setCamera] = useState(cameraId);
  const [range] = useState(() => {
    const now = Date.now();
    if (Number.isNaN(atParam)) return { from: now - DAY, to: now };
    const to = Math.min(now, atParam + DAY / 2);
    return { from: to - DAY, to };
  });
  const [spans, setSpans] = useState<TimelineSpan[]>([]);
  const [deviceSpans, setDeviceSpans] = useState<TimelineSpan[]>([]);
  const [deviceNote, setDeviceNote] = useState<string | undefined>(undefined);
  /** Where playback comes from: the platform's recordings, or the camera's own (chosen for the user when only one has any). */
  const [source, setSource] = useState<Source>('platform');
  const [alerts, setAlerts] = useState<TimelineAlert[]>([]);
  const [cursor, setCursor] = useState<number | null>(Number.isNaN(atParam) ? null : atParam);
  const [speed, setSpeed] = useState(1);
  /** 同步回放: the other points of `cameras` (up to MAX_SYNC in all) follow the main player's moment. */
  const [sync, setSync] = useState(false);
  const [syncSeek, setSyncSeek] = useState<{ ms: number; n: number } | null>(null);
  const [paused, setPaused] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [playing, setPlaying] = useState<PlaybackAnswer | null>(null);
  const [download, setDownload] = useState<{ from: string; to: string } | null>(null);
  const [clips, setClips] = useState<Clip[]>([]);
  const video = useRef<HTMLVideoElement>(null);
  const hlsRef = useRef<HlsType | null>(null);
  const ticket = useRef<{ fromMs: number; toMs: number; answer: PlaybackAnswer } | null>(null);
  /** One frame's duration: the smallest step between presented frames seen (25 fps until one is seen). */
  const frameSec = useRef(0.04);
  const frameSeen = useRef(false);
  useEffect(() => {
    const el = video.current;
    if (!el || !('requestVideoFrameCallback' in el)) return;
    let last = -1;
    let handle = 0;
    const onFrame: VideoFrameRequestCallback = (_now, meta) => {
      const d = meta.mediaTime - last;
      if (last >= 0 && d > 0.001 && d < 0.5 && (!frameSeen.current || d < frameSec.current)) {
        frameSec.current = d;
        frameSeen.current = true;
      }
      last = meta.mediaTime;
      handle = el.requestVideoFrameCallback(onFrame);
    };
    handle = el.requestVideoFrameCallback(onFrame);
    return () => el.cancelVideoFrameCallback(handle);
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    const q = `from=${new Date(range.from).toISOString()}&to=${new Date(range.to).toISOString()}`;
    request<SpansAnswer>(`/recording/cameras/${camera}/spans?${q}`, { signal: controller.signal }).then(
      (r) => {
        const platform = r.spans.map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }));
        const device = (r.deviceSpans ?? []).map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }));
        setSpans(platform);
        setDeviceSpans(device);
        setDeviceNote(
          r.device && !r.device.available
            ? (serverText(currentLang(), {
                message: r.device.message ?? '',
                ...(r.device.code ? { code: r.device.code } : {}),
              }) ?? undefined)
            : undefined,
        );
        setSource(platform.length === 0 && device.length > 0 ? 'device' : 'platform');
        setAlerts(r.alerts.map((a) => ({ id: a.id, at: Date.parse(a.at), level: a.level, title: a.title })));
        setError(null);
      },
      (err: unknown) => !controller.signal.aborted && setError(describeError(err, t)),
    );
    return () => controller.abort();
  }, [camera, range, t]);

  useEffect(() => {
    if (!alertId) return;
    request<Clip[]>(`/recording/alerts/${alertId}/clips`).then(setClips, () => undefined);
  }, [alertId]);

  const stopPlayer = () => {
    hlsRef.current?.destroy();
    hlsRef.current = null;
  };
  useEffect(() => stopPlayer, []);

  const seek = useCallback(
    async (ms: number) => {
      setCursor(ms);
      const current = ticket.current;
      const el = video.current;
      if (
        current &&
        el &&
        current.answer.source !== 'device' &&
        source === 'platform' &&
        ms >= current.fromMs &&
        ms < current.toMs
      ) {
        const pos = positionOf(current.answer.segments, ms);
        if (pos !== null) {
          el.currentTime = pos;
          void el.play().catch(() => undefined);
          return;
        }
      }
      // A new ticket for the main player: the points played in sync take one from the same moment.
      setSyncSeek((cur) => ({ ms, n: (cur?.n ?? 0) + 1 }));
      try {
        const toMs = Math.min(Date.now(), ms + TICKET_SPAN);
        // The camera replays at the speed asked (RTSP Scale): a new speed is a new replay from the cursor.
        const answer = await request<PlaybackAnswer>(`/recording/cameras/${camera}/playback`, {
          method: 'POST',
          json: {
            from: new Date(ms).toISOString(),
            to: new Date(toMs).toISOString(),
            ...(source === 'device' ? { source, speed } : {}),
          },
        });
        ticket.current = { fromMs: ms, toMs, answer };
        frameSeen.current = false;
        setPlaying(answer);
        stopPlayer();
        if (!answer.playlistUrl || !el) {
          setError(t('playback.nothing'));
          return;
        }
        setError(null);
        const { Hls, workerPath } = await loadHls();
        const hls = new Hls({
          ...(workerPath ? { workerPath } : {}),
          ...(answer.source === 'device' ? {} : { startPosition: answer.startOffsetSec }),
          xhrSetup: (xhr, url) => {
            xhr.open('GET', url, true);
            const session = windowSession();
            if (session) xhr.setRequestHeader('Authorization', `Bearer ${session}`);
          },
        });
        hlsRef.current = hls;
        hls.loadSource(answer.playlistUrl);
        hls.attachMedia(el);
        el.playbackRate = answer.source === 'device' ? 1 : speed;
        void el.play().catch(() => undefined);
      } catch (err) {
        setError(describeError(err, t));
      }
    },
    [camera, speed, source, t],
  );

  // A new speed of a device replay: a new replay from the cursor, with the new `seek` (it knows the speed).
  const reopen = useRef(false);
  useEffect(() => {
    if (!reopen.current || cursor === null) return;
    reopen.current = false;
    void seek(cursor);
  }, [seek, cursor]);

  // The alert page's 回放: start playing at once from `at`.
  const started = useRef(false);
  useEffect(() => {
    if (started.current || Number.isNaN(atParam)) return;
    started.current = true;
    void seek(atParam);
  }, [atParam, seek]);

  const onTime = () => {
    const el = video.current;
    const answer = ticket.current?.answer;
    if (!el || !answer) return;
    if (answer.source === 'device') {
      // A replay has no segment map: the recorded time runs at the device's speed from where it started.
      setCursor(ticket.current!.fromMs + el.currentTime * 1000 * (answer.speed ?? 1));
      return;
    }
    const ms = wallTimeAt(answer.segments, el.currentTime);
    if (ms !== null) setCursor(ms);
  };

  const exportHref = download
    ? `${API_BASE}/recording/cameras/${camera}/export.mp4?from=${new Date(download.from).toISOString()}&to=${new Date(download.to).toISOString()}`
    : '';

  return (
    <section className="pb-page" data-testid="playback">
      <header className="pb-head">
        <h2>{t('playback.title')}</h2>
        {cameraList.length > 1 && (
          <label>
            {t('playback.camera')}{' '}
            <select
              value={camera}
              onChange={(e) => {
                stopPlayer();
                ticket.current = null;
                setPlaying(null);
                setCamera(Number(e.target.value));
              }}
            >
              {cameraList.map((id) => (
                <option key={id} value={id}>
                  #{id}
                </option>
              ))}
            </select>
          </label>
        )}
        {cameraList.length > 1 && source === 'platform' && (
          <label>
            <input
              type="checkbox"
              data-testid="sync"
              checked={sync}
              onChange={(e) => {
                setSync(e.target.checked);
                if (e.target.checked && cursor !== null) setSyncSeek((cur) => ({ ms: cursor, n: (cur?.n ?? 0) + 1 }));
              }}
            />{' '}
            {t('playback.sync', { n: MAX_SYNC })}
          </label>
        )}
        {(deviceSpans.length > 0 || source === 'device') && (
          <label>
            {t('playback.source')}{' '}
            <select
              data-testid="source"
              value={source}
              onChange={(e) => {
                stopPlayer();
                ticket.current = null;
                setSource(e.target.value as Source);
              }}
            >
              <option value="platform">{t('playback.source.platform')}</option>
              <option value="device">{t('playback.source.device')}</option>
            </select>
          </label>
        )}
        <label>
          {t('playback.speed')}{' '}
          <select
            data-testid="speed"
            value={speed}
            onChange={(e) => {
              const s = Number(e.target.value);
              setSpeed(s);
              if (ticket.current?.answer.source === 'device') {
                // The camera plays faster itself: ask it again from where the picture is (effect below).
                ticket.current = null;
                reopen.current = true;
                return;
              }
              if (video.current) video.current.playbackRate = s;
            }}
          >
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s === 0.5 ? '½' : s}×
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          data-testid="frame-step"
          title={t('playback.frameStep')}
          aria-label={t('playback.frameStep')}
          disabled={!playing?.playlistUrl}
          onClick={() => {
            const el = video.current;
            if (!el) return;
            el.pause();
            el.currentTime = el.currentTime + frameSec.current;
          }}
        >
          ⏯︎ +1
        </button>
        {can('recording.export') && (
          <button
            type="button"
            onClick={() => {
              const at = cursor ?? Date.now() - 60_000;
              setDownload({ from: toLocalInput(at), to: toLocalInput(Math.min(Date.now(), at + 60_000)) });
            }}
          >
            {t('playback.download')}
          </button>
        )}
      </header>
      {error && <p className="pb-error">{error}</p>}
      <video
        ref={video}
        className="pb-video"
        data-testid="playback-video"
        muted
        playsInline
        controls
        onTimeUpdate={onTime}
        onPlay={() => setPaused(false)}
        onPause={() => setPaused(true)}
      />
      {sync && source === 'platform' && (
        <div className="pb-sync" data-testid="sync-grid">
          {cameraList
            .filter((id) => id !== camera)
            .slice(0, MAX_SYNC - 1)
            .map((id) => (
              <SyncTile
                key={id}
                cameraId={id}
                seekMs={syncSeek?.ms ?? null}
                seekN={syncSeek?.n ?? 0}
                wallMs={cursor}
                paused={paused}
                rate={speed}
              />
            ))}
        </div>
      )}
      {playing && !playing.playlistUrl && <p>{t('playback.nothing')}</p>}
      <Timeline
        from={range.from}
        to={range.to}
        spans={spans}
        deviceSpans={deviceSpans}
        deviceNote={deviceNote}
        alerts={alerts}
        cursor={cursor}
        onSeek={(ms) => void seek(ms)}
      />
      {spans.length === 0 && deviceSpans.length === 0 && <p className="pb-note">{t('playback.noRecordings')}</p>}
      {download && (
        <div className="pb-dialog" role="dialog" aria-label={t('playback.download')}>
          <label>
            {t('playback.from')}{' '}
            <input
              type="datetime-local"
              step={1}
              value={download.from}
              onChange={(e) => setDownload({ ...download, from: e.target.value })}
            />
          </label>
          <label>
            {t('playback.to')}{' '}
            <input
              type="datetime-local"
              step={1}
              value={download.to}
              onChange={(e) => setDownload({ ...download, to: e.target.value })}
            />
          </label>
          <a href={exportHref} download onClick={() => setDownload(null)}>
            {t('playback.downloadMp4')}
          </a>
          <button type="button" onClick={() => setDownload(null)}>
            {t('playback.cancel')}
          </button>
          <p className="pb-note">{t('playback.downloadNote')}</p>
        </div>
      )}
      {clips.length > 0 && (
        <div className="pb-clips">
          <h3>{t('playback.clips')}</h3>
          <ul>
            {clips.map((c) => (
              <li key={c.id}>
                #{c.cameraId} {new Date(c.start).toLocaleTimeString()} – {new Date(c.end).toLocaleTimeString()}{' '}
                {c.url ? <a href={c.url}>{t('playback.downloadMp4')}</a> : t(`playback.clip.${c.status}`)}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
