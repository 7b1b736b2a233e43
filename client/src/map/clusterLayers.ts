/**
 * The cluster layers both maps draw over a ClusterSource (the wall's pane
 * and the registry's map, issue 15): a circle per cluster coloured by its
 * online share, its count as map text from local glyphs, and the single
 * points past the last cluster zoom, whose paint each map chooses.
 */
import type {
  ExpressionSpecification,
  FilterSpecification,
  LayerSpecification,
  Map as MaplibreMap,
  MapGeoJSONFeature,
} from 'maplibre-gl';
import { SYSTEM_FONTS } from './placeStyle.ts';
import type { PointIndex } from './pointIndex.ts';
import { interpolateExpression, type Stops } from './stops.ts';

export const IS_CLUSTER: FilterSpecification = ['has', 'point_count'];
export const NOT_CLUSTER: ExpressionSpecification = ['!', ['has', 'point_count']];

export interface ClusterLayerIds {
  /** The GeoJSON source the ClusterSource fills. */
  source: string;
  clusters: string;
  counts: string;
  /** Single points (and, with the registry's few points, every point). */
  points: string;
}

/**
 * How a cluster is drawn, as data (the wall's first picture, firstPicture.ts, draws from the same table):
 * coloured by its online share (green when every point is online, red when none is), sized by its count.
 */
export const CLUSTER_PAINT = {
  color: [
    [0, '#b91c1c'],
    [0.8, '#d97706'],
    [0.95, '#16a34a'],
  ] as Stops<string>,
  opacity: 0.8,
  radius: [
    [2, 10],
    [100, 18],
    [1000, 26],
    [10000, 36],
  ] as Stops<number>,
  strokeWidth: 2,
  textSize: 12,
  textColor: '#ffffff',
  textHaloWidth: 1,
} as const;

type PointPaint = Extract<LayerSpecification, { type: 'circle' }>['paint'];

/**
 * Adds the source (empty until the ClusterSource fills it) and its three layers, in drawing order.
 * `outline`: the map's background tone, around clusters and counts.
 */
export function addClusterLayers(
  map: MaplibreMap,
  ids: ClusterLayerIds,
  options: { outline: string; pointPaint: PointPaint },
): void {
  if (!map.getSource(ids.source))
    map.addSource(ids.source, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({
    id: ids.clusters,
    type: 'circle',
    source: ids.source,
    filter: IS_CLUSTER,
    paint: {
      'circle-color': interpolateExpression(['/', ['get', 'on'], ['get', 'point_count']], CLUSTER_PAINT.color),
      'circle-opacity': CLUSTER_PAINT.opacity,
      'circle-radius': interpolateExpression(['get', 'point_count'], CLUSTER_PAINT.radius),
      'circle-stroke-color': options.outline,
      'circle-stroke-width': CLUSTER_PAINT.strokeWidth,
    },
  });
  // Cluster sizes as text drawn by the map from local glyphs (placeLayers.ts): no glyph server, no DOM markers.
  map.addLayer({
    id: ids.counts,
    type: 'symbol',
    source: ids.source,
    filter: IS_CLUSTER,
    layout: {
      'text-field': ['get', 'point_count_abbreviated'],
      'text-font': [...SYSTEM_FONTS],
      'text-size': CLUSTER_PAINT.textSize,
      'text-allow-overlap': true,
    },
    paint: {
      'text-color': CLUSTER_PAINT.textColor,
      'text-halo-color': options.outline,
      'text-halo-width': CLUSTER_PAINT.textHaloWidth,
    },
  });
  map.addLayer({
    id: ids.points,
    type: 'circle',
    source: ids.source,
    filter: NOT_CLUSTER,
    paint: options.pointPaint,
  });
}

/** A click on a cluster: the view zooms in to where it splits. False when `feature` is not a cluster of `index`. */
export function zoomIntoCluster(
  map: MaplibreMap,
  feature: MapGeoJSONFeature | undefined,
  index: PointIndex | null,
): boolean {
  const clusterId = Number(feature?.properties['cluster_id']);
  if (!feature || !index || !Number.isInteger(clusterId) || feature.geometry.type !== 'Point') return false;
  const [lon, lat] = feature.geometry.coordinates as [number, number];
  map.easeTo({ center: [lon, lat], zoom: index.expansionZoom(clusterId) });
  return true;
}
