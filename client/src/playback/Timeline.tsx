/**
 * 录像时间轴: a 24-hour (or any) window of a point's recordings — recorded spans, gaps, alert markers and the
 * play cursor. Click or drag to seek; the wheel zooms around the pointer (down to 2 minutes), shift+wheel
 * pans. Times are epoch milliseconds; labels in the browser's local time.
 */
import { useCallback, useRef, useState, type PointerEvent, type WheelEvent } from 'react';
import { useI18n } from '../i18n.tsx';

export interface TimelineSpan {
  start: number;
  end: number;
}

export interface TimelineAlert {
  id: number;
  at: number;
  level: 'blue' | 'yellow' | 'orange' | 'red' | string;
  title: string;
}

export interface TimelineProps {
  /** The whole range the timeline can show. */
  from: number;
  to: number;
  spans: TimelineSpan[];
  /** The camera's own recordings (ONVIF Profile G): a lane of their own, in another colour. */
  deviceSpans?: TimelineSpan[];
  /** Why the camera's own recordings cannot be shown, in words (undefined: nothing to say). */
  deviceNote?: string | undefined;
  alerts: TimelineAlert[];
  cursor: number | null;
  onSeek: (ms: number) => void;
  /** A wall tile's strip: short tool labels and no legend (the wheel still zooms, shift+wheel pans). */
  compact?: boolean;
}

const LEVEL_COLORS: Record<string, string> = { blue: '#3b82f6', yellow: '#eab308', orange: '#f97316', red: '#ef4444' };
const MIN_WINDOW = 2 * 60_000;
const STEPS = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 3 * 3_600_000];

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const hhmm = (ms: number) => {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
};

export function Timeline(props: TimelineProps) {
  const { from, to, spans, deviceSpans = [], deviceNote, alerts, cursor, onSeek, compact = false } = props;
  const { t } = useI18n();
  const [view, setView] = useState<{ a: number; b: number }>({ a: from, b: to });
  const ref = useRef<HTMLDivElement>(null);
  const dragging = useRef(false);
  // A new range (another point, another day) shows whole.
  const key = `${from}:${to}`;
  const [shownKey, setShownKey] = useState(key);
  if (shownKey !== key) {
    setShownKey(key);
    setView({ a: from, b: to });
  }
  const { a, b } = view;
  const x = (ms: number) => ((ms - a) / (b - a)) * 100;
  const timeAt = useCallback(
    (clientX: number) => {
      const r = ref.current!.getBoundingClientRect();
      return a + ((clientX - r.left) / r.width) * (b - a);
    },
    [a, b],
  );

  const seekAt = (clientX: number) => onSeek(Math.round(clamp(timeAt(clientX), from, to)));
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    dragging.current = true;
    e.currentTarget.setPointerCapture(e.pointerId);
    seekAt(e.clientX);
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (dragging.current) seekAt(e.clientX);
  };
  const onPointerUp = () => {
    dragging.current = false;
  };
  const onWheel = (e: WheelEvent<HTMLDivElement>) => {
    const width = b - a;
    if (e.shiftKey) {
      const shift = (e.deltaY / 500) * width;
      const na = clamp(a + shift, from, to - width);
      setView({ a: na, b: na + width });
      return;
    }
    const at = timeAt(e.clientX);
    const factor = e.deltaY > 0 ? 1.5 : 1 / 1.5;
    const nw = clamp(width * factor, MIN_WINDOW, to - from);
    const share = (at - a) / width;
    const na = clamp(at - share * nw, from, to - nw);
    setView({ a: na, b: na + nw });
  };

  const step = STEPS.find((s) => (b - a) / s <= 12) ?? 6 * 3_600_000;
  const ticks: number[] = [];
  for (let m = Math.ceil(a / step) * step; m <= b; m += step) ticks.push(m);
  const visible = (s: TimelineSpan) => s.end > a && s.start < b;

  return (
    <div className={`pb-timeline ${compact ? 'pb-timeline--compact' : ''}`}>
      <div className="pb-timeline-tools">
        {/* A tile's strip has no room for words: short labels, the words in the tooltip. */}
        <button
          type="button"
          title={t('playback.zoomAll')}
          aria-label={t('playback.zoomAll')}
          onClick={() => setView({ a: from, b: to })}
        >
          {compact ? '24h' : t('playback.zoomAll')}
        </button>
        <button
          type="button"
          title={t('playback.zoomIn')}
          aria-label={t('playback.zoomIn')}
          disabled={cursor === null}
          onClick={() => {
            if (cursor === null) return;
            // Ten minutes around the play position: a segment is a few seconds wide there.
            const w = Math.min(to - from, 10 * 60_000);
            const na = clamp(cursor - w / 2, from, to - w);
            setView({ a: na, b: na + w });
          }}
        >
          {compact ? '⊕' : t('playback.zoomIn')}
        </button>
        <span className="pb-timeline-range">
          {hhmm(a)} – {hhmm(b)}
        </span>
      </div>
      <div
        ref={ref}
        className="pb-timeline-track"
        role="slider"
        aria-label={t('playback.timeline')}
        aria-valuemin={from}
        aria-valuemax={to}
        aria-valuenow={cursor ?? from}
        data-testid="timeline"
        data-view-from={Math.round(a)}
        data-view-to={Math.round(b)}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onWheel={onWheel}
      >
        <div className="pb-gap" style={{ left: 0, width: '100%' }} title={t('playback.gap')} />
        {spans.filter(visible).map((s) => (
          <div
            key={`${s.start}`}
            className="pb-span"
            data-testid="span"
            style={{
              left: `${Math.max(0, x(s.start))}%`,
              width: `${Math.min(100, x(s.end)) - Math.max(0, x(s.start))}%`,
            }}
            title={`${hhmm(s.start)} – ${hhmm(s.end)}`}
          />
        ))}
        {deviceSpans.filter(visible).map((s) => (
          <div
            key={`d${s.start}`}
            className="pb-span-device"
            data-testid="device-span"
            style={{
              left: `${Math.max(0, x(s.start))}%`,
              width: `${Math.min(100, x(s.end)) - Math.max(0, x(s.start))}%`,
            }}
            title={`${t('playback.legend.device')} ${hhmm(s.start)} – ${hhmm(s.end)}`}
          />
        ))}
        {alerts
          .filter((al) => al.at >= a && al.at <= b)
          .map((al) => (
            <div
              key={al.id}
              className="pb-alert"
              data-testid="alert-marker"
              style={{ left: `${x(al.at)}%`, background: LEVEL_COLORS[al.level] ?? '#f97316' }}
              title={`${hhmm(al.at)} ${al.title}`}
            />
          ))}
        {cursor !== null && cursor >= a && cursor <= b && (
          <div className="pb-cursor" data-testid="cursor" style={{ left: `${x(cursor)}%` }} />
        )}
      </div>
      <div className="pb-ticks">
        {ticks.map((m) => (
          <span key={m} style={{ left: `${x(m)}%` }}>
            {hhmm(m)}
          </span>
        ))}
      </div>
      {!compact && (
        <div className="pb-legend">
          <span>
            <i />
            {t('playback.legend.platform')}
          </span>
          <span>
            <i className="device" />
            {t('playback.legend.device')}
            {deviceNote ? `: ${deviceNote}` : ''}
          </span>
        </div>
      )}
    </div>
  );
}
