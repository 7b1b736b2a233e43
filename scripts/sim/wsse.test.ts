import { describe, expect, it } from 'vitest';
import { NonceCache, usernameTokenHeader, verifyUsernameToken } from './wsse.ts';
import { FAULTS, childText, envelope, faultBody, parseDurationMs, parseSoapRequest } from './xml.ts';

const now = Date.parse('2024-05-01T08:00:00Z');
const check = (header: string, o: Partial<Parameters<typeof verifyUsernameToken>[1]> = {}) =>
  verifyUsernameToken(header, { username: 'admin', password: 'Sim12345678!', deviceNowMs: now, windowSec: 120, ...o });

describe('WS-UsernameToken PasswordDigest', () => {
  it('accepts a digest made with the device clock', () => {
    expect(check(usernameTokenHeader('admin', 'Sim12345678!', now - 5000))).toEqual({ ok: true, username: 'admin' });
  });

  it('refuses a Created time outside the window around the device clock', () => {
    expect(check(usernameTokenHeader('admin', 'Sim12345678!', now - 3600_000))).toEqual({ ok: false, reason: 'stale' });
    expect(check(usernameTokenHeader('admin', 'Sim12345678!', now + 121_000))).toEqual({ ok: false, reason: 'stale' });
  });

  it('refuses a wrong password, an unknown user, a missing token and a replay', () => {
    expect(check(usernameTokenHeader('admin', 'admin', now))).toEqual({ ok: false, reason: 'bad-password' });
    expect(check(usernameTokenHeader('root', 'Sim12345678!', now))).toEqual({ ok: false, reason: 'unknown-user' });
    expect(check('')).toEqual({ ok: false, reason: 'missing' });
    const nonces = new NonceCache();
    const h = usernameTokenHeader('admin', 'Sim12345678!', now);
    expect(check(h, { nonces }).ok).toBe(true);
    expect(check(h, { nonces })).toEqual({ ok: false, reason: 'replay' });
  });

  it('keeps the nonce cache bounded', () => {
    const c = new NonceCache(3);
    for (const n of ['a', 'b', 'c', 'd']) expect(c.remember(n, now, 1000)).toBe(true);
    expect(c.remember('a', now, 1000)).toBe(true);
    expect(c.remember('d', now, 1000)).toBe(false);
  });
});

describe('SOAP extraction', () => {
  it('finds the operation and its SOAP version', () => {
    const r = parseSoapRequest(
      '<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><!-- c --><tds:GetScopes/></SOAP-ENV:Body></SOAP-ENV:Envelope>',
    );
    expect(r).toMatchObject({ op: 'GetScopes', version: '1.1' });
  });

  it('refuses DTDs (no entity expansion, ever) and non-SOAP input', () => {
    expect(parseSoapRequest('<!DOCTYPE x [<!ENTITY a "b">]><Envelope><Body>&a;</Body></Envelope>')).toHaveProperty(
      'error',
    );
    expect(parseSoapRequest('hello')).toHaveProperty('error');
    expect(parseSoapRequest('<s:Envelope xmlns:s="x"><s:Body></s:Body></s:Envelope>')).toHaveProperty('error');
  });

  it('decodes only the predefined entities in text', () => {
    expect(childText('<a:Name>R&amp;D &lt;1&gt; &foo;</a:Name>', 'Name')).toBe('R&D <1> &foo;');
  });

  it('writes ONVIF faults in SOAP 1.2 and 1.1 shapes', () => {
    const f = FAULTS.notAuthorized();
    expect(f.httpStatus).toBe(400);
    expect(faultBody('1.2', f)).toContain('<env:Subcode><env:Value>ter:NotAuthorized</env:Value></env:Subcode>');
    expect(faultBody('1.1', f)).toContain('<faultcode>ter:NotAuthorized</faultcode>');
    expect(envelope('1.2', '<x/>')).toContain('xmlns:ter="http://www.onvif.org/ver10/error"');
  });

  it.each([
    ['PT1M', 60_000],
    ['PT10S', 10_000],
    ['PT0.5S', 500],
    ['PT1H2M3S', 3_723_000],
    ['P1D', 86_400_000],
    ['PT', undefined],
    ['10', undefined],
  ])('duration %s → %s ms', (s, ms) => {
    expect(parseDurationMs(s)).toBe(ms);
  });
});
