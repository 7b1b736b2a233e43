import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a stream token grants: one user, one camera, one quality, until `exp` (epoch seconds). */
export interface StreamGrant {
  userId: number;
  cameraId: number;
  quality: 'main' | 'sub';
  exp: number;
}

/**
 * Short-lived signed stream tokens, carried in the playlist URL path so that
 * hls.js inherits them for every segment: `<payload>.<HMAC-SHA256>`, both
 * base64url. Nothing secret is inside; the signature makes it unforgeable.
 */
export function signGrant(key: Buffer, g: StreamGrant): string {
  const payload = Buffer.from(`${g.userId}.${g.cameraId}.${g.quality}.${g.exp}`).toString('base64url');
  const mac = createHmac('sha256', key).update(payload).digest('base64url');
  return `${payload}.${mac}`;
}

export type GrantCheck = { ok: true; grant: StreamGrant } | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

export function verifyGrant(key: Buffer, token: string, nowSec: number): GrantCheck {
  const m = /^([A-Za-z0-9_-]{4,200})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  const expected = createHmac('sha256', key).update(m[1]!).digest();
  const given = Buffer.from(m[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  const f = /^(\d{1,15})\.(\d{1,15})\.(main|sub)\.(\d{1,12})$/.exec(Buffer.from(m[1]!, 'base64url').toString('utf8'));
  if (!f) return { ok: false, reason: 'malformed' };
  const grant: StreamGrant = {
    userId: Number(f[1]),
    cameraId: Number(f[2]),
    quality: f[3] as 'main' | 'sub',
    exp: Number(f[4]),
  };
  if (grant.exp <= nowSec) return { ok: false, reason: 'expired' };
  return { ok: true, grant };
}
