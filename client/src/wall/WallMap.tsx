/**
 * The wall's map pane: every camera point of the jurisdiction, clustered when
 * zoomed out, coloured by network and status, with view cones when zoomed in
 * and open alerts by level. Click a point to play it; shift-drag a box to send
 * the points inside to the wall.
 *
 * The points come as the binary feed (GET /walls/points.bin) and are
 * clustered in the page (client/src/map/, issue 15): the map's source only
 * ever holds what the view shows, and status changes arrive as deltas
 * (`camera:status`) that patch the index in place; nothing is fetched again
 * until the registry itself changes.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type {
  ExpressionSpecification,
  GeoJSONSource,
  Map as MaplibreMap,
  MapMouseEvent,
  StyleSpecification,
} from 'maplibre-gl';
import type * as MaplibreModule from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import type { Feature, FeatureCollection, Point, Polygon } from 'geojson';
import type { MapConfig, PlaceSearchResult, ServerToClientEvents } from '@api/contract.ts';
import { useAlerts } from '../alerts/AlertsProvider.tsx';
import { STATUS_CODES } from '@api/point-feed.ts';
import { addClusterLayers, zoomIntoCluster } from '../map/clusterLayers.ts';
import { ClusterSource } from '../map/clusterSource.ts';
import type { PointIndex } from '../map/pointIndex.ts';
import {
  loadPointIndex,
  peekPrefetched,
  prefetchPointIndex,
  takePrefetched,
  whenPrefetched,
} from '../map/pointLoader.ts';
import { useRealtime } from '../realtime.tsx';
import { isAbort } from '../api.ts';
import { ALERT_LEVEL_COLORS, isOpen, levelRank } from '../alerts/alertColors.ts';
import { MapSearch } from '../components/MapSearch.tsx';
import { buildMapStyle, takeEarlyBasemap } from '../components/mapStyle.ts';
import { FirstPicture, type BasemapData, type PointLook } from '../map/firstPicture.ts';
import type { PointProps } from '../map/pointIndex.ts';
import { interpolateExpression, numberAt, type Stops } from '../map/stops.ts';
import { addPlaceLabels } from '../components/placeLayers.ts';
import { useI18n } from '../i18n.tsx';
import { networkColor } from '../networkColors.ts';
import { dragCamera } from './CameraTree.tsx';
import { viewCone, type WallPoint } from './model.ts';

const POINTS = 'wall-points';
/** The benchmark and the browser tests query these layer ids. */
const CLUSTER_LAYERS = { source: POINTS, clusters: 'wall-clusters', counts: 'wall-cluster-counts', points: POINTS };
/** The first view: every point of the jurisdiction. */
const FIT = { padding: 40, maxZoom: 15 };
const CONES = 'wall-cones';
const ALERTS = 'wall-alerts';
/** View cones appear from this zoom on (a few streets across). */
const CONE_ZOOM = 14;
const MAX_CONES = 3000;

const STATUS_STROKE = { online: '#e2f5ff', degraded: '#fbbf24', offline: '#ef4444', unknown: '#64748b' } as const;

/**
 * Small integer properties only (network index, status code): 50,000 features
 * are copied to maplibre's worker, and colours are looked up by the style.
 */
/** Colour by network id (the `net` property the server gives each feature). */
function networkColorExpression(networkIds: readonly string[]): ExpressionSpecification {
  if (!networkIds.length) return ['literal', '#94a3b8'];
  // match needs at least one label/value pair, which the check above guarantees.
  return [
    'match',
    ['get', 'net'],
    ...networkIds.flatMap((id) => [id, networkColor(id, networkIds)]),
    '#94a3b8',
  ] as unknown as ExpressionSpecification;
}

/** Registry edits come in bursts (an import): the feed is fetched again once they settle. */
const REFETCH_MS = 1_000;
/** A feed that failed (server restarting) is asked for again after this. */
const RETRY_MS = 5_000;

/** The ring colour by the feed's status code (STATUS_CODES: online 0, degraded 1, offline 2). */
const STROKE_BY_CODE = [STATUS_STROKE.online, STATUS_STROKE.degraded, STATUS_STROKE.offline];
const STATUS_STROKE_EXPRESSION = [
  'match',
  ['get', 's'],
  ...STROKE_BY_CODE.flatMap((color, code) => [code, color]),
  STATUS_STROKE.unknown,
] as unknown as ExpressionSpecification;

