import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signGrant, verifyGrant } from './tokens.ts';

const key = randomBytes(32);
const g = { userId: 7, cameraId: 42, quality: 'sub' as const, exp: 2_000_000_000 };

describe('stream tokens', () => {
  it('round-trips a grant', () => {
    expect(verifyGrant(key, signGrant(key, g), 1_900_000_000)).toEqual({ ok: true, grant: g });
  });
  it('refuses expired, forged, tampered and malformed tokens', () => {
    const t = signGrant(key, g);
    expect(verifyGrant(key, t, 2_000_000_000)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyGrant(randomBytes(32), t, 1)).toEqual({ ok: false, reason: 'forged' });
    const [payload, mac] = t.split('.');
    const other = Buffer.from('7.43.sub.2000000000').toString('base64url');
    expect(verifyGrant(key, `${other}.${mac}`, 1)).toEqual({ ok: false, reason: 'forged' });
    expect(verifyGrant(key, `${payload}`, 1)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyGrant(key, '../../etc/passwd', 1)).toEqual({ ok: false, reason: 'malformed' });
  });
});
