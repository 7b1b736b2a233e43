/** The zod schemas of /api/v1/walls: what a request may carry, and the source of the OpenAPI text. */
import { z } from 'zod';
import { cameraQuerySchema, plainText } from '../cameras/schema.ts';
import { wallLayoutSchema } from './layout.ts';

export const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict();
/** The registry's filters (GET /cameras), without paging: the registry map draws the whole selection. */
export const pointFilterQuery = cameraQuerySchema
  .pick({ q: true, org: true, status: true, ptz: true })
  .extend({
    network: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{1,31}$/, 'a network id')
      .optional(),
    /** Ignored: a client's own generation counter, so the map's worker fetches again after a change. */
    g: z
      .string()
      .regex(/^\d{1,12}$/, 'a number')
      .optional(),
  })
  .strict();
export type PointFilterQuery = z.output<typeof pointFilterQuery>;
export const listQuery = z
  .object({ orgUnitId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional() })
  .strict();
export const createBody = z
  .object({
    name: plainText(64),
    orgUnitId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    layout: wallLayoutSchema.optional(),
  })
  .strict();
export type CreateWallBody = z.output<typeof createBody>;
export const layoutBody = z
  .object({ version: z.number().int().positive().max(Number.MAX_SAFE_INTEGER), layout: wallLayoutSchema })
  .strict();
export type LayoutBody = z.output<typeof layoutBody>;
const kioskToken = z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, 'not a kiosk token');
export const kioskBody = z.object({ token: kioskToken }).strict();
/**
 * POST /walls/kiosk. `cookie: false` opens a session for one browser window
 * only (bearer token in the answer, no cookie): an operator opening a kiosk
 * window on their own PC must not have their own session cookie replaced.
 */
export const kioskPostBody = z.object({ token: kioskToken, cookie: z.boolean().default(true) }).strict();
export const renameBody = z.object({ name: plainText(64) }).strict();