/** Around clusters and under their counts: the map's background tone. */
const OUTLINE = '#0b1220';
/** Single points: grey until the networks list colours them, ringed by status, faded when not online. */
const POINT_PAINT = {
  color: '#94a3b8',
  radius: [
    [8, 3],
    [12, 5],
    [16, 8],
  ] as Stops<number>,
  strokeWidth: 1.5,
  offlineOpacity: 0.55,
} as const;

/** A single point as the first picture draws it: POINT_PAINT, as the map's layer does. */
function pointLook(p: PointProps, zoom: number): PointLook {
  return {
    color: POINT_PAINT.color,
    radius: numberAt(POINT_PAINT.radius, zoom),
    stroke: STROKE_BY_CODE[p.s] ?? STATUS_STROKE.unknown,
    strokeWidth: POINT_PAINT.strokeWidth,
    opacity: p.on === 1 ? 1 : POINT_PAINT.offlineOpacity,
  };
}

const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };

type Maplibre = typeof MaplibreModule;
let maplibreModule: Promise<Maplibre> | null = null;

/**
 * maplibre (~1 MB) is not part of the page's entry: the wall renders, and its map's first picture is drawn,
 * without waiting for maplibre to download and compile (issue 15). The build preloads it from the start
 * (client/vite.config.ts), so it is usually ready when the map is made. A failed load is tried again.
 */
function loadMaplibre(): Promise<Maplibre> {
  maplibreModule ??= import('maplibre-gl').catch((err: unknown) => {
    maplibreModule = null;
    throw err;
  });
  return maplibreModule;
}

/**
 * Starts maplibre's worker before the map exists (while the page still waits for its configuration and
 * points): the worker's start is on the path to the map's first frame.
 */
export function prewarmMap(): void {
  loadMaplibre().then(
    (maplibre) => maplibre.prewarm(),
    () => undefined, // the map's own load reports it and tries again
  );
}

/**
 * Starts fetching and indexing the jurisdiction's points (in the point worker) while the page still waits
 * for the map (map.first_render50k). main.tsx already does it as the page's script starts on /wall; a wall
 * reached from another page starts here. Asked once: a second call while the first is fresh does nothing.
 */
export function prefetchMapPoints(): void {
  prefetchPointIndex('');
}

/** A style URL (a deployment's own tile server) is taken as it is; the built-in style gets no transitions. */
function withoutTransitions(style: StyleSpecification | string): StyleSpecification | string {
  return typeof style === 'string' ? style : { ...style, transition: { duration: 0, delay: 0 } };
}

