import { describe, expect, it } from 'vitest';
import { bearingDeg, centroid, pointInGeometry, rankLinkedCameras } from './geometry.ts';

const square = {
  type: 'Polygon',
  coordinates: [
    [
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
      [0, 0],
    ],
  ],
};
const withHole = {
  type: 'Polygon',
  coordinates: [
    square.coordinates[0],
    [
      [0.4, 0.4],
      [0.6, 0.4],
      [0.6, 0.6],
      [0.4, 0.6],
      [0.4, 0.4],
    ],
  ],
};

describe('pointInGeometry', () => {
  it('finds points inside, outside and in holes', () => {
    expect(pointInGeometry([0.5, 0.5], square)).toBe(true);
    expect(pointInGeometry([1.5, 0.5], square)).toBe(false);
    expect(pointInGeometry([0.5, 0.5], withHole)).toBe(false);
    expect(pointInGeometry([0.2, 0.2], withHole)).toBe(true);
    expect(
      pointInGeometry([2.5, 2.5], {
        type: 'MultiPolygon',
        coordinates: [
          square.coordinates,
          [
            [
              [2, 2],
              [3, 2],
              [3, 3],
              [2, 2],
            ],
          ],
        ],
      }),
    ).toBe(true);
    expect(pointInGeometry([0.5, 0.5], null)).toBe(false);
    expect(centroid(square)).toEqual([0.4, 0.4]);
  });
});

describe('rankLinkedCameras', () => {
  const p: [number, number] = [118.8, 31];
  const north = (m: number): [number, number] => [p[0], p[1] + m / 111_320];
  it('computes bearings clockwise from north', () => {
    expect(bearingDeg(north(100), p)).toBeCloseTo(180, 3);
    expect(bearingDeg(p, [p[0] + 0.001, p[1]])).toBeCloseTo(90, 1);
  });
  it('puts covering and PTZ first, omnidirectional next, drops those looking away or too far', () => {
    const cam = (id: number, at: [number, number], direction: number | null, ptz = false) => ({
      id,
      lon: at[0],
      lat: at[1],
      direction,
      fov: 60,
      ptz,
    });
    const ids = rankLinkedCameras(
      p,
      [
        cam(1, north(20), null),
        cam(2, north(150), 180),
        cam(3, north(100), 0),
        cam(4, north(250), 0, true),
        cam(5, north(350), 180),
        // 50 m south looking 350°: the point is at bearing 0°, inside the cone across north.
        cam(6, [p[0], p[1] - 50 / 111_320], 350),
      ],
      300,
      10,
    );
    expect(ids).toEqual([6, 2, 4, 1]);
    expect(rankLinkedCameras(p, [cam(1, north(20), null), cam(2, north(150), 180)], 300, 1)).toEqual([2]);
  });
});
