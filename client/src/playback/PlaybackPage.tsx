/**
 * 录像回放 (issue 14): one point's recordings on a timeline (24 h, zoom, spans, gaps, alert markers), played
 * from any second through an HLS VOD ticket bound to this session, at ½×–8× (the player's playbackRate),
 * with a download dialog for an MP4 of a range. `/playback/:cameraId?at=<ISO>&cameras=<ids>&alert=<id>`: the
 * alert page opens its linked cameras here from 30 s before the alert.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { API_BASE, request } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { useSession } from '../session.tsx';
import { SpeedOptions } from './SpeedOptions.tsx';
import { Timeline } from './Timeline.tsx';
import {
  DAY,
  positionFor,
  sourceAt,
  usePlaybackPlayer,
  usePointSpans,
  type PlaybackAnswer,
  type Source,
} from './usePlaybackPlayer.ts';
import './playback.css';

interface Clip {
  id: number;
  cameraId: number;
  start: string;
  end: string;
  status: 'pending' | 'ready' | 'failed';
  url: string | null;
}

const toLocalInput = (ms: number) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
};

/** Most points played together at one moment (the main one and three more). */
export const MAX_SYNC = 4;

/** A moment the main player started a ticket from, with the source and speed it asked for. */
interface SyncSeek {
  ms: number;
  n: number;
  source: Source;
  speed: number;
}

/**
 * Another point played in step with the main player (同步回放): its own ticket from each moment the main one
 * starts one, then kept at the main player's wall time (re-aligned when more than half a second apart, within
 * what its stream holds), its pause and its speed. It plays the source the main one plays when that recorded
 * the moment, else the other; with neither, the tile says why.
 */
