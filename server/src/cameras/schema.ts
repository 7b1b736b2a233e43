import { z } from 'zod';
import { CAMERA_STATUSES, COORD_SYSTEMS } from '../api/contract.ts';
import { toWgs84 } from '../geo/coords.ts';
import { TEXT_MESSAGES, hasBidi, hasControl, optionalSafeText, safeText, secretText } from '../http/text.ts';

/**
 * Names and addresses follow the one text policy (server/src/http/text.ts): NFC, no control or
 * bidi characters, not blank once invisible characters are removed. Other modules (users, wall
 * screens) build their names with this too.
 */
export const plainText = (max: number) => safeText({ max });

/** Optional text: empty string and null both mean "none". */
const optionalText = (max: number) => optionalSafeText({ max });

export const gbCode = z.string().regex(/^\d{20}$/, 'must be a 20-digit GB/T 28181 code');

const STREAM_SCHEMES = new Set(['rtsp:', 'rtsps:', 'rtmp:', 'http:', 'https:']);
const ONVIF_SCHEMES = new Set(['http:', 'https:']);

function uri(schemes: Set<string>, label: string) {
  return z
    .string()
    .trim()
    .max(2048, 'at most 2048 characters')
    .superRefine((s, ctx) => {
      if (/\s/.test(s) || hasControl(s)) {
        ctx.addIssue({ code: 'custom', message: 'must not contain spaces or control characters' });
        return;
      }
      // A bidi override in a URI shows an operator one address and connects to another.
      if (hasBidi(s)) {
        ctx.addIssue({ code: 'custom', message: TEXT_MESSAGES.bidi });
        return;
      }
      if (!s.isWellFormed()) {
        ctx.addIssue({ code: 'custom', message: TEXT_MESSAGES.surrogate });
        return;
      }
      let u: URL;
      try {
        u = new URL(s);
      } catch {
        ctx.addIssue({ code: 'custom', message: `not a valid ${label} URL` });
        return;
      }
      if (!schemes.has(u.protocol)) {
        ctx.addIssue({
          code: 'custom',
          message: `scheme must be one of ${[...schemes].map((p) => p.slice(0, -1)).join(', ')}`,
        });
      } else if (!u.hostname) {
        ctx.addIssue({ code: 'custom', message: 'must name a host' });
      }
    });
}

const optionalUri = (schemes: Set<string>, label: string) =>
  z
    .union([z.literal('').transform(() => null), uri(schemes, label)])
    .nullable()
    .optional();

export const positionInput = z
  .object({
    lon: z
      .number()
      .min(-180, 'longitude must be between -180 and 180')
      .max(180, 'longitude must be between -180 and 180'),
    lat: z.number().min(-90, 'latitude must be between -90 and 90').max(90, 'latitude must be between -90 and 90'),
    system: z.enum(COORD_SYSTEMS).default('wgs84'),
  })
  .strict()
  // One rule for every position the platform takes (points, alerts, presets):
  // 0,0 is what a device without a fix sends (issue 11), and a BD-09 or GCJ-02
  // corner can convert out of range.
  .superRefine((p, ctx) => {
    if (p.lon === 0 && p.lat === 0) {
      ctx.addIssue({ code: 'custom', message: '0,0 is the position of a device without a fix' });
      return;
    }
    const [lon, lat] = toWgs84(p.system, p.lon, p.lat);
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90))
      ctx.addIssue({ code: 'custom', message: 'position is out of range after conversion to WGS-84' });
  });

export const credentialsInput = z
  .object({
    username: plainText(128),
    password: secretText({ max: 256 }),
  })
  .strict()
  .nullable();

const cameraShape = {
  code: z
    .union([z.literal('').transform(() => null), gbCode])
    .nullable()
    .optional(),
  name: plainText(128),
  networkId: z.string().min(1).max(32),
  orgUnitId: z.number().int().positive(),
  position: positionInput,
  address: optionalText(256),
  direction: z.number().min(0, 'must be 0–360 degrees').max(360, 'must be 0–360 degrees').nullable().optional(),
  fov: z.number().gt(0, 'must be more than 0 degrees').max(360, 'at most 360 degrees').nullable().optional(),
  onvifUrl: optionalUri(ONVIF_SCHEMES, 'ONVIF device service'),
  mainStreamUri: optionalUri(STREAM_SCHEMES, 'stream'),
  subStreamUri: optionalUri(STREAM_SCHEMES, 'stream'),
  credentials: credentialsInput.optional(),
  ptz: z.boolean().optional(),
  /** RTSP towards the camera: 'auto' tries TCP, then UDP, and remembers what worked (issue 12). */
  rtspTransport: z.enum(['auto', 'tcp', 'udp']).optional(),
};

export const cameraCreateSchema = z.object(cameraShape).strict();
export type CameraCreate = z.output<typeof cameraCreateSchema>;

export const cameraPatchSchema = z
  .object({ ...cameraShape, version: z.number().int().positive().optional() })
  .partial()
  .strict();
export type CameraPatch = z.output<typeof cameraPatchSchema>;

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const cameraQuerySchema = z
  .object({
    q: z.string().normalize('NFC').trim().max(100, 'at most 100 characters').optional(),
    org: z.coerce.number().int().positive().optional(),
    network: z.string().max(32).optional(),
    status: z.enum(CAMERA_STATUSES).optional(),
    ptz: bool.optional(),
    bbox: z
      .string()
      .transform((s, ctx) => {
        const parts = s.split(',').map((p) => Number(p));
        const [minLon = NaN, minLat = NaN, maxLon = NaN, maxLat = NaN] = parts;
        if (
          parts.length !== 4 ||
          parts.some((n) => !Number.isFinite(n)) ||
          minLon < -180 ||
          maxLon > 180 ||
          minLat < -90 ||
          maxLat > 90 ||
          minLon > maxLon ||
          minLat > maxLat
        ) {
          ctx.addIssue({ code: 'custom', message: 'must be minLon,minLat,maxLon,maxLat within WGS-84 range' });
          return z.NEVER;
        }
        return [minLon, minLat, maxLon, maxLat] as [number, number, number, number];
      })
      .optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().max(64).optional(),
    withTotal: bool.optional(),
  })
  .strict();
export type CameraQuery = z.output<typeof cameraQuerySchema>;

/** Cursors are opaque to clients; today they carry the last id seen. */
export function encodeCursor(lastId: number): string {
  return Buffer.from(`c1:${lastId}`).toString('base64url');
}
export function decodeCursor(cursor: string): number | null {
  const m = /^c1:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : null;
}
