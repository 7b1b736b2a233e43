/**
 * 视频墙 — a duty officer's wall screen at /wall/:screenId: a grid of live
 * tiles filled from the camera tree, the map or an alert; tours (轮巡) that
 * warm the next group up before they switch; the layout saved per screen;
 * pushes from the level above (视频调度); and kiosk mode (?kiosk=1, or a kiosk
 * session) for unattended screens: no pointer UI, everything recovers by itself.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import {
  WALL_DEFAULT_SETTINGS,
  type ServerToClientEvents,
  type WallLayout,
  type WallPushEvent,
  type WallScreenView,
} from '@api/contract.ts';
import { OpenKioskButton } from '../admin/OpenKioskButton.tsx';
import { bootAnswer, isAbort } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { useRealtime } from '../realtime.tsx';
import { navigate } from '../router.ts';
import { useSession } from '../session.tsx';
import { useMapConfig } from '../useMapConfig.ts';
import { CameraTree } from './CameraTree.tsx';
import { GRIDS, GRID_TILES, gridFor, placeCamera, preloadLeadSec, resize, tourGroup, tourGroups } from './model.ts';
import { WallAlerts, WallRate } from './SidePanels.tsx';
import { WallOrders } from './WallOrders.tsx';
import { useWallPoints, useWallReference } from './useWallPoints.ts';
import { useWallScreen } from './useWallScreen.ts';
import { wallApi } from './wallApi.ts';
import { WallMap, prefetchMapPoints, prewarmMap } from './WallMap.tsx';
import { WallTile } from './WallTile.tsx';
import { useAlertReaction } from './useAlertReaction.ts';
import { WallAlertBanner, WallAlertPopup } from './WallAlertLayer.tsx';
import { WallSettingsPanel } from './WallSettingsPanel.tsx';
import './wall.css';

/** Kiosk accounts are named after their screen (server/src/auth/repo.ts: `#kiosk-<screen id>`). */
export function isKiosk(username?: string): boolean {
  return (
    new URLSearchParams(window.location.search).get('kiosk') === '1' ||
    !!username?.startsWith('#kiosk-') ||
    !!username?.startsWith('kiosk-screen-')
  );
}

/** Columns of each grid, for arrow-key focus moves. */
const COLUMNS: Record<WallLayout['grid'], number> = { '1': 1, '4': 2, '6': 3, '9': 3, '16': 4, '1+5': 3, '1+7': 4 };
const TOUR_INTERVALS = [10, 15, 30, 60, 120, 300];
/** A hidden page keeps playing this long (a quick window switch), then its players stop. */
const HIDDEN_GRACE_MS = 30_000;
/** The longest the tree's point list waits for the map's first render. */
const LIST_WAIT_MS = 2_500;

function usePageVisible(): boolean {
  const [visible, setVisible] = useState(true);
  useEffect(() => {
    let timer: number | undefined;
    const update = () => {
      window.clearTimeout(timer);
      if (document.visibilityState === 'visible') setVisible(true);
      else timer = window.setTimeout(() => setVisible(false), HIDDEN_GRACE_MS);
    };
    document.addEventListener('visibilitychange', update);
    return () => {
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', update);
    };
  }, []);
  return visible;
}

