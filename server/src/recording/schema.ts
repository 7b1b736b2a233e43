/** What callers send to /recording (zod: the validation and the OpenAPI text). */
import { z } from 'zod';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const instant = (label: string) =>
  z
    .string()
    .max(40)
    .refine((s) => !Number.isNaN(Date.parse(s)), `${label} must be a date and time (ISO 8601)`)
    .transform((s) => Date.parse(s));
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'a time like 08:30');

export const idParam = z.object({ id }).strict();

/** A time range: `from` and `to` as ISO 8601 date and time (checked further by the service: order, future, length). */
export const rangeQuery = z.object({ from: instant('from'), to: instant('to') }).strict();

/** Spans of a point: `device=false` leaves out the camera's own recordings (Profile G), asked by default. */
export const spansQuery = z
  .object({ from: instant('from'), to: instant('to'), device: z.enum(['true', 'false']).optional() })
  .strict();

/**
 * A playback: the platform's recordings of [from, to) (`source: platform`, the default), or the camera's own
 * replayed from `from` at `speed` (`source: device`, ONVIF Profile G; `to` bounds nothing there but is checked).
 */
export const playbackBody = z
  .object({
    from: instant('from'),
    to: instant('to'),
    source: z.enum(['platform', 'device']).default('platform'),
    speed: z.union([z.literal(0.5), z.literal(1), z.literal(2), z.literal(4), z.literal(8)]).default(1),
  })
  .strict();

export const planBody = z
  .object({
    /** A point of your jurisdiction … */
    cameraId: id.optional(),
    /** … or an org unit of it (every point below it that has no plan of its own). */
    orgUnitId: id.optional(),
    /** continuous: always; schedule: inside the weekly windows; alert: a rolling pre-roll kept around alerts. */
    mode: z.enum(['continuous', 'schedule', 'alert']),
    /** Weekly windows (ISO day 1 = Monday), local time of the platform (dispatch.utcOffsetMinutes). */
    schedule: z
      .array(z.object({ day: z.number().int().min(1).max(7), from: hhmm, to: hhmm }).strict())
      .max(50)
      .default([]),
    /** For `alert`: seconds kept before any alert. */
    preRollSeconds: z.number().int().min(5).max(600).default(30),
    retentionDays: z.number().int().min(1).max(365),
    enabled: z.boolean().default(true),
  })
  .strict();

export type PlanBody = z.infer<typeof planBody>;
