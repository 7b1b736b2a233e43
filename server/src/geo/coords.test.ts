import { describe, expect, it } from 'vitest';
import { bd09ToGcj02, fromWgs84, gcj02ToBd09, haversineMeters, outOfChina, toWgs84, wgs84ToGcj02 } from './coords.ts';

describe('coordinate systems', () => {
  const places: [string, number, number][] = [
    ['Beijing', 116.391, 39.907],
    ['Hefei', 117.227, 31.82],
    ['Kunming', 102.71, 25.04],
    ['Harbin', 126.63, 45.75],
  ];

  it.each(places)('GCJ-02 offsets %s by tens to hundreds of metres and inverts to under 1 cm', (_n, lon, lat) => {
    const g = wgs84ToGcj02(lon, lat);
    const d = haversineMeters([lon, lat], g);
    expect(d).toBeGreaterThan(10);
    expect(d).toBeLessThan(1000);
    const back = toWgs84('gcj02', g[0], g[1]);
    expect(haversineMeters([lon, lat], back)).toBeLessThan(0.01);
  });

  it.each(places)('BD-09 round trip for %s stays within 1 cm', (_n, lon, lat) => {
    const b = fromWgs84('bd09', lon, lat);
    expect(haversineMeters([lon, lat], b)).toBeGreaterThan(100);
    expect(haversineMeters([lon, lat], toWgs84('bd09', b[0], b[1]))).toBeLessThan(0.01);
  });

  it('BD-09 ↔ GCJ-02 are inverse to within centimetres', () => {
    const g: [number, number] = [118.8, 30.95];
    const back = bd09ToGcj02(...gcj02ToBd09(...g));
    expect(haversineMeters(g, back)).toBeLessThan(0.1);
  });

  it('leaves positions outside China unchanged under GCJ-02', () => {
    expect(outOfChina(2.35, 48.85)).toBe(true);
    expect(wgs84ToGcj02(2.35, 48.85)).toEqual([2.35, 48.85]);
    expect(toWgs84('gcj02', 2.35, 48.85)).toEqual([2.35, 48.85]);
  });

  it('WGS-84 is identity', () => {
    expect(toWgs84('wgs84', 118, 30)).toEqual([118, 30]);
  });
});
