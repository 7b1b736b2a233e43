/** What callers send to /quality (zod: the validation and the OpenAPI text). */
import { z } from 'zod';
import { QUALITY_KINDS, QUALITY_STATUSES } from '../api/contract.ts';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const networkId = z.string().regex(/^[a-z][a-z0-9_-]{1,31}$/, 'has the wrong format');
const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date like 2026-11-01');

export const idParam = z.object({ id }).strict();

export const pointsQuery = z
  .object({
    /** A unit of your jurisdiction: its whole subtree. */
    org: id.optional(),
    network: networkId.optional(),
    quality: z.enum(QUALITY_STATUSES).optional(),
    kind: z.enum(QUALITY_KINDS).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    /** The last cameraId of the previous page. */
    cursor: id.optional(),
  })
  .strict();

export const sweepRequest = z
  .object({
    /** A township (or any unit) of your jurisdiction; default your own unit. */
    orgUnitId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    /** Only this network's points. */
    networkId: networkId.optional(),
  })
  .strict();

export const trendQuery = z
  .object({
    orgUnitId: id.optional(),
    network: networkId.optional(),
    period: z.enum(['day', 'week', 'month', 'quarter']).default('month'),
    from: localDate.optional(),
    to: localDate.optional(),
  })
  .strict();
