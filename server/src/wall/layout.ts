/**
 * Wall layouts as data: how many tiles each grid has, and the strict schema a
 * saved layout must pass. Pure: no database, no request.
 */
import { z } from 'zod';
import { ALERT_LEVELS, WALL_GRID_TILES, type WallGrid, type WallLayout } from '../api/contract.ts';

/** Tiles per grid; "1+5" is one big tile and five small ones. */
export const GRID_TILES: Readonly<Record<WallGrid, number>> = WALL_GRID_TILES;

export const WALL_GRIDS = Object.keys(GRID_TILES) as WallGrid[];

export const MAX_TOUR_CAMERAS = 256;
export const TOUR_MIN_SEC = 5;
export const TOUR_MAX_SEC = 3600;
/** How long an alert's cameras may hold tiles (issue 17). */
export const ALERT_HOLD_MIN_SEC = 10;
export const ALERT_HOLD_MAX_SEC = 3600;

const cameraId = z
  .number()
  .int('must be an integer')
  .positive('must be a positive camera id')
  .max(Number.MAX_SAFE_INTEGER);

export const wallLayoutSchema = z
  .object({
    grid: z.enum(WALL_GRIDS as [WallGrid, ...WallGrid[]]),
    tiles: z.array(cameraId.nullable()).max(16),
    tour: z
      .object({
        cameraIds: z
          .array(cameraId)
          .min(1, 'a tour needs at least one camera')
          .max(MAX_TOUR_CAMERAS, `at most ${MAX_TOUR_CAMERAS} cameras`),
        intervalSec: z
          .number()
          .int('must be an integer')
          .min(TOUR_MIN_SEC, `at least ${TOUR_MIN_SEC} s`)
          .max(TOUR_MAX_SEC, `at most ${TOUR_MAX_SEC} s`),
      })
      .strict()
      .nullable(),
    settings: z
      .object({
        large: z.boolean(),
        alertMinLevel: z.enum(ALERT_LEVELS),
        alertSound: z.boolean(),
        alertTiles: z
          .array(z.number().int().min(0).max(15, 'a tile index of at most 15'))
          .max(16)
          .refine((a) => new Set(a).size === a.length, 'each tile once'),
        alertHoldSec: z.number().int().min(ALERT_HOLD_MIN_SEC).max(ALERT_HOLD_MAX_SEC),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((layout, ctx) => {
    const want = GRID_TILES[layout.grid];
    if (layout.tiles.length !== want) {
      ctx.addIssue({
        code: 'custom',
        path: ['tiles'],
        message: `grid ${layout.grid} has ${want} tiles, got ${layout.tiles.length}`,
      });
    }
  });

export function emptyLayout(grid: WallGrid = '4'): WallLayout {
  return { grid, tiles: Array.from({ length: GRID_TILES[grid] }, () => null), tour: null };
}

/** Every camera a layout refers to, each once, with the dotted path of its first mention. */
export function camerasOf(layout: WallLayout): Map<number, string> {
  const out = new Map<number, string>();
  layout.tiles.forEach((id, i) => {
    if (id !== null && !out.has(id)) out.set(id, `layout.tiles.${i}`);
  });
  layout.tour?.cameraIds.forEach((id, i) => {
    if (!out.has(id)) out.set(id, `layout.tour.cameraIds.${i}`);
  });
  return out;
}
