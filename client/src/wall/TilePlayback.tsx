/**
 * A wall tile in playback mode (录像回放, issue 14): the point's last 24 hours on a compact timeline under the
 * picture (click or drag to seek), ½×–8×, the recorded time shown, a way back to live and one to the full
 * playback page. The wall around it keeps playing live. Players and tickets are the playback page's
 * (usePlaybackPlayer), so both play recordings the same way.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { SpeedOptions } from '../playback/SpeedOptions.tsx';
import { Timeline } from '../playback/Timeline.tsx';
import { DAY, usePlaybackPlayer, usePointSpans, type Source } from '../playback/usePlaybackPlayer.ts';
import '../playback/playback.css';

/** A tile opens this long before now, as the wall's ⏪ says. */
const BACK_MS = 60_000;

const clock = (ms: number) => {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
};

export interface TilePlaybackProps {
  cameraId: number;
  onLive: () => void;
  /** Opens the point's full playback page from the moment shown. */
  onFullPage: (atMs: number) => void;
}

export function TilePlayback({ cameraId, onLive, onFullPage }: TilePlaybackProps) {
  const { t } = useI18n();
  const [range] = useState(() => {
    const now = Date.now();
    return { from: now - DAY, to: now };
  });
  const recorded = usePointSpans(cameraId, range.from, range.to);
  const video = useRef<HTMLVideoElement>(null);
  const { open, seekWithin, shownTime, applySpeed } = usePlaybackPlayer(video);
  const [source, setSource] = useState<Source>('platform');
  const [speed, setSpeed] = useState(1);
  const [cursor, setCursor] = useState<number | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const start = useCallback(
    async (ms: number, from: Source, rate: number) => {
      setCursor(ms);
      if (from === 'platform' && seekWithin(ms)) return;
      setNote(t('playback.tile.waiting'));
      try {
        const started = await open(cameraId, ms, from, rate);
        if (started) setNote(started.answer.playlistUrl ? null : t('playback.nothing'));
      } catch (err) {
        setNote(describeError(err, t));
      }
    },
    [cameraId, open, seekWithin, t],
  );

  // Once the spans are known: a minute ago, or the last minute recorded when nothing was recorded a minute ago.
  const begun = useRef(false);
  useEffect(() => {
    if (!recorded.loaded || begun.current) return;
    begun.current = true;
    const from = recorded.source;
    setSource(from);
    const lane = from === 'device' ? recorded.deviceSpans : recorded.spans;
    if (lane.length === 0) {
      setNote(recorded.error ?? t('playback.noRecordings'));
      return;
    }
    let at = Date.now() - BACK_MS;
    const last = lane[lane.length - 1]!;
    if (!lane.some((s) => s.start <= at && at < s.end) && at >= last.end) at = Math.max(last.start, last.end - BACK_MS);
    void start(at, from, speed);
  }, [recorded, start, speed, t]);

  return (
    <div className="tile-pb" data-testid="tile-pb" data-recorded-ms={cursor ?? ''} data-source={source}>
      <div className="tile-pb__picture">
        <video
          ref={video}
          data-testid="tile-pb-video"
          muted
          playsInline
          onTimeUpdate={() => {
            const ms = shownTime();
            if (ms !== null) setCursor(ms);
          }}
        />
        {note && <p className="tile-pb__note">{note}</p>}
      </div>
      {/* The strip takes clicks and drags itself: no tile focus, full screen or tile drag from here. */}
      <div
        className="tile-pb__strip"
        onClick={(e) => e.stopPropagation()}
        onDoubleClick={(e) => e.stopPropagation()}
        onDragStart={(e) => {
          e.preventDefault();
          e.stopPropagation();
        }}
      >
        <div className="tile-pb__row">
          <span className="tile-pb__mark" data-testid="tile-pb-mark">
            ⏪ {t('playback.tile.mark')} {cursor !== null ? clock(cursor) : '--:--:--'}
            {source === 'device' ? ` · ${t('playback.source.device')}` : ''}
          </span>
          <select
            data-testid="tile-pb-speed"
            aria-label={t('playback.speed')}
            title={t('playback.speed')}
            value={speed}
            onChange={(e) => {
              const s = Number(e.target.value);
              setSpeed(s);
              // A camera's replay: a new one from the moment shown.
              if (!applySpeed(s) && cursor !== null) void start(cursor, source, s);
            }}
          >
            <SpeedOptions />
          </select>
          <button
            type="button"
            data-testid="tile-pb-full"
            title={t('playback.tile.fullPage')}
            aria-label={t('playback.tile.fullPage')}
            onClick={() => onFullPage(cursor ?? Date.now() - BACK_MS)}
          >
            ⇱
          </button>
          <button type="button" data-testid="tile-pb-live" className="tile-pb__live" onClick={onLive}>
            {t('playback.tile.live')}
          </button>
        </div>
        <Timeline
          compact
          from={range.from}
          to={range.to}
          spans={recorded.spans}
          deviceSpans={recorded.deviceSpans}
          deviceNote={recorded.deviceNote}
          alerts={recorded.alerts}
          cursor={cursor}
          onSeek={(ms) => void start(ms, source, speed)}
        />
      </div>
    </div>
  );
}