export function WallPage({ screenId, kiosk: kioskParam }: { screenId: number | null; kiosk: boolean }) {
  const { t } = useI18n();
  const { user, can } = useSession();
  const kiosk = kioskParam || isKiosk(user.username);
  const canSave = can('wall.write') && !kiosk;
  const interactive = !kiosk;

  // The list as the early answer gave it (/wall-boot.js) on a page opened on a screen: that first request is
  // not sent again.
  const [screens, setScreens] = useState<WallScreenView[]>(
    () => (screenId === null ? undefined : bootAnswer<WallScreenView[]>('/walls'))?.value ?? [],
  );
  const bootedList = useRef(screens.length > 0);
  const [listError, setListError] = useState<unknown>(null);
  const [listGen, setListGen] = useState(0);
  useEffect(() => {
    if (bootedList.current) {
      bootedList.current = false;
      return;
    }
    const controller = new AbortController();
    wallApi.list(controller.signal).then(
      async (list) => {
        setScreens(list);
        setListError(null);
        if (screenId !== null) return;
        const own = list.find((s) => s.orgUnitId === user.orgUnitId) ?? list[0];
        if (own) navigate('wall', { screenId: own.id, replace: true });
        else if (canSave) {
          const created = await wallApi.create(t('wall.defaultName'));
          navigate('wall', { screenId: created.id, replace: true });
          setListGen((n) => n + 1);
        }
      },
      (err: unknown) => !isAbort(err) && setListError(err),
    );
    return () => controller.abort();
  }, [screenId, user.orgUnitId, canSave, t, listGen]);

  // The map's configuration is asked for first: the point list takes the server a moment, and the
  // basemap can load meanwhile (map.first_render50k).
  const mapConfig = useMapConfig();
  const { screen, layout, load, conflict, setLayout } = useWallScreen(screenId, canSave);
  // On a page opened at /wall the feed was asked for before the bundle loaded (client/boot/wall-boot.js) and
  // maplibre's worker started (main.tsx): this does nothing. A wall reached from another page starts both here.
  // A layout effect: it runs before the map's own effects even when the map mounts in this same commit (opened
  // at /wall, with the early answers), so the map takes this load rather than the page asking a second time.
  useLayoutEffect(() => {
    if (kiosk) return;
    prewarmMap();
    prefetchMapPoints();
  }, [kiosk]);
  // The tree's point list (names, directions) waits for the map's first render, or a few seconds at most:
  // its JSON is several times the map's feed and held the clusters back (issue 15).
  const [mapDrawn, setMapDrawn] = useState(false);
  useEffect(() => {
    const timer = window.setTimeout(() => setMapDrawn(true), LIST_WAIT_MS);
    return () => window.clearTimeout(timer);
  }, []);
  const { points, byId, settled: pointsSettled } = useWallPoints(kiosk || mapDrawn || mapConfig.status === 'error');
  const point = useCallback((id: number) => byId.get(id), [byId]);
  // Units and networks (with counts the server computes over every point) wait for the point list:
  // asked for together they hold the server up and the map's first render with it.
  const { orgUnits, networks } = useWallReference(points.length > 0 || pointsSettled);
  const networkIds = useMemo(() => networks.map((n) => n.id), [networks]);
  const pageVisible = usePageVisible();
  const { socket, lost } = useRealtime();

  const [focus, setFocus] = useState(0);
  const [full, setFull] = useState<number | null>(null);
  const [showMap, setShowMap] = useState(true);
  const [paused, setPaused] = useState(false);
  const [group, setGroup] = useState(0);
  const [warm, setWarm] = useState(false);
  const [push, setPush] = useState<WallPushEvent | null>(null);
  const [tourInterval, setTourInterval] = useState(30);
  const [settingsOpen, setSettingsOpen] = useState(false);

  const tiles = layout?.tiles ?? [];
  const tileCount = layout ? GRID_TILES[layout.grid] : 0;
  const tour = layout?.tour ?? null;
  const touring = !!tour && !paused && push === null;

  // 轮巡: the next group starts playing, hidden behind the current one, a few seconds before the switch.
  useEffect(() => {
    if (!touring || !tour) return;
    const ms = tour.intervalSec * 1000;
    const warmTimer = window.setTimeout(() => setWarm(true), ms - preloadLeadSec(tour.intervalSec) * 1000);
    const switchTimer = window.setTimeout(() => {
      setGroup((g) => (g + 1) % tourGroups(tour.cameraIds, tileCount));
      setWarm(false);
    }, ms);
    return () => {
      window.clearTimeout(warmTimer);
      window.clearTimeout(switchTimer);
    };
  }, [touring, tour, group, tileCount]);

  const shown: (number | null)[] =
    touring && tour ? tourGroup(tour.cameraIds, tileCount, group) : tiles.map((id) => id ?? null);
  const warmIds: (number | null)[] =
    touring && tour && warm
      ? tourGroup(tour.cameraIds, tileCount, (group + 1) % tourGroups(tour.cameraIds, tileCount))
      : [];

  // Alerts by the screen's own rule (issue 17): pop-up, banner, sound, highlighted tiles, tiles taken for a while.
  const settings = layout?.settings ?? WALL_DEFAULT_SETTINGS;
  const settingsRef = useRef(settings);
  useEffect(() => {
    settingsRef.current = settings;
  });
  const reaction = useAlertReaction(settings, shown, kiosk);
  const { release } = reaction;
  const display = shown.map((id, i) => reaction.taken.get(i)?.cameraId ?? id);

  /** A user's change to the tiles: a running tour pauses where it is, its cameras become the tiles. */
  const editTiles = useCallback(
    (edit: (tiles: (number | null)[]) => (number | null)[]) => {
      if (!layout) return;
      const base = touring && tour ? tourGroup(tour.cameraIds, tileCount, group) : layout.tiles;
      if (touring) setPaused(true);
      setLayout({ ...layout, tiles: edit([...base]) });
      setPush(null);
      release();
    },
    [layout, touring, tour, tileCount, group, setLayout, release],
  );

  const setGrid = useCallback(
    (grid: WallLayout['grid']) => {
      if (!layout) return;
      setLayout(resize(layout, grid));
      setFocus((f) => Math.min(f, GRID_TILES[grid] - 1));
      setFull(null);
      setGroup(0);
    },
    [layout, setLayout],
  );

  const pick = useCallback(
    (id: number) =>
      editTiles((current) => {
        const next = placeCamera(current, focus, id);
        const after = next.indexOf(null);
        setFocus(after >= 0 ? after : focus);
        return next;
      }),
    [editTiles, focus],
  );

  /** Several cameras at once (a map box, an alert's linked cameras): a grid that fits, a tour beyond 16. */
  const showMany = useCallback(
    (ids: number[]) => {
      if (!layout || !ids.length) return;
      const unique = [...new Set(ids)];
      if (unique.length <= 16) {
        const grid = unique.length <= tileCount ? layout.grid : gridFor(unique.length);
        const n = GRID_TILES[grid];
        setLayout({ ...layout, grid, tiles: Array.from({ length: n }, (_, i) => unique[i] ?? null), tour: null });
      } else {
        setLayout({
          ...layout,
          grid: '16',
          tiles: unique.slice(0, 16),
          tour: { cameraIds: unique.slice(0, 256), intervalSec: tourInterval },
        });
      }
      setGroup(0);
      setPaused(false);
      setFocus(0);
      setPush(null);
    },
    [layout, tileCount, setLayout, tourInterval],
  );

  const startTour = useCallback(
    (ids: number[]) => {
      if (!layout) return;
      setGroup(0);
      setPaused(false);
      setLayout({ ...layout, tour: { cameraIds: ids.slice(0, 256), intervalSec: tourInterval } });
    },
    [layout, setLayout, tourInterval],
  );

  // 视频调度: a view pushed from the level above is shown at once (and not stored as this screen's layout).
  useEffect(() => {
    if (!socket) return;
    const onPush: ServerToClientEvents['wall:push'] = (e) => {
      if (e.targetOrgUnitId !== user.orgUnitId || (e.screenId !== null && e.screenId !== screenId)) return;
      setPush(e);
      setFull(null);
      setFocus(0);
      // A pushed view changes what is shown, never how this screen reacts to alerts.
      if (e.layout) setLayout({ ...e.layout, settings: settingsRef.current }, false);
      else if (e.cameraIds.length) {
        const grid = gridFor(Math.min(e.cameraIds.length, 16));
        setLayout(
          {
            grid,
            tiles: Array.from({ length: GRID_TILES[grid] }, (_, i) => e.cameraIds[i] ?? null),
            tour: e.cameraIds.length > 16 ? { cameraIds: e.cameraIds.slice(0, 256), intervalSec: 30 } : null,
            settings: settingsRef.current,
          },
          false,
        );
      }
    };
    socket.on('wall:push', onPush);
    return () => {
      socket.off('wall:push', onPush);
    };
  }, [socket, user.orgUnitId, screenId, setLayout]);

  useEffect(() => {
    if (!layout) return;
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const n = GRID_TILES[layout.grid];
      const cols = COLUMNS[layout.grid];
      if (/^[1-7]$/.test(e.key) && interactive) {
        setGrid(GRIDS[Number(e.key) - 1]!);
      } else if (e.key === 'ArrowRight') setFocus((f) => Math.min(n - 1, f + 1));
      else if (e.key === 'ArrowLeft') setFocus((f) => Math.max(0, f - 1));
      else if (e.key === 'ArrowDown') setFocus((f) => Math.min(n - 1, f + cols));
      else if (e.key === 'ArrowUp') setFocus((f) => Math.max(0, f - cols));
      else if (e.key === 'Enter') setFull((cur) => (cur === null && display[focus] != null ? focus : null));
      else if (e.key === 'Escape') setFull(null);
      else if ((e.key === 'Delete' || e.key === 'Backspace') && interactive) {
        editTiles((cur) => cur.map((id, i) => (i === focus ? null : id)));
        setFull(null);
      } else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [layout, focus, display, interactive, setGrid, editTiles]);

  if (screenId === null) {
    return (
      <div className={`wall ${kiosk ? 'wall--kiosk' : ''}`}>
        <p className="wall-message">
          {listError
            ? describeError(listError, t)
            : screens.length === 0 && !canSave
              ? t('wall.noScreens')
              : t('common.loading')}
        </p>
      </div>
    );
  }
  if (!layout) {
    return (
      <div className={`wall ${kiosk ? 'wall--kiosk' : ''}`}>
        <p className="wall-message">{load.state === 'error' ? describeError(load.error, t) : t('common.loading')}</p>
      </div>
    );
  }

  const groups = tour ? tourGroups(tour.cameraIds, tileCount) : 0;
  return (
    <div
      className={`wall ${kiosk ? 'wall--kiosk' : ''} ${showMap && !kiosk ? 'wall--with-map' : ''} ${settings.large ? 'wall--large' : ''}`}
      data-screen-id={screenId}
      data-grid={layout.grid}
      data-touring={touring ? 'true' : 'false'}
      data-tour-group={group}
    >
      {!kiosk && (
        <header className="wall-bar">
          <select
            className="wall-select"
            aria-label={t('wall.screen')}
            value={screenId}
            onChange={(e) => navigate('wall', { screenId: Number(e.target.value) })}
          >
            {(screens.some((s) => s.id === screenId) ? screens : [...screens, ...(screen ? [screen] : [])]).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} · {orgUnits.find((u) => u.id === s.orgUnitId)?.name ?? ''}
              </option>
            ))}
          </select>
          {canSave && (
            <button
              type="button"
              className="wall-button"
              onClick={() =>
                void wallApi.create(t('wall.defaultNameN', { n: screens.length + 1 })).then((s) => {
                  setListGen((n) => n + 1);
                  navigate('wall', { screenId: s.id });
                })
              }
            >
              {t('wall.newScreen')}
            </button>
          )}
          <OpenKioskButton screenId={screenId} className="wall-button" />
          <div className="wall-grids" role="group" aria-label={t('wall.layout')}>
            {GRIDS.map((g, i) => (
              <button
                key={g}
                type="button"
                className={`wall-grid-button ${layout.grid === g ? 'wall-grid-button--on' : ''}`}
                aria-pressed={layout.grid === g}
                title={t('wall.gridKey', { key: i + 1 })}
                onClick={() => setGrid(g)}
              >
                {g}
              </button>
            ))}
          </div>
          <div className="wall-tourbar" role="group" aria-label={t('wall.tour')}>
            <select
              className="wall-select"
              aria-label={t('wall.tourInterval')}
              value={tour?.intervalSec ?? tourInterval}
              onChange={(e) => {
                const sec = Number(e.target.value);
                setTourInterval(sec);
                if (tour) setLayout({ ...layout, tour: { ...tour, intervalSec: sec } });
              }}
            >
              {[...new Set([...TOUR_INTERVALS, tour?.intervalSec ?? tourInterval])].map((s) => (
                <option key={s} value={s}>
                  {t('wall.seconds', { n: s })}
                </option>
              ))}
            </select>
            {tour ? (
              <>
                <span className="wall-tour-status">
                  {t('wall.tourStatus', {
                    group: (group % Math.max(groups, 1)) + 1,
                    groups,
                    cameras: tour.cameraIds.length,
                  })}
                </span>
                <button type="button" className="wall-button" onClick={() => setPaused((p) => !p)}>
                  {paused ? t('wall.tourResume') : t('wall.tourPause')}
                </button>
                <button type="button" className="wall-button" onClick={() => setLayout({ ...layout, tour: null })}>
                  {t('wall.tourStop')}
                </button>
              </>
            ) : (
              <span className="wall-tour-status">{t('wall.tourNone')}</span>
            )}
          </div>
          <span className="wall-bar__spacer" />
          {conflict && <span className="wall-note">{t('wall.conflict')}</span>}
          {canSave && (
            <button
              type="button"
              className="wall-button"
              aria-expanded={settingsOpen}
              onClick={() => setSettingsOpen((o) => !o)}
            >
              {t('wall.settings')}
            </button>
          )}
          <button type="button" className="wall-button" aria-pressed={showMap} onClick={() => setShowMap((s) => !s)}>
            {showMap ? t('wall.hideMap') : t('wall.showMap')}
          </button>
        </header>
      )}
      {lost && (
        <div className="wall-offline" role="status">
          {t('wall.reconnecting')}
        </div>
      )}
      {push && (
        <div className="wall-push" role="alert">
          <strong>{t('wall.pushFrom', { org: push.from.orgName, name: push.from.displayName })}</strong>
          {push.note && <span className="wall-push__note">{push.note}</span>}
          {!kiosk && (
            <button type="button" className="wall-button" onClick={() => setPush(null)}>
              {t('wall.pushDismiss')}
            </button>
          )}
        </div>
      )}
      {settingsOpen && canSave && (
        <WallSettingsPanel
          settings={settings}
          tileCount={tileCount}
          onChange={(next) => setLayout({ ...layout, settings: next })}
          onClose={() => setSettingsOpen(false)}
        />
      )}
      <WallAlertBanner alerts={reaction.banner} />
      {!kiosk && (
        <aside className="wall-side">
          <CameraTree
            units={orgUnits}
            networks={networks}
            points={points}
            onPick={pick}
            onTour={canSave ? startTour : null}
          />
          <WallAlerts onShow={showMany} />
          {can('order.read') && <WallOrders unitId={user.orgUnitId} onShow={showMany} />}
          <WallRate points={points} networks={networks} />
        </aside>
      )}
      <main className={`wall-grid wall-grid--${layout.grid.replace('+', 'p')}`} aria-label={t('wall.tiles')}>
        {display.map((id, i) => (
          <WallTile
            key={i}
            index={i}
            cameraId={pageVisible ? id : null}
            alertLevel={id !== null ? (reaction.highlight.get(id) ?? null) : null}
            takenBy={reaction.taken.get(i)?.alertId ?? null}
            playbackWith={display.filter((c): c is number => c !== null)}
            warmId={pageVisible ? (warmIds[i] ?? null) : null}
            smooth={touring}
            point={point}
            focused={focus === i && !kiosk}
            full={full === i}
            steerable={can('camera.control')}
            interactive={interactive}
            onFocus={setFocus}
            onDropCamera={(index, cameraId) => {
              editTiles((cur) => cur.map((c, j) => (j === index ? cameraId : c)));
              setFocus(index);
            }}
            onSwapTiles={(from, to) =>
              editTiles((cur) => {
                const next = [...cur];
                [next[from], next[to]] = [next[to] ?? null, next[from] ?? null];
                return next;
              })
            }
            onClear={(index) => {
              editTiles((cur) => cur.map((c, j) => (j === index ? null : c)));
              setFull(null);
            }}
            onToggleFull={(index) => setFull((cur) => (cur === index ? null : index))}
          />
        ))}
        {reaction.popup && (
          <WallAlertPopup alert={reaction.popup} interactive={interactive} onClose={reaction.dismissPopup} />
        )}
      </main>
      {showMap && !kiosk && mapConfig.status === 'ready' && (
        <WallMap
          config={mapConfig.config}
          points={points}
          networkIds={networkIds}
          onPlay={pick}
          onBox={showMany}
          onFirstRender={() => setMapDrawn(true)}
        />
      )}
    </div>
  );
}
