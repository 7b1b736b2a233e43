/** The zod schemas of work orders and wall pushes: what a request may carry, and the source of the OpenAPI text. */
import { z } from 'zod';
import {
  ALERT_LEVELS,
  COORD_SYSTEMS,
  ORDER_STATES,
  ORDER_STEP_ACTIONS,
  type OrderStepAction,
} from '../api/contract.ts';
import { optionalSafeText, safeText } from '../http/text.ts';
import { wallLayoutSchema } from '../wall/index.ts';

export type StepAction = OrderStepAction;
export const STEP_ACTIONS = ORDER_STEP_ACTIONS;

const positiveId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
// Order text follows the one text policy (server/src/http/text.ts): titles are one line, notes
// and descriptions keep newlines and tabs; no other control characters, no bidi overrides.
const noteText = (max: number) => optionalSafeText({ max, multiline: true });

export const createSchema = z
  .object({
    alertId: positiveId.optional(),
    title: safeText({ max: 200 }).optional(),
    description: noteText(4000),
    level: z.enum(ALERT_LEVELS).optional(),
    position: z
      .object({
        lon: z.number().min(73).max(136),
        lat: z.number().min(3).max(54),
        system: z.enum(COORD_SYSTEMS).optional(),
      })
      .strict()
      .optional(),
    orgUnitId: positiveId.optional(),
    cameraIds: z.array(positiveId).max(16).optional(),
    /** auto: 四事分办 routing; hold: stays with the creator; report_up: to the parent unit; or a unit id. */
    assignTo: z.union([z.enum(['auto', 'hold', 'report_up']), positiveId]).default('auto'),
  })
  .strict();

export const stepSchema = z
  .object({
    note: noteText(2000),
    targetOrgUnitId: positiveId.optional(),
    attachmentIds: z.array(positiveId).max(20).optional(),
    /** Take a JPEG from this linked camera now and attach it (feedback evidence). */
    snapshotCameraId: positiveId.optional(),
    version: z.number().int().positive().optional(),
  })
  .strict();

export const pushSchema = z
  .object({
    targetOrgUnitId: positiveId,
    screenId: positiveId.nullable().optional(),
    cameraIds: z.array(positiveId).max(16).optional(),
    layout: wallLayoutSchema.nullable().optional(),
    orderId: positiveId.nullable().optional(),
    note: noteText(200),
  })
  .strict();

export const listQuery = z
  .object({
    state: z
      .string()
      .max(100)
      .transform((s) => s.split(',').filter(Boolean))
      .pipe(z.array(z.enum(ORDER_STATES)))
      .optional(),
    mine: z.enum(['0', '1']).optional(),
    overdue: z.enum(['0', '1']).optional(),
    before: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date like 2026-11-01');
export type ListQuery = z.output<typeof listQuery>;

export const statsQuery = z
  .object({
    orgUnitId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    period: z.enum(['day', 'week', 'month', 'quarter']).default('month'),
    from: localDate.optional(),
    to: localDate.optional(),
  })
  .strict();
export type StatsQuery = z.output<typeof statsQuery>;
