/**
 * How place names are drawn, as data: the map's label layers (placeLayers.ts) and the wall's first picture
 * (map/firstPicture.ts) read the same table. No imports: the node tests load it as it is.
 */

/** System fonts only (no web fonts on a private network); the first one the machine has is used. */
export const SYSTEM_FONTS = [
  'Microsoft YaHei',
  'PingFang SC',
  'Noto Sans CJK SC',
  'Source Han Sans SC',
  'WenQuanYi Micro Hei',
  'sans-serif',
];

/** How each level's names are drawn (the wall's first picture, map/firstPicture.ts, reads the same table). */
export interface PlaceLabelStyle {
  kind: 'township' | 'village';
  /** Text size in pixels. */
  size: number;
  color: string;
  minzoom: number;
}

export const PLACE_LABELS: readonly PlaceLabelStyle[] = [
  { kind: 'township', size: 15, color: '#dbe7f3', minzoom: 8 },
  { kind: 'village', size: 12, color: '#9fb4c8', minzoom: 11 },
];
/** The halo around every name, and the free space a name keeps around it (maplibre's text-padding). */
export const PLACE_HALO = { color: '#06101a', width: 1.6 } as const;
export const PLACE_TEXT_PADDING = 4;
