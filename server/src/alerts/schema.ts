import { z } from 'zod';
import { ALERT_LEVELS, ALERT_TYPES } from '../api/contract.ts';
import { positionInput } from '../cameras/schema.ts';
import { toWgs84 } from '../geo/coords.ts';
import { optionalSafeText, safeText } from '../http/text.ts';

/**
 * A position exactly as point registration takes it (`positionInput`: ranges,
 * coordinate system, 0,0 and out-of-range conversions refused), converted to WGS-84.
 */
export const position = positionInput.transform((p) => ({ point: toWgs84(p.system, p.lon, p.lat), system: p.system }));
export type PositionInput = z.output<typeof position>;

/** Free text from devices and officers: the one text policy (no control or bidi characters). */
const text = (max: number) => safeText({ max });
const longText = (max: number) => safeText({ max, multiline: true });

/** A device's post. Either a position or a camera must say where it happened. */
export const ingestSchema = z
  .object({
    type: z.enum(ALERT_TYPES).exclude(['camera_offline', 'manual']),
    level: z.enum(ALERT_LEVELS),
    position: position.optional(),
    cameraId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    title: text(200).optional(),
    description: longText(2000).optional(),
  })
  .strict()
  .refine((b) => b.position !== undefined || b.cameraId !== undefined, {
    path: ['position'],
    message: 'position or cameraId is required',
  });

/** An officer's manual report (网格员/值班员上报). */
export const reportSchema = z
  .object({
    type: z.enum(ALERT_TYPES).exclude(['camera_offline']).default('manual'),
    level: z.enum(ALERT_LEVELS),
    position,
    cameraId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    title: text(200),
    description: longText(2000).optional(),
  })
  .strict();

export const sourceSchema = z
  .object({
    name: text(100),
    orgUnitId: z.number().int().positive(),
    rateLimitPerMinute: z.number().int().min(1).max(100_000).optional(),
  })
  .strict();

export const actionSchema = z.object({ note: optionalSafeText({ max: 1000, multiline: true }) }).strict();

export const presetPlacesSchema = z
  .array(
    z
      .object({
        token: text(64),
        name: text(100),
        position,
      })
      .strict(),
  )
  .max(255)
  .refine((a) => new Set(a.map((p) => p.token)).size === a.length, { message: 'preset tokens must be unique' });
