/**
 * The one maplibre wrapper of the client: the registry map and the position
 * picker both use it. It owns the map instance; parents pass plain data
 * (points, selection, pin) and get plain callbacks back.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import {
  GeoJSONSource,
  Map as MaplibreMap,
  Marker,
  NavigationControl,
  type ExpressionSpecification,
  type MapMouseEvent,
} from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import type { FeatureCollection, Point } from 'geojson';
import type { MapConfig, Position, ServerToClientEvents } from '@api/contract.ts';
import { STATUS_CODES } from '@api/point-feed.ts';
import { isAbort } from '../api.ts';
import { NOT_CLUSTER, addClusterLayers, zoomIntoCluster } from '../map/clusterLayers.ts';
import { ClusterSource } from '../map/clusterSource.ts';
import type { PointIndex } from '../map/pointIndex.ts';
import { loadPointIndex } from '../map/pointLoader.ts';
import { useRealtime } from '../realtime.tsx';
import { boundsOf } from './geoBounds.ts';
import { buildMapStyle } from './mapStyle.ts';
import { addPlaceLabels } from './placeLayers.ts';

const container = (map: MaplibreMap): HTMLElement => map.getContainer();

export interface MapPoint {
  id: number;
  position: Position;
  color: string;
  /** Drawn faded: the point is known not to deliver video. */
  dim: boolean;
}

/** An alert on the map: coloured by level; `fresh` (status new) pulses. */
export interface MapAlert {
  id: number;
  position: Position;
  color: string;
  fresh: boolean;
  /** Higher draws on top (level rank). */
  rank: number;
}

/** [minLon, minLat, maxLon, maxLat] in WGS-84. */
export type Bbox = [number, number, number, number];

interface MapViewProps {
  config: MapConfig;
  points?: readonly MapPoint[];
  alerts?: readonly MapAlert[];
  selectedId?: number | null;
  onPointClick?: (id: number) => void;
  onMapClick?: (position: Position) => void;
  onViewChange?: (bbox: Bbox) => void;
  /** A single marker, e.g. the position being edited. */
  pin?: Position | null;
  /** Each new value fits the view to `points` (or, with `pointsFeed`, to the points it loads) once (null: never move on its own). */
  fitKey?: string | null;
  /**
   * Draw the points of the binary feed (GET /walls/points.bin with this query: the registry's filters)
   * instead of `points`: the registry map draws every point of its filter, not only the loaded page
   * (issue 17), clustered above CLUSTER_ABOVE points (issue 15); statuses follow `camera:status` as deltas.
   * A new value (the caller bumps a `g=` generation after registry changes) fetches again.
   */
  pointsFeed?: string | null;
  /** Colours by network id, for `pointsFeed` points. */
  networkColors?: Readonly<Record<string, string>>;
  /** Each new `key` moves the view: to `bbox` when given, else to `center`. */
  flyTo?: { key: string; center: Position; bbox: Bbox | null } | null;
  /** Township and village names, drawn as text by the map (glyphs rendered locally, nothing fetched). */
  showPlaceLabels?: boolean;
  /** Where to open instead of the configured centre (read once, when the map is created). */
  initialCenter?: Position | null;
  className?: string;
}

const CAMERA_SOURCE = 'cameras';
const CAMERA_LAYER = 'cameras';
const SELECTED_LAYER = 'cameras-selected';
const ALERT_SOURCE = 'alerts';
const ALERT_LAYER = 'alerts';
const ALERT_PULSE_LAYER = 'alerts-pulse';
const NO_ALERTS: readonly MapAlert[] = [];
const NO_POINTS: readonly MapPoint[] = [];
const NO_SELECTION: ExpressionSpecification = ['==', ['get', 'id'], -1];
const CLUSTER_LAYER = 'cameras-clusters';
const CLUSTER_COUNT_LAYER = 'cameras-cluster-counts';
/**
 * Up to this many points the registry map draws every point by itself (a technician places and checks
 * points); above it, clusters until the last cluster zoom (50,000 dots would hide the map and each other).
 */
const CLUSTER_ABOVE = 5_000;

function toFeatureCollection(points: readonly MapPoint[]): FeatureCollection<Point> {
  return {
    type: 'FeatureCollection',
    features: points.map((p) => ({
      type: 'Feature',
      id: p.id,
      geometry: { type: 'Point', coordinates: [p.position.lon, p.position.lat] },
      properties: { id: p.id, color: p.color, dim: p.dim },
    })),
  };
}

