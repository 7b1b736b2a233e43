/**
 * Conversions between the three coordinate systems positions arrive in:
 * WGS-84 (GPS), GCJ-02 (the obfuscated system mandated for Chinese maps:
 * Amap, Tencent) and BD-09 (Baidu's further offset of GCJ-02).
 *
 * The GCJ-02 forward transform is the widely published approximation
 * (Krasovsky ellipsoid); its inverse has no closed form and is solved by
 * fixed-point iteration to well under a centimetre. Outside mainland China
 * GCJ-02 equals WGS-84, so the transforms are identity there.
 */
import type { CoordSystem } from '../api/contract.ts';

export type LonLat = readonly [lon: number, lat: number];

const A = 6378245.0; // Krasovsky 1940 semi-major axis
const EE = 0.006693421622965943; // eccentricity squared
const X_PI = (Math.PI * 3000.0) / 180.0;

/** Rough bounding box of mainland China, as used by the GCJ-02 rule itself. */
export function outOfChina(lon: number, lat: number): boolean {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function transformLat(x: number, y: number): number {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  return r;
}

function transformLon(x: number, y: number): number {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  return r;
}

export function wgs84ToGcj02(lon: number, lat: number): LonLat {
  if (outOfChina(lon, lat)) return [lon, lat];
  let dLat = transformLat(lon - 105.0, lat - 35.0);
  let dLon = transformLon(lon - 105.0, lat - 35.0);
  const radLat = (lat / 180.0) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dLon = (dLon * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [lon + dLon, lat + dLat];
}

export function gcj02ToWgs84(lon: number, lat: number): LonLat {
  if (outOfChina(lon, lat)) return [lon, lat];
  // Solve wgs84ToGcj02(w) = g: start from w = g and correct by the residual.
  let wLon = lon;
  let wLat = lat;
  for (let i = 0; i < 30; i++) {
    const [gLon, gLat] = wgs84ToGcj02(wLon, wLat);
    const eLon = gLon - lon;
    const eLat = gLat - lat;
    wLon -= eLon;
    wLat -= eLat;
    if (Math.abs(eLon) < 1e-10 && Math.abs(eLat) < 1e-10) break;
  }
  return [wLon, wLat];
}

export function gcj02ToBd09(lon: number, lat: number): LonLat {
  const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * X_PI);
  const theta = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * X_PI);
  return [z * Math.cos(theta) + 0.0065, z * Math.sin(theta) + 0.006];
}

export function bd09ToGcj02(lon: number, lat: number): LonLat {
  // The published closed-form inverse is off by up to ~15 cm; refine it
  // against the forward transform until the residual vanishes.
  const x = lon - 0.0065;
  const y = lat - 0.006;
  const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * X_PI);
  const theta = Math.atan2(y, x) - 0.000003 * Math.cos(x * X_PI);
  let gLon = z * Math.cos(theta);
  let gLat = z * Math.sin(theta);
  for (let i = 0; i < 10; i++) {
    const [bLon, bLat] = gcj02ToBd09(gLon, gLat);
    const eLon = bLon - lon;
    const eLat = bLat - lat;
    gLon -= eLon;
    gLat -= eLat;
    if (Math.abs(eLon) < 1e-11 && Math.abs(eLat) < 1e-11) break;
  }
  return [gLon, gLat];
}

/** Converts a position given in `system` to WGS-84. */
export function toWgs84(system: CoordSystem, lon: number, lat: number): LonLat {
  switch (system) {
    case 'wgs84':
      return [lon, lat];
    case 'gcj02':
      return gcj02ToWgs84(lon, lat);
    case 'bd09': {
      const [gLon, gLat] = bd09ToGcj02(lon, lat);
      return gcj02ToWgs84(gLon, gLat);
    }
  }
}

/** Converts a WGS-84 position to `system`. */
export function fromWgs84(system: CoordSystem, lon: number, lat: number): LonLat {
  switch (system) {
    case 'wgs84':
      return [lon, lat];
    case 'gcj02':
      return wgs84ToGcj02(lon, lat);
    case 'bd09': {
      const [gLon, gLat] = wgs84ToGcj02(lon, lat);
      return gcj02ToBd09(gLon, gLat);
    }
  }
}

/** Great-circle distance in metres. */
export function haversineMeters(a: LonLat, b: LonLat): number {
  const R = 6371008.8;
  const toRad = (d: number) => (d * Math.PI) / 180;
  const dLat = toRad(b[1] - a[1]);
  const dLon = toRad(b[0] - a[0]);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRad(a[1])) * Math.cos(toRad(b[1])) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(h));
}
