import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cameraRef, sameRef, sessionRef, signGrant, verifyGrant } from './tokens.ts';

const key = randomBytes(32);
const g = {
  userId: 7,
  cameraId: 42,
  quality: 'sub' as const,
  exp: 2_000_000_000,
  sessionRef: sessionRef(key, 'hash-of-a-session-token'),
  cameraRef: cameraRef(key, { id: 42, createdAt: '2024-01-01T00:00:00.000Z' }),
};

describe('stream tokens', () => {
  it('round-trips a grant', () => {
    expect(verifyGrant(key, signGrant(key, g), 1_900_000_000)).toEqual({ ok: true, grant: g });
  });
  it('refuses expired, forged, tampered and malformed tokens', () => {
    const t = signGrant(key, g);
    expect(verifyGrant(key, t, 2_000_000_000)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyGrant(randomBytes(32), t, 1)).toEqual({ ok: false, reason: 'forged' });
    const [payload, mac] = t.split('.');
    const other = Buffer.from(`7.43.sub.2000000000.${g.sessionRef}.${g.cameraRef}`).toString('base64url');
    expect(verifyGrant(key, `${other}.${mac}`, 1)).toEqual({ ok: false, reason: 'forged' });
    expect(verifyGrant(key, `${payload}`, 1)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyGrant(key, '../../etc/passwd', 1)).toEqual({ ok: false, reason: 'malformed' });
  });
  it('refuses a correctly signed token that names no session (the shape before issue 11)', () => {
    const old = Buffer.from('7.42.sub.2000000000').toString('base64url');
    const mac = createHmac('sha256', key).update(old).digest('base64url');
    expect(verifyGrant(key, `${old}.${mac}`, 1)).toEqual({ ok: false, reason: 'malformed' });
  });
  it('names sessions and camera lives by keyed digests that never contain the input', () => {
    const a = sessionRef(key, 'abc');
    expect(a).toMatch(/^[\w-]{16}$/);
    expect(sameRef(a, sessionRef(key, 'abc'))).toBe(true);
    expect(sameRef(a, sessionRef(key, 'abd'))).toBe(false);
    expect(sameRef(a, sessionRef(randomBytes(32), 'abc'))).toBe(false);
    // The same id created at another time is another camera.
    expect(cameraRef(key, { id: 1, createdAt: 'x' })).not.toBe(cameraRef(key, { id: 1, createdAt: 'y' }));
    expect(sameRef(a, 'short')).toBe(false);
  });
});