function addCameraLayers(map: MaplibreMap): void {
  // Clusters of the point feed (map/pointIndex.ts), or every point when there are few (CLUSTER_ABOVE).
  addClusterLayers(
    map,
    { source: CAMERA_SOURCE, clusters: CLUSTER_LAYER, counts: CLUSTER_COUNT_LAYER, points: CAMERA_LAYER },
    {
      outline: '#06101a',
      pointPaint: {
        'circle-color': ['get', 'color'],
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 2.5, 12, 4.5, 16, 8],
        'circle-opacity': ['case', ['get', 'dim'], 0.5, 0.95],
        'circle-stroke-color': ['case', ['get', 'dim'], '#64748b', '#06101a'],
        'circle-stroke-width': 1,
      },
    },
  );
  map.addLayer({
    id: SELECTED_LAYER,
    type: 'circle',
    source: CAMERA_SOURCE,
    filter: ['all', NOT_CLUSTER, NO_SELECTION],
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 8, 12, 10, 16, 14],
      'circle-color': 'rgba(255,255,255,0.12)',
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 2.5,
    },
  });
}

function alertCollection(alerts: readonly MapAlert[]): FeatureCollection<Point> {
  return {
    type: 'FeatureCollection',
    features: alerts.map((a) => ({
      type: 'Feature',
      id: a.id,
      geometry: { type: 'Point', coordinates: [a.position.lon, a.position.lat] },
      properties: { id: a.id, color: a.color, fresh: a.fresh, rank: a.rank },
    })),
  };
}

function addAlertLayers(map: MaplibreMap): void {
  map.addSource(ALERT_SOURCE, { type: 'geojson', data: alertCollection([]) });
  map.addLayer({
    id: ALERT_PULSE_LAYER,
    type: 'circle',
    source: ALERT_SOURCE,
    filter: ['==', ['get', 'fresh'], true],
    paint: {
      'circle-color': 'rgba(0,0,0,0)',
      'circle-radius': 10,
      'circle-stroke-color': ['get', 'color'],
      'circle-stroke-width': 2,
      'circle-stroke-opacity': 0.8,
    },
  });
  map.addLayer({
    id: ALERT_LAYER,
    type: 'circle',
    source: ALERT_SOURCE,
    layout: { 'circle-sort-key': ['get', 'rank'] },
    paint: {
      'circle-color': ['get', 'color'],
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 5, 12, 7, 16, 10],
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 1.5,
    },
  });
}

function bboxOf(map: MaplibreMap): Bbox {
  const b = map.getBounds();
  const round = (n: number) => Math.round(n * 1e6) / 1e6;
  return [round(b.getWest()), round(b.getSouth()), round(b.getEast()), round(b.getNorth())];
}

/** Paint for points of the feed: coloured by network, faded when offline (status code 2). */
function urlPointPaint(map: MaplibreMap, colors: Readonly<Record<string, string>>): void {
  const pairs = Object.entries(colors).flat();
  const color: ExpressionSpecification = pairs.length
    ? (['match', ['get', 'net'], ...pairs, '#94a3b8'] as unknown as ExpressionSpecification)
    : ['literal', '#94a3b8'];
  map.setPaintProperty(CAMERA_LAYER, 'circle-color', color);
  map.setPaintProperty(CAMERA_LAYER, 'circle-opacity', ['case', ['==', ['get', 's'], 2], 0.5, 0.95]);
  map.setPaintProperty(CAMERA_LAYER, 'circle-stroke-color', ['case', ['==', ['get', 's'], 2], '#64748b', '#06101a']);
}

function pinElement(): HTMLElement {
  const el = document.createElement('div');
  el.className = 'map-pin';
  return el;
}

