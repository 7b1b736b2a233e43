import { describe, expect, it } from 'vitest';
import { camerasOf, emptyLayout, GRID_TILES, wallLayoutSchema } from './layout.ts';

describe('wall layouts', () => {
  it('knows the tile count of every grid', () => {
    expect(GRID_TILES).toEqual({ '1': 1, '4': 4, '6': 6, '9': 9, '16': 16, '1+5': 6, '1+7': 8 });
    for (const grid of Object.keys(GRID_TILES) as (keyof typeof GRID_TILES)[]) {
      expect(wallLayoutSchema.safeParse(emptyLayout(grid)).success).toBe(true);
    }
  });

  it.each([
    [{ grid: '5', tiles: [], tour: null }, 'grid'],
    [{ grid: '4', tiles: [1, 2, 3], tour: null }, 'tiles'],
    [{ grid: '4', tiles: [1, 2, 3, 0], tour: null }, 'tiles.3'],
    [{ grid: '4', tiles: [1, 2, 3, 1.5], tour: null }, 'tiles.3'],
    [{ grid: '1', tiles: [null], tour: { cameraIds: [1], intervalSec: 4 } }, 'tour.intervalSec'],
    [{ grid: '1', tiles: [null], tour: { cameraIds: [1], intervalSec: 3601 } }, 'tour.intervalSec'],
    [{ grid: '1', tiles: [null], tour: { cameraIds: [], intervalSec: 10 } }, 'tour.cameraIds'],
    [
      { grid: '1', tiles: [null], tour: { cameraIds: Array.from({ length: 257 }, (_, i) => i + 1), intervalSec: 10 } },
      'tour.cameraIds',
    ],
    [{ grid: '1', tiles: [null], tour: null, extra: 1 }, ''],
  ])('refuses %j at %s', (input, path) => {
    const r = wallLayoutSchema.safeParse(input);
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('lists each camera once with where it first appears', () => {
    const ids = camerasOf({ grid: '4', tiles: [3, null, 3, 4], tour: { cameraIds: [4, 5], intervalSec: 10 } });
    expect([...ids]).toEqual([
      [3, 'layout.tiles.0'],
      [4, 'layout.tiles.3'],
      [5, 'layout.tour.cameraIds.1'],
    ]);
  });
});