function SyncTile(props: {
  cameraId: number;
  range: { from: number; to: number };
  seek: SyncSeek | null;
  wallMs: number | null;
  paused: boolean;
  rate: number;
}) {
  const { cameraId, range, seek, wallMs, paused, rate } = props;
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const { ticket, open, stop, shownTime } = usePlaybackPlayer(video);
  const recorded = usePointSpans(cameraId, range.from, range.to);
  const [note, setNote] = useState<string | null>(null);
  const [shownMs, setShownMs] = useState<number | null>(null);
  const [from, setFrom] = useState<Source | null>(null);

  useEffect(() => {
    if (seek === null || !recorded.loaded) return;
    const src = sourceAt({ platform: recorded.spans, device: recorded.deviceSpans }, seek.ms, seek.source);
    setFrom(src);
    if (src === null) {
      stop();
      setShownMs(null);
      const why = t('playback.syncNothingHere');
      setNote(recorded.error ?? (recorded.deviceNote ? `${why} (${recorded.deviceNote})` : why));
      return;
    }
    setNote(null);
    open(cameraId, seek.ms, src, seek.speed).then(
      (tk) => tk && !tk.answer.playlistUrl && setNote(t('playback.nothing')),
      (err: unknown) => setNote(describeError(err, t)),
    );
    return stop;
  }, [cameraId, seek, recorded, open, stop, t]);

  useEffect(() => {
    const el = video.current;
    const tk = ticket.current;
    if (!el || !tk) return;
    el.playbackRate = tk.answer.source === 'device' ? 1 : rate;
    if (paused && !el.paused) el.pause();
    if (!paused && el.paused) void el.play().catch(() => undefined);
    if (wallMs === null) return;
    const pos = positionFor(tk, wallMs);
    if (pos === null || Math.abs(el.currentTime - pos) <= 0.5) return;
    // A camera's replay is a stream from one moment: it can move only within what it has sent so far.
    const { seekable } = el;
    const within = tk.answer.source !== 'device' || (seekable.length > 0 && pos <= seekable.end(seekable.length - 1));
    if (within) el.currentTime = pos;
  }, [wallMs, paused, rate, ticket]);

  return (
    <figure
      className="pb-sync-tile"
      data-testid="sync-tile"
      data-camera-id={cameraId}
      data-source={from ?? ''}
      data-wall-ms={shownMs ?? ''}
    >
      <video
        ref={video}
        className="pb-video"
        data-testid="sync-video"
        muted
        playsInline
        onTimeUpdate={() => setShownMs(shownTime())}
      />
      <figcaption>
        #{cameraId} {from === 'device' && <span className="pb-note">{t('playback.source.device')}</span>}{' '}
        {note && (
          <span className="pb-error" data-testid="sync-note">
            {note}
          </span>
        )}
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
  const recorded = usePointSpans(camera, range.from, range.to);
  const { spans, deviceSpans, deviceNote, alerts } = recorded;
  /** Where playback comes from: the platform's recordings, or the camera's own (chosen for the user when only one has any). */
  const [source, setSource] = useState<Source>('platform');
  const [cursor, setCursor] = useState<number | null>(Number.isNaN(atParam) ? null : atParam);
  const [speed, setSpeed] = useState(1);
  /** 同步回放: the other points of `cameras` (up to MAX_SYNC in all) follow the main player's moment. */
  const [sync, setSync] = useState(false);
  const [syncSeek, setSyncSeek] = useState<SyncSeek | null>(null);
  const [paused, setPaused] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [playing, setPlaying] = useState<PlaybackAnswer | null>(null);
  const [download, setDownload] = useState<{ from: string; to: string } | null>(null);
  const [clips, setClips] = useState<Clip[]>([]);
  const video = useRef<HTMLVideoElement>(null);
  const { open, seekWithin, stop: stopPlayer, shownTime, applySpeed } = usePlaybackPlayer(video);
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

  // The point's recordings are known: offer the source that has some (the camera's own when only it has).
  useEffect(() => {
    if (recorded.loaded) setSource(recorded.source);
  }, [recorded]);

  useEffect(() => {
    if (!alertId) return;
    request<Clip[]>(`/recording/alerts/${alertId}/clips`).then(setClips, () => undefined);
  }, [alertId]);

  const seek = useCallback(
    async (ms: number) => {
      setCursor(ms);
      if (source === 'platform' && seekWithin(ms)) return;
      // A new ticket for the main player: the points played in sync take one from the same moment.
      setSyncSeek((cur) => ({ ms, n: (cur?.n ?? 0) + 1, source, speed }));
      try {
        // The camera replays at the speed asked (RTSP Scale): a new speed is a new replay from the cursor.
        const started = await open(camera, ms, source, speed);
        if (!started) return;
        frameSeen.current = false;
        setPlaying(started.answer);
        setError(started.answer.playlistUrl ? null : t('playback.nothing'));
      } catch (err) {
        setError(describeError(err, t));
      }
    },
    [camera, speed, source, t, open, seekWithin],
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
    const ms = shownTime();
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
        {cameraList.length > 1 && (
          <label>
            <input
              type="checkbox"
              data-testid="sync"
              checked={sync}
              onChange={(e) => {
                setSync(e.target.checked);
                if (e.target.checked && cursor !== null)
                  setSyncSeek((cur) => ({ ms: cursor, n: (cur?.n ?? 0) + 1, source, speed }));
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
              // A camera's replay: ask it again from where the picture is (effect below). The replay playing
              // now goes on until the new one replaces it, and is ended then (usePlaybackPlayer).
              if (!applySpeed(s)) reopen.current = true;
            }}
          >
            <SpeedOptions />
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
      {error === null && recorded.error && <p className="pb-error">{recorded.error}</p>}
      {sync && (
        <div className="pb-sync" data-testid="sync-grid">
          {cameraList
            .filter((id) => id !== camera)
            .slice(0, MAX_SYNC - 1)
            .map((id) => (
              <SyncTile
                key={id}
                cameraId={id}
                range={range}
                seek={syncSeek}
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
