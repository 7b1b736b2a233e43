/**
 * One tile of the wall. It can hold more than one player at a time: the one
 * shown, the one a tour switch waits for, and the one warming up for the next
 * switch. Players behind the front one play too (they are under it, not
 * hidden), so a tour swaps to a player that already has a picture and no tile
 * goes black. Each player is keyed by its camera, so promoting it to the front
 * keeps the same <video> element.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type DragEvent } from 'react';
import type { AlertLevel } from '@api/contract.ts';
import { useI18n } from '../i18n.tsx';
import { LivePlayer } from '../live/LivePlayer.tsx';
import { PtzOverlay } from '../live/PtzOverlay.tsx';
import { navigateToPlayback } from '../router.ts';
import { useSession } from '../session.tsx';
import type { TileView } from '../live/liveSession.ts';
import { TilePlayback } from './TilePlayback.tsx';
import { CAMERA_MIME, TILE_MIME, type WallPoint } from './model.ts';

/** A switch waits this long at most for the new picture, then shows whatever the new player shows. */
const SWAP_TIMEOUT_MS = 15_000;

export interface WallTileProps {
  index: number;
  cameraId: number | null;
  /** Started early, behind the picture, for the next tour switch. */
  warmId: number | null;
  /** Keep the old picture until the new one plays (tours); a user's own change is immediate. */
  smooth: boolean;
  point: (id: number) => WallPoint | undefined;
  focused: boolean;
  full: boolean;
  steerable: boolean;
  interactive: boolean;
  onFocus: (index: number) => void;
  onDropCamera: (index: number, cameraId: number) => void;
  onSwapTiles: (from: number, to: number) => void;
  onClear: (index: number) => void;
  onToggleFull: (index: number) => void;
  /** The camera shown belongs to an open alert of the screen's rule: the tile is marked in its colour. */
  alertLevel?: AlertLevel | null;
  /** An alert put this camera here for a while (the screen's rule lets it take this tile). */
  takenBy?: number | null;
  /** The wall's other points, offered on the playback page to play in sync with this one. */
  playbackWith?: number[];
}

/**
 * A camera name that is never cut (issue 17): it wraps onto two lines, and a
 * name longer than two lines scrolls slowly back and forth on one line.
 */
function TileName({ name }: { name: string }) {
  const box = useRef<HTMLSpanElement>(null);
  const ruler = useRef<HTMLSpanElement>(null);
  const [shift, setShift] = useState(0);
  useLayoutEffect(() => {
    const el = box.current;
    const measure = ruler.current;
    if (!el || !measure) return;
    const fit = () => {
      const available = el.clientWidth;
      const natural = measure.scrollWidth;
      // Two lines hold about twice the width (CJK breaks anywhere); a little slack for Latin words.
      setShift(available > 0 && natural > available * 1.9 ? natural - available : 0);
    };
    fit();
    const observer = new ResizeObserver(fit);
    observer.observe(el);
    return () => observer.disconnect();
  }, [name]);
  return (
    <span
      ref={box}
      className={`wall-tile__name ${shift ? 'wall-tile__name--marquee' : ''}`}
      title={name}
      data-marquee={shift ? 'true' : 'false'}
      style={shift ? ({ '--marquee-shift': `-${shift}px` } as React.CSSProperties) : undefined}
    >
      <span className="wall-tile__name-text">{name}</span>
      <span ref={ruler} className="wall-tile__name-ruler" aria-hidden="true">
        {name}
      </span>
    </span>
  );
}

