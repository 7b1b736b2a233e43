/**
 * Display-only conversion of GCJ-02 / BD-09 input to WGS-84, so that the
 * position picker shows its pin where the point really is while a technician
 * types coordinates copied from Amap or Baidu. The server does the
 * authoritative conversion when the point is saved.
 */
import type { CoordSystem, Position } from '@api/contract.ts';

const A = 6378245.0; // Krasovsky 1940 semi-major axis, used by GCJ-02
const EE = 0.006693421622965943; // its first eccentricity squared
const X_PI = (Math.PI * 3000.0) / 180.0;

function outOfChina(lon: number, lat: number): boolean {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function transformLat(x: number, y: number): number {
  let ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  ret += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  ret += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  ret += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  return ret;
}

function transformLon(x: number, y: number): number {
  let ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  ret += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  ret += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  ret += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  return ret;
}

function wgs84ToGcj02({ lon, lat }: Position): Position {
  if (outOfChina(lon, lat)) return { lon, lat };
  let dLat = transformLat(lon - 105.0, lat - 35.0);
  let dLon = transformLon(lon - 105.0, lat - 35.0);
  const radLat = (lat / 180.0) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dLon = (dLon * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return { lon: lon + dLon, lat: lat + dLat };
}

function gcj02ToWgs84(gcj: Position): Position {
  if (outOfChina(gcj.lon, gcj.lat)) return gcj;
  // Invert the forward transform by fixed-point iteration; converges to < 1e-9° in a few steps.
  let guess = { ...gcj };
  for (let i = 0; i < 8; i++) {
    const forward = wgs84ToGcj02(guess);
    guess = { lon: guess.lon - (forward.lon - gcj.lon), lat: guess.lat - (forward.lat - gcj.lat) };
  }
  return guess;
}

function bd09ToGcj02({ lon, lat }: Position): Position {
  const x = lon - 0.0065;
  const y = lat - 0.006;
  const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * X_PI);
  const theta = Math.atan2(y, x) - 0.000003 * Math.cos(x * X_PI);
  return { lon: z * Math.cos(theta), lat: z * Math.sin(theta) };
}

export function toWgs84(position: Position, system: CoordSystem): Position {
  switch (system) {
    case 'wgs84':
      return position;
    case 'gcj02':
      return gcj02ToWgs84(position);
    case 'bd09':
      return gcj02ToWgs84(bd09ToGcj02(position));
  }
}
