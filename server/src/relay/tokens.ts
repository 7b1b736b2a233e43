import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What a stream token grants: the session that asked for it (its user), one
 * camera point as it was when the ticket was issued, one quality, until
 * `exp` (epoch seconds). Holding the URL is not enough: every playlist and
 * segment request must come from that same session (issue 11).
 */
export interface StreamGrant {
  userId: number;
  cameraId: number;
  quality: 'main' | 'sub';
  exp: number;
  /** Keyed digest of the issuing session's token hash ({@link sessionRef}); never the token. */
  sessionRef: string;
  /** Keyed digest of the point's id and creation time ({@link cameraRef}): a reused id is another camera. */
  cameraRef: string;
}

const REF = /^[A-Za-z0-9_-]{16}$/;
const ref = (key: Buffer, label: string, value: string) =>
  createHmac('sha256', key).update(`${label}\0${value}`).digest('base64url').slice(0, 16);

/** 96 bits that name one session without revealing its token (the URL lands in logs and histories). */
export const sessionRef = (key: Buffer, tokenHash: string) => ref(key, 'session', tokenHash);

/** Names one camera point for its whole life: the same id given to a later point yields another ref. */
export const cameraRef = (key: Buffer, c: { id: number; createdAt: string }) =>
  ref(key, 'camera', `${c.id}@${c.createdAt}`);

/** Constant-time comparison of two refs. */
export function sameRef(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `<text as base64url>.<HMAC-SHA256>`: readable by anyone, unalterable without the key (stream and playback tickets). */
export function sealText(key: Buffer, text: string): string {
  const payload = Buffer.from(text).toString('base64url');
  return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
}

/** The text of a `sealText` token whose payload is at most `maxPayload` characters, or why it is refused. */
export function openSealed(key: Buffer, token: string, maxPayload: number): string | 'malformed' | 'forged' {
  const m = new RegExp(`^([A-Za-z0-9_-]{4,${maxPayload}})\\.([A-Za-z0-9_-]{43})$`).exec(token);
  if (!m) return 'malformed';
  const expected = createHmac('sha256', key).update(m[1]!).digest();
  const given = Buffer.from(m[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'forged';
  return Buffer.from(m[1]!, 'base64url').toString('utf8');
}

/**
 * Short-lived signed stream tokens, carried in the playlist URL path so that
 * hls.js inherits them for every segment: `<payload>.<HMAC-SHA256>`, both
 * base64url. Nothing secret is inside; the signature makes it unforgeable.
 */
export function signGrant(key: Buffer, g: StreamGrant): string {
  if (!REF.test(g.sessionRef) || !REF.test(g.cameraRef)) throw new Error('stream grant: malformed ref');
  return sealText(key, `${g.userId}.${g.cameraId}.${g.quality}.${g.exp}.${g.sessionRef}.${g.cameraRef}`);
}

export type GrantCheck = { ok: true; grant: StreamGrant } | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

export function verifyGrant(key: Buffer, token: string, nowSec: number): GrantCheck {
  const text = openSealed(key, token, 200);
  if (text === 'malformed' || text === 'forged') return { ok: false, reason: text };
  const f = /^(\d{1,15})\.(\d{1,15})\.(main|sub)\.(\d{1,12})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{16})$/.exec(text);
  // A correctly signed token of the older shape (no session) is refused like any malformed one.
  if (!f) return { ok: false, reason: 'malformed' };
  const grant: StreamGrant = {
    userId: Number(f[1]),
    cameraId: Number(f[2]),
    quality: f[3] as 'main' | 'sub',
    exp: Number(f[4]),
    sessionRef: f[5]!,
    cameraRef: f[6]!,
  };
  if (grant.exp <= nowSec) return { ok: false, reason: 'expired' };
  return { ok: true, grant };
}
