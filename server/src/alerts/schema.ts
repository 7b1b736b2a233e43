import { z } from 'zod';
import { ALERT_LEVELS, ALERT_STATUSES, ALERT_TYPES } from '../api/contract.ts';
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

/** A comma-separated list of values from `values` (`level=red,orange`); an unknown one is named in the message. */
const csvList = <T extends string>(values: readonly T[]) =>
  z
    .string()
    .max(200)
    .transform((s, ctx) => {
      const parts = s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      const unknown = parts.filter((p) => !(values as readonly string[]).includes(p));
      if (!parts.length || unknown.length) {
        ctx.addIssue({
          code: 'custom',
          message: `${unknown.length ? `unknown ${unknown.join(', ')}` : 'empty'}: one or more of ${values.join(', ')}`,
        });
        return z.NEVER;
      }
      return parts as T[];
    });

const instant = z.iso.datetime({ offset: true, message: 'an ISO 8601 date and time, e.g. 2026-11-01T08:00:00+08:00' });

/**
 * GET /alerts/search and /alerts/export.csv: the alert list by level, type,
 * status, place (an org unit and everything under it), time (alerts active
 * in [from, to]: last seen at or after `from`, first seen at or before `to`)
 * and text (title, description, or the alert's number). Newest first.
 */
const alertFilterFields = z
  .object({
    level: csvList(ALERT_LEVELS).optional(),
    type: csvList(ALERT_TYPES).optional(),
    status: csvList(ALERT_STATUSES).optional(),
    org: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    from: instant.optional(),
    to: instant.optional(),
    q: z.string().normalize('NFC').trim().max(100, 'at most 100 characters').optional(),
  })
  .strict();

const fromBeforeTo = (f: { from?: string | undefined; to?: string | undefined }) =>
  !f.from || !f.to || Date.parse(f.from) <= Date.parse(f.to);

export const alertSearchQuery = alertFilterFields
  .extend({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(100).optional(),
  })
  .refine(fromBeforeTo, { path: ['to'], message: 'must not be before from' });
export type AlertSearchQuery = z.output<typeof alertSearchQuery>;

/** The same filters for the CSV export (every matching alert, no paging). */
export const alertExportQuery = alertFilterFields
  .extend({ header: z.enum(['en', 'zh']).default('zh') })
  .refine(fromBeforeTo, { path: ['to'], message: 'must not be before from' });
export type AlertExportQuery = z.output<typeof alertExportQuery>;