export function WallTile(props: WallTileProps) {
  const { index, cameraId, warmId, smooth, point, focused, full, steerable, interactive } = props;
  const alertLevel = props.alertLevel ?? null;
  const takenBy = props.takenBy ?? null;
  const { t } = useI18n();
  const canPlayback = useSession().can('recording.read');
  const [front, setFront] = useState<number | null>(cameraId);
  const [pending, setPending] = useState<number | null>(null);
  const [live, setLive] = useState<ReadonlySet<number>>(new Set());
  const [dragOver, setDragOver] = useState(false);
  const [target, setTarget] = useState<number | null>(cameraId);
  /** The tile plays its point's recordings in place (issue 14) instead of its live picture. */
  const [playback, setPlayback] = useState(false);
  /** Camera order of the players in the DOM: new ones are appended, so none is moved. */
  const [order, setOrder] = useState<number[]>(cameraId === null ? [] : [cameraId]);

  // Adjusting state while rendering (React's pattern for "state derived from a changed prop").
  if (target !== cameraId) {
    setTarget(cameraId);
    // Another point here (a tour, an alert, a drop): it plays live.
    setPlayback(false);
    if (cameraId === null || front === null || front === cameraId || !smooth || live.has(cameraId)) {
      setFront(cameraId);
      setPending(null);
    } else {
      setPending(cameraId);
    }
  }
  if (pending !== null && live.has(pending)) {
    setFront(pending);
    setPending(null);
  }
  const wanted = [front, pending, warmId].filter((id, i, all): id is number => id !== null && all.indexOf(id) === i);
  const nextOrder = [...order.filter((id) => wanted.includes(id)), ...wanted.filter((id) => !order.includes(id))];
  if (nextOrder.join() !== order.join()) setOrder(nextOrder);
  // A player that is gone is not live any more (a new one for the same camera starts over).
  if ([...live].some((id) => !nextOrder.includes(id)))
    setLive(new Set([...live].filter((id) => nextOrder.includes(id))));

  useEffect(() => {
    if (pending === null) return;
    const timer = window.setTimeout(() => {
      setFront(pending);
      setPending(null);
    }, SWAP_TIMEOUT_MS);
    return () => window.clearTimeout(timer);
  }, [pending]);

  const onState = useCallback((id: number, view: TileView) => {
    setLive((prev) => {
      const isLive = view.state === 'live';
      if (prev.has(id) === isLive) return prev;
      const next = new Set(prev);
      if (isLive) next.add(id);
      else next.delete(id);
      return next;
    });
  }, []);

  const onDragOver = (e: DragEvent) => {
    if (!interactive) return;
    const types = e.dataTransfer.types;
    if (types.includes(CAMERA_MIME) || types.includes(TILE_MIME)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = types.includes(TILE_MIME) ? 'move' : 'copy';
      setDragOver(true);
    }
  };
  const onDrop = (e: DragEvent) => {
    setDragOver(false);
    if (!interactive) return;
    e.preventDefault();
    const tile = e.dataTransfer.getData(TILE_MIME);
    if (tile !== '') {
      const from = Number(tile);
      if (Number.isInteger(from) && from !== index) props.onSwapTiles(from, index);
      return;
    }
    const id = Number(e.dataTransfer.getData(CAMERA_MIME));
    if (Number.isInteger(id) && id > 0) props.onDropCamera(index, id);
  };

  const shown = front !== null ? point(front) : undefined;
  return (
    <div
      className={`wall-tile ${playback ? 'wall-tile--playback' : ''} ${focused ? 'wall-tile--focused' : ''} ${full ? 'wall-tile--full' : ''} ${dragOver ? 'wall-tile--drop' : ''} ${alertLevel ? `wall-tile--alert wall-tile--alert-${alertLevel}` : ''}`}
      data-index={index}
      data-camera-id={front ?? ''}
      data-pending-id={pending ?? ''}
      data-mode={playback ? 'playback' : 'live'}
      data-alert-level={alertLevel ?? ''}
      data-taken-by={takenBy ?? ''}
      onClick={() => props.onFocus(index)}
      onDoubleClick={() => front !== null && props.onToggleFull(index)}
      onDragOver={onDragOver}
      onDragLeave={() => setDragOver(false)}
      onDrop={onDrop}
      draggable={interactive && front !== null && !playback}
      onDragStart={(e) => {
        e.dataTransfer.setData(TILE_MIME, String(index));
        if (front !== null) e.dataTransfer.setData(CAMERA_MIME, String(front));
      }}
    >
      <div className="wall-tile__picture">
        {playback && front !== null && (
          <div className="wall-layer wall-layer--playback">
            <TilePlayback
              cameraId={front}
              onLive={() => setPlayback(false)}
              onFullPage={(at) =>
                navigateToPlayback(front, {
                  at,
                  cameras: [front, ...(props.playbackWith ?? []).filter((id) => id !== front)].slice(0, 4),
                })
              }
            />
          </div>
        )}
        {nextOrder
          // The live player of a point played back steps aside (its socket may keep it warm for the return).
          .filter((id) => !(playback && id === front))
          .map((id) => (
            <div
              key={id}
              className={`wall-layer ${id === front ? 'wall-layer--front' : 'wall-layer--back'}`}
              data-camera-id={id}
            >
              <LivePlayer
                cameraId={id}
                quality={full && id === front ? 'main' : 'sub'}
                latency={id === front && full && steerable && point(id)?.ptz ? 'ptz' : 'tile'}
                onStateChange={(v) => onState(id, v)}
              >
                {id === front && full && steerable && point(id)?.ptz && <PtzOverlay cameraId={id} />}
              </LivePlayer>
            </div>
          ))}
        {front === null && (
          <div className="wall-tile__empty">
            <span className="wall-tile__index">{index + 1}</span>
            {interactive && <span>{t('wall.dropHere')}</span>}
          </div>
        )}
      </div>
      {front !== null && (
        // Below the picture, never over it: the camera's own clock and name stay readable (issue 17).
        <div className="wall-tile__bar">
          {/* A tile playing back shows no live dot: its 回放 tag says what it shows. */}
          {playback ? (
            <span className="wall-tile__tag wall-tile__tag--playback">{t('playback.tile.mark')}</span>
          ) : (
            <span
              className={`wall-tile__state ${live.has(front) ? 'wall-tile__state--live' : ''}`}
              title={live.has(front) ? t('live.state.live') : t('live.state.loading')}
              aria-hidden="true"
            />
          )}
          <TileName name={shown?.name ?? `#${front}`} />
          {takenBy !== null && <span className="wall-tile__tag">{t('wall.alertTaken')}</span>}
          {full && <span className="wall-tile__quality">{t('live.main')}</span>}
          {interactive && (
            <span className="wall-tile__tools">
              <button
                type="button"
                className="wall-icon"
                title={full ? t('wall.exitFull') : t('wall.full')}
                aria-label={full ? t('wall.exitFull') : t('wall.full')}
                onClick={(e) => {
                  e.stopPropagation();
                  props.onToggleFull(index);
                }}
              >
                {full ? '⤡' : '⤢'}
              </button>
              {canPlayback && !playback && (
                // The tile's point from a minute ago, in the tile (its strip opens the full playback page).
                <button
                  type="button"
                  className="wall-icon"
                  data-testid="tile-playback"
                  title={t('wall.playback')}
                  aria-label={t('wall.playback')}
                  onClick={(e) => {
                    e.stopPropagation();
                    setPlayback(true);
                  }}
                >
                  ⏪
                </button>
              )}
              <button
                type="button"
                className="wall-icon"
                title={t('wall.clearTile')}
                aria-label={t('wall.clearTile')}
                onClick={(e) => {
                  e.stopPropagation();
                  props.onClear(index);
                }}
              >
                ×
              </button>
            </span>
          )}
        </div>
      )}
    </div>
  );
}