export function WallMap(props: {
  config: MapConfig;
  points: readonly WallPoint[];
  networkIds: readonly string[];
  onPlay: (id: number) => void;
  onBox: (ids: number[]) => void;
  /** The first render with the points drawn (the page then loads what can wait, e.g. the tree's list). */
  onFirstRender?: () => void;
}) {
  const { config, points, networkIds } = props;
  const { t } = useI18n();
  const { alerts } = useAlerts();
  const { socket } = useRealtime();
  const containerRef = useRef<HTMLDivElement>(null);
  const mapRef = useRef<MaplibreMap | null>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  /** The first picture, until maplibre has drawn its own frame with the points (map/firstPicture.ts). */
  const pictureRef = useRef<FirstPicture | null>(null);
  /** The generated basemap and place names from the page's early answers (null: the map fetches them). */
  const earlyRef = useRef<BasemapData | null>(null);
  /** Counts the maps made (one per configuration): the feed is loaded for each. */
  const [mapEpoch, setMapEpoch] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const [box, setBox] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);
  const [hover, setHover] = useState<{ id: number; x: number; y: number } | null>(null);
  const hoverTimer = useRef<number | undefined>(undefined);
  const callbacks = useRef(props);
  const pointsRef = useRef(points);
  const clustersRef = useRef<ClusterSource | null>(null);
  /** The first view has been fitted to the feed (once; the officer's own moves are never undone). */
  const fitted = useRef(false);
  /** The alerts' source holds features (it is made empty with each map). */
  const alertsShown = useRef(false);
  /** Bumped to fetch the feed again (registry changes, a reconnect). */
  const [feedGeneration, setFeedGeneration] = useState(0);
  useLayoutEffect(() => {
    callbacks.current = props;
    pointsRef.current = points;
  });

  // The first picture, in the page's first frame: drawn as the map's box is laid out, when the feed asked for
  // as the page started is here (else when it comes, below), with the generated basemap and place names the
  // page's early answers brought (those are given to maplibre too: nothing is fetched again).
  useLayoutEffect(() => {
    const container = containerRef.current;
    const canvas = canvasRef.current;
    if (!container || !canvas) return;
    performance.mark('wall-map:mount');
    const early = config.basemap.type === 'generated' ? takeEarlyBasemap() : null;
    earlyRef.current = early;
    const picture = early
      ? new FirstPicture(canvas, container, early, { outline: OUTLINE, point: pointLook }, FIT)
      : null;
    pictureRef.current = picture;
    const ready = peekPrefetched();
    if (ready) picture?.draw(ready);
    // Still on its way: drawn when it comes, whether or not the map exists by then.
    else if (picture)
      whenPrefetched()?.then(
        (index) => picture.draw(index),
        () => undefined,
      );
    return () => {
      picture?.dismiss();
      pictureRef.current = null;
    };
  }, [config]);

  useEffect(() => {
    const container = containerRef.current;
    if (!container) return;
    /** Makes the map in `container`; returns what removes it. */
    function createMap(maplibre: Maplibre, container: HTMLDivElement): () => void {
      const picture = pictureRef.current;
      const early = earlyRef.current;
      // The feed asked for as the page started is usually here by now: the map opens on the view fitted to it,
      // so the basemap's first tiles are the view's (moving there later loads and draws the basemap twice).
      const ready = peekPrefetched();
      const bbox = ready?.columns.bbox;
      if (bbox) {
        fitted.current = true;
        container.dataset['fitted'] = 'true';
      }
      const map = new maplibre.Map({
        container,
        // No animated paint changes: a recolour (the networks list arriving) would otherwise hold 'idle' back.
        style: withoutTransitions(buildMapStyle(config, early?.basemap)),
        fadeDuration: 0,
        ...(bbox
          ? { bounds: [bbox[0], bbox[1], bbox[2], bbox[3]], fitBoundsOptions: FIT }
          : { center: config.center, zoom: config.zoom }),
        attributionControl: config.basemap.type === 'raster' ? { compact: true } : false,
        boxZoom: false,
        dragRotate: false,
        pitchWithRotate: false,
      });
      map.addControl(new maplibre.NavigationControl({ showCompass: false }), 'top-right');
      mapRef.current = map;
      // Made with the map, not with its style: the feed and status deltas may arrive before the style has loaded.
      // The benchmark and the tests read when the clusters were first drawn: the first 'idle' (basemap, labels
      // and the view's clusters all drawn) after the first points were handed to the source.
      let first = true;
      clustersRef.current = new ClusterSource(map, POINTS, (features) => {
        if (!first || !features) return;
        first = false;
        performance.mark('wall-map:points-set');
        // For the benchmark's phases: the first frame drawn with the points' source loaded (the basemap may still be loading).
        const drawn = () => {
          if (!map.getSource(POINTS) || !map.isSourceLoaded(POINTS)) return;
          map.off('render', drawn);
          performance.mark('wall-map:clusters-drawn');
        };
        map.on('render', drawn);
        map.once('idle', () => {
          picture?.dismiss();
          container.dataset['mapState'] = 'ready';
          container.dataset['readyAt'] = String(Math.round(performance.now()));
          callbacks.current.onFirstRender?.();
        });
      });
      // Until the map's own frame the picture shows the map's camera: the officer's own move removes it; the
      // map's fit, a new size of its box or a difference from the picture's own fit draw it again.
      const follow = () => {
        const c = map.getCenter();
        picture?.follow(c.lng, c.lat, map.getZoom());
      };
      follow();
      map.on('move', (e: { originalEvent?: unknown }) => (e.originalEvent ? picture?.dismiss() : follow()));
      map.on('resize', follow);
      // Phases of the first render for the benchmark (npm run bench:map): the basemap's first full draw.
      map.once('load', () => performance.mark('wall-map:basemap'));
      // A handle for the browser tests (project a point to a pixel, wait for 'idle'); nothing else reads it.
      Object.defineProperty(container, 'wallMap', { value: map, configurable: true });
      // On the style, not on 'load': the view's clusters can be handed over while the basemap is still
      // being drawn, instead of after it (map.first_render50k).
      map.once('style.load', () => {
        // Not clustered by maplibre: it holds only the view's clusters and points (map/clusterSource.ts).
        map.addSource(CONES, { type: 'geojson', data: EMPTY });
        map.addSource(ALERTS, { type: 'geojson', data: EMPTY });
        // Place names under everything of ours (issue 17): text drawn with local glyphs, nothing fetched.
        addPlaceLabels(map, undefined, early?.places ?? undefined);
        map.addLayer({
          id: CONES,
          type: 'fill',
          source: CONES,
          minzoom: CONE_ZOOM,
          paint: { 'fill-color': ['get', 'color'], 'fill-opacity': 0.22, 'fill-outline-color': ['get', 'color'] },
        });
        addClusterLayers(map, CLUSTER_LAYERS, {
          outline: OUTLINE,
          pointPaint: {
            'circle-color': POINT_PAINT.color,
            'circle-radius': interpolateExpression(['zoom'], POINT_PAINT.radius),
            'circle-stroke-color': STATUS_STROKE_EXPRESSION,
            'circle-stroke-width': POINT_PAINT.strokeWidth,
            'circle-opacity': ['case', ['==', ['get', 'on'], 1], 1, POINT_PAINT.offlineOpacity],
          },
        });
        map.addLayer({
          id: ALERTS,
          type: 'circle',
          source: ALERTS,
          paint: {
            'circle-color': ['get', 'color'],
            'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 6, 14, 11],
            'circle-opacity': 0.85,
            'circle-stroke-color': '#ffffff',
            'circle-stroke-width': 2,
          },
          layout: { 'circle-sort-key': ['get', 'rank'] },
        });
        performance.mark('wall-map:loaded');
        // A feed that arrived before the style is handed over now.
        clustersRef.current?.refresh();
        setLoaded(true);
      });
      map.on('click', POINTS, (e: MapMouseEvent & { features?: Feature[] }) => {
        const id = Number(e.features?.[0]?.properties?.['id']);
        if (Number.isInteger(id)) callbacks.current.onPlay(id);
      });
      map.on('click', CLUSTER_LAYERS.clusters, (e) => {
        zoomIntoCluster(map, e.features?.[0], clustersRef.current?.current ?? null);
      });
      for (const layer of [POINTS, CLUSTER_LAYERS.clusters]) {
        map.on('mouseenter', layer, () => (map.getCanvas().style.cursor = 'pointer'));
        map.on('mouseleave', layer, () => (map.getCanvas().style.cursor = ''));
      }
      // An unchanged empty source is not set again: each setData re-tiles the source in maplibre's worker, which
      // the first render waits for behind it (issue 15).
      let conesShown = false;
      const updateCones = () => {
        const source = map.getSource<GeoJSONSource>(CONES);
        if (!source) return;
        if (map.getZoom() < CONE_ZOOM) {
          if (conesShown) source.setData(EMPTY);
          conesShown = false;
          return;
        }
        conesShown = true;
        const b = map.getBounds();
        const features: Feature<Polygon>[] = [];
        for (const p of pointsRef.current) {
          if (p.direction === null || !b.contains([p.lon, p.lat])) continue;
          features.push({
            type: 'Feature',
            geometry: { type: 'Polygon', coordinates: [viewCone(p.lon, p.lat, p.direction, p.fov ?? 60, 60)] },
            properties: { color: networkColor(p.networkId, callbacks.current.networkIds) },
          });
          if (features.length >= MAX_CONES) break;
        }
        source.setData({ type: 'FeatureCollection', features });
      };
      map.on('moveend', updateCones);

      // Hovering a point shows a small card that can be dragged onto a tile (a canvas cannot start a drag itself).
      map.on('mousemove', POINTS, (e: MapMouseEvent & { features?: Feature[] }) => {
        const id = Number(e.features?.[0]?.properties?.['id']);
        window.clearTimeout(hoverTimer.current);
        if (Number.isInteger(id)) setHover({ id, x: e.point.x, y: e.point.y });
      });
      map.on('mouseleave', POINTS, () => {
        window.clearTimeout(hoverTimer.current);
        hoverTimer.current = window.setTimeout(() => setHover(null), 2_000);
      });
      return () => {
        clustersRef.current?.detach();
        clustersRef.current = null;
        map.remove();
        mapRef.current = null;
        alertsShown.current = false;
        setLoaded(false);
      };
    }
    let remove: (() => void) | null = null;
    let timer: number | undefined;
    let frame = 0;
    let gone = false;
    // maplibre's construction holds the main thread 0.1–0.25 s (its WebGL context, its style): it is made
    // just after the frame that shows the page and the first picture, not before that frame (issue 15).
    const make = () => {
      frame = requestAnimationFrame(() => {
        timer = window.setTimeout(() => {
          loadMaplibre().then(
            (maplibre) => {
              if (gone) return;
              remove = createMap(maplibre, container);
              setMapEpoch((n) => n + 1);
            },
            (err: unknown) => {
              console.warn('map module', err);
              // A wall has no one to press retry.
              if (!gone) timer = window.setTimeout(make, RETRY_MS);
            },
          );
        }, 0);
      });
    };
    make();
    return () => {
      gone = true;
      cancelAnimationFrame(frame);
      window.clearTimeout(timer);
      remove?.();
    };
  }, [config]);

  // The feed: fetched with the map (and again after registry changes), clustered here. The first view is
  // fitted to it once, as soon as it arrives, even before the style has loaded: the basemap's first tiles
  // are then those of the fitted view (map.first_render50k). It holds every point of the jurisdiction (issue 17).
  useEffect(() => {
    const map = mapRef.current;
    const container = containerRef.current;
    if (!map || !container) return;
    const controller = new AbortController();
    let retry: number | undefined;
    const load = () => {
      performance.mark('wall-map:points-start');
      clustersRef.current?.fetching();
      const feed = takePrefetched() ?? loadPointIndex('', controller.signal);
      feed.then(
        (index: PointIndex) => {
          if (controller.signal.aborted) return;
          performance.mark('wall-map:indexed');
          const bbox = index.columns.bbox;
          if (!fitted.current && bbox) {
            fitted.current = true;
            const [w, s, e, n] = bbox;
            map.fitBounds(
              [
                [w, s],
                [e, n],
              ],
              { ...FIT, duration: 0 },
            );
            container.dataset['fitted'] = 'true';
          }
          // Before the style has loaded, the source takes it when it is made (style.load).
          clustersRef.current?.setIndex(index);
          // Not drawn at the mount (the index came later): drawn now, unless the map has drawn its own.
          pictureRef.current?.draw(index);
          container.dataset['points'] = String(index.count);
        },
        (err: unknown) => {
          // A wall has no one to press retry.
          if (!isAbort(err)) retry = window.setTimeout(load, RETRY_MS);
        },
      );
    };
    load();
    return () => {
      controller.abort();
      window.clearTimeout(retry);
    };
  }, [mapEpoch, feedGeneration]);

  // Status changes are deltas: the index is patched in place and the view redrawn; nothing is fetched.
  // Points added, moved or removed (and a reconnect, after which statuses may have moved) fetch the feed again.
  useEffect(() => {
    if (!socket) return;
    let timer: number | undefined;
    const refetch = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => setFeedGeneration((n) => n + 1), REFETCH_MS);
    };
    const onStatus: ServerToClientEvents['camera:status'] = (e) =>
      clustersRef.current?.setStatus(e.id, STATUS_CODES[e.status]);
    let connectedOnce = socket.connected;
    const onConnect = () => {
      if (connectedOnce) refetch();
      connectedOnce = true;
    };
    socket.on('camera:status', onStatus);
    socket.on('camera:changed', refetch);
    socket.on('registry:imported', refetch);
    socket.on('connect', onConnect);
    socket.on('realtime:resync', onConnect);
    return () => {
      window.clearTimeout(timer);
      socket.off('camera:status', onStatus);
      socket.off('camera:changed', refetch);
      socket.off('registry:imported', refetch);
      socket.off('connect', onConnect);
      socket.off('realtime:resync', onConnect);
    };
  }, [socket]);

  useEffect(() => {
    const map = mapRef.current;
    if (!map || !loaded || !map.getLayer(POINTS)) return;
    map.setPaintProperty(POINTS, 'circle-color', networkColorExpression(networkIds));
  }, [networkIds, loaded]);

  const goTo = (hit: PlaceSearchResult) => {
    const map = mapRef.current;
    if (!map) return;
    if (hit.bbox)
      map.fitBounds(
        [
          [hit.bbox[0], hit.bbox[1]],
          [hit.bbox[2], hit.bbox[3]],
        ],
        { padding: 40, maxZoom: 15 },
      );
    else map.flyTo({ center: [hit.position.lon, hit.position.lat], zoom: Math.max(map.getZoom(), 17) });
    // A camera found by name goes up on the wall, as a click on it in the tree does.
    if (hit.kind === 'camera') callbacks.current.onPlay(hit.id);
  };

  useEffect(() => {
    const map = mapRef.current;
    if (!map || !loaded) return;
    const features: Feature<Point>[] = alerts
      .filter((a) => isOpen(a.status))
      .map((a) => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [a.position.lon, a.position.lat] },
        properties: { id: a.id, color: ALERT_LEVEL_COLORS[a.level], rank: levelRank(a.level) },
      }));
    // Not set while it stays empty (the source starts empty): a setData re-tiles it in maplibre's worker.
    if (!features.length && !alertsShown.current) return;
    alertsShown.current = features.length > 0;
    map.getSource<GeoJSONSource>(ALERTS)?.setData({ type: 'FeatureCollection', features });
  }, [alerts, loaded]);

  // Shift-drag: a selection box instead of panning (maplibre's own box zoom is off).
  const onMouseDown = (e: React.MouseEvent) => {
    const map = mapRef.current;
    const container = containerRef.current;
    if (!e.shiftKey || !map || !container || e.button !== 0) return;
    e.preventDefault();
    e.stopPropagation();
    map.dragPan.disable();
    const rect = container.getBoundingClientRect();
    const x0 = e.clientX - rect.left;
    const y0 = e.clientY - rect.top;
    setBox({ x0, y0, x1: x0, y1: y0 });
    const move = (ev: MouseEvent) => setBox({ x0, y0, x1: ev.clientX - rect.left, y1: ev.clientY - rect.top });
    const up = (ev: MouseEvent) => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      map.dragPan.enable();
      setBox(null);
      const x1 = ev.clientX - rect.left;
      const y1 = ev.clientY - rect.top;
      if (Math.abs(x1 - x0) < 4 || Math.abs(y1 - y0) < 4) return;
      const a = map.unproject([Math.min(x0, x1), Math.max(y0, y1)]);
      const b = map.unproject([Math.max(x0, x1), Math.min(y0, y1)]);
      const ids = pointsRef.current
        .filter((p) => p.lon >= a.lng && p.lon <= b.lng && p.lat >= a.lat && p.lat <= b.lat)
        .map((p) => p.id);
      if (ids.length) callbacks.current.onBox(ids);
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  };

  const hovered = hover ? points.find((p) => p.id === hover.id) : undefined;
  return (
    <section className="wall-map" aria-label={t('wall.map')}>
      <div ref={containerRef} className="wall-map__canvas" onMouseDownCapture={onMouseDown} />
      <canvas ref={canvasRef} className="wall-map__picture" hidden aria-hidden="true" />
      <MapSearch onPick={goTo} className="wall-map__search" />
      {box && (
        <div
          className="wall-map__box"
          style={{
            left: Math.min(box.x0, box.x1),
            top: Math.min(box.y0, box.y1),
            width: Math.abs(box.x1 - box.x0),
            height: Math.abs(box.y1 - box.y0),
          }}
        />
      )}
      {hover && hovered && (
        <div
          className="wall-map__card"
          style={{ left: hover.x + 10, top: hover.y - 14 }}
          draggable
          onDragStart={(e) => dragCamera(e, hover.id)}
          onDragEnd={() => setHover(null)}
          onMouseEnter={() => window.clearTimeout(hoverTimer.current)}
          onMouseLeave={() => setHover(null)}
          title={t('wall.pickHint')}
        >
          <span className={`wall-status wall-status--${hovered.status}`} aria-hidden="true" />
          {hovered.name}
          <button type="button" className="wall-mini" onClick={() => props.onPlay(hover.id)}>
            {t('wall.play')}
          </button>
        </div>
      )}
      <p className="wall-map__hint">{t('wall.mapHint')}</p>
    </section>
  );
}