export function MapView({
  config,
  points = NO_POINTS,
  alerts = NO_ALERTS,
  selectedId = null,
  onPointClick,
  onMapClick,
  onViewChange,
  pin = null,
  fitKey = null,
  pointsFeed = null,
  networkColors,
  flyTo = null,
  showPlaceLabels = false,
  initialCenter = null,
  className,
}: MapViewProps) {
  const containerRef = useRef<HTMLDivElement>(null);
  const mapRef = useRef<MaplibreMap | null>(null);
  const [ready, setReady] = useState(false);
  const { socket } = useRealtime();
  const clustersRef = useRef<ClusterSource | null>(null);
  /** The feed last loaded and the query it answers (the first view is fitted to it). */
  const [feed, setFeed] = useState<{ query: string; index: PointIndex } | null>(null);

  // Latest callbacks and data, read by map event handlers bound once per map instance.
  const latest = useRef({ onPointClick, onMapClick, onViewChange, points, initialCenter });
  useLayoutEffect(() => {
    latest.current = { onPointClick, onMapClick, onViewChange, points, initialCenter };
  });

  useEffect(() => {
    const container = containerRef.current;
    if (!container) return;
    const start = latest.current.initialCenter;
    const map = new MaplibreMap({
      container,
      style: buildMapStyle(config),
      center: start ? [start.lon, start.lat] : config.center,
      zoom: start ? Math.max(config.zoom, 13) : config.zoom,
      attributionControl: config.basemap.type === 'raster' ? { compact: true } : false,
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      maxPitch: 0,
    });
    map.touchZoomRotate.disableRotation();
    map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
    mapRef.current = map;

    // A handle for the browser tests (project points, wait for 'idle'); nothing else reads it.
    Object.defineProperty(container, 'maplibre', { value: map, configurable: true });

    const emitView = () => latest.current.onViewChange?.(bboxOf(map));

    map.on('load', () => {
      // Names under the points: a point is never hidden by a label.
      if (showPlaceLabels) addPlaceLabels(map);
      addCameraLayers(map);
      addAlertLayers(map);
      clustersRef.current = new ClusterSource(map, CAMERA_SOURCE, undefined, CLUSTER_ABOVE);
      setReady(true);
      emitView();
    });
    map.on('moveend', emitView);

    map.on('click', (e: MapMouseEvent) => {
      const { onPointClick: pointClick, onMapClick: mapClick } = latest.current;
      if (pointClick && map.getLayer(CAMERA_LAYER)) {
        const { x, y } = e.point;
        const hit = map.queryRenderedFeatures(
          [
            [x - 4, y - 4],
            [x + 4, y + 4],
          ],
          { layers: [CAMERA_LAYER] },
        )[0];
        const id: unknown = hit?.properties['id'];
        if (typeof id === 'number') {
          pointClick(id);
          return;
        }
      }
      const cluster = map.getLayer(CLUSTER_LAYER)
        ? map.queryRenderedFeatures(e.point, { layers: [CLUSTER_LAYER] })[0]
        : undefined;
      if (zoomIntoCluster(map, cluster, clustersRef.current?.current ?? null)) return;
      const lngLat = e.lngLat.wrap();
      mapClick?.({ lon: lngLat.lng, lat: lngLat.lat });
    });
    map.on('mouseenter', CAMERA_LAYER, () => {
      if (latest.current.onPointClick) map.getCanvas().style.cursor = 'pointer';
    });
    map.on('mouseleave', CAMERA_LAYER, () => {
      map.getCanvas().style.cursor = '';
    });

    map.on('error', (e) => console.warn('map error', e.error));

    // maplibre only tracks window resizes; panels and dialogs resize the container too.
    const observer = new ResizeObserver(() => map.resize());
    observer.observe(container);

    return () => {
      observer.disconnect();
      clustersRef.current?.detach();
      clustersRef.current = null;
      map.remove();
      mapRef.current = null;
      setReady(false);
    };
  }, [config, showPlaceLabels]);

  useEffect(() => {
    const source = mapRef.current?.getSource(CAMERA_SOURCE);
    if (!ready || pointsFeed !== null || !(source instanceof GeoJSONSource)) return;
    void source.setData(toFeatureCollection(points));
  }, [ready, points, pointsFeed]);

  // The feed (it can be tens of thousands of points): clustered here, only the view handed to maplibre.
  useEffect(() => {
    if (!ready || pointsFeed === null) return;
    const controller = new AbortController();
    clustersRef.current?.fetching();
    // Fetched and indexed in the point worker (map/pointLoader.ts): the page only receives the arrays.
    loadPointIndex(pointsFeed, controller.signal).then(
      (index) => {
        clustersRef.current?.setIndex(index);
        setFeed({ query: pointsFeed, index });
      },
      (err: unknown) => {
        if (!isAbort(err)) console.warn('point feed', err);
      },
    );
    return () => controller.abort();
  }, [ready, pointsFeed]);

  // Status changes are deltas on the loaded feed: nothing is fetched again.
  useEffect(() => {
    if (!socket || pointsFeed === null) return;
    const onStatus: ServerToClientEvents['camera:status'] = (e) =>
      clustersRef.current?.setStatus(e.id, STATUS_CODES[e.status]);
    socket.on('camera:status', onStatus);
    return () => {
      socket.off('camera:status', onStatus);
    };
  }, [socket, pointsFeed]);

  useEffect(() => {
    const map = mapRef.current;
    if (ready && map && pointsFeed !== null) urlPointPaint(map, networkColors ?? {});
  }, [ready, pointsFeed, networkColors]);

  useEffect(() => {
    const source = mapRef.current?.getSource(ALERT_SOURCE);
    if (ready && source instanceof GeoJSONSource) source.setData(alertCollection(alerts));
  }, [ready, alerts]);

  const pulsing = alerts.some((a) => a.fresh);
  useEffect(() => {
    const map = mapRef.current;
    if (!ready || !map || !pulsing) return;
    // A ring that grows and fades around new alerts, at about 15 frames a second.
    const timer = window.setInterval(() => {
      if (!map.getLayer(ALERT_PULSE_LAYER)) return;
      const phase = (performance.now() % 1500) / 1500;
      map.setPaintProperty(ALERT_PULSE_LAYER, 'circle-radius', 8 + phase * 18);
      map.setPaintProperty(ALERT_PULSE_LAYER, 'circle-stroke-opacity', 0.9 * (1 - phase));
    }, 66);
    return () => window.clearInterval(timer);
  }, [ready, pulsing]);

  useEffect(() => {
    const map = mapRef.current;
    if (!ready || !map) return;
    map.setFilter(SELECTED_LAYER, [
      'all',
      NOT_CLUSTER,
      selectedId === null ? NO_SELECTION : ['==', ['get', 'id'], selectedId],
    ]);
    const selected = latest.current.points.find((p) => p.id === selectedId);
    if (selected && !map.getBounds().contains([selected.position.lon, selected.position.lat])) {
      map.easeTo({ center: [selected.position.lon, selected.position.lat] });
    }
  }, [ready, selectedId]);

  const lastFit = useRef<string | null>(null);
  useEffect(() => {
    const map = mapRef.current;
    if (!ready || !map || fitKey === null || fitKey === lastFit.current) return;
    const fit = (bbox: Bbox | null) => {
      if (!bbox) return;
      lastFit.current = fitKey;
      // The first view of the page lands at once; later ones (a new filter) move smoothly.
      const first = container(map).dataset['fitted'] !== 'true';
      map.fitBounds(
        [
          [bbox[0], bbox[1]],
          [bbox[2], bbox[3]],
        ],
        { padding: 48, maxZoom: 15, duration: first ? 0 : 600 },
      );
      container(map).dataset['fitted'] = 'true';
    };
    if (pointsFeed === null) {
      fit(boundsOf(points.map((p) => p.position)));
      return;
    }
    // Fitted once the feed of this selection has arrived.
    if (feed?.query === pointsFeed) fit(feed.index.columns.bbox);
  }, [ready, fitKey, points, pointsFeed, feed]);

  const lastFly = useRef<string | null>(null);
  useEffect(() => {
    const map = mapRef.current;
    if (!ready || !map || !flyTo || flyTo.key === lastFly.current) return;
    lastFly.current = flyTo.key;
    if (flyTo.bbox)
      map.fitBounds(
        [
          [flyTo.bbox[0], flyTo.bbox[1]],
          [flyTo.bbox[2], flyTo.bbox[3]],
        ],
        { padding: 48, maxZoom: 15 },
      );
    else map.flyTo({ center: [flyTo.center.lon, flyTo.center.lat], zoom: Math.max(map.getZoom(), 16) });
  }, [ready, flyTo]);

  useEffect(() => {
    const map = mapRef.current;
    if (!map || !pin) return;
    const marker = new Marker({ element: pinElement(), anchor: 'bottom' }).setLngLat([pin.lon, pin.lat]).addTo(map);
    return () => {
      marker.remove();
    };
  }, [pin, config]);

  return <div ref={containerRef} className={`map-root ${className ?? ''}`} />;
}
