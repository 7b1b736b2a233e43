/** Accounts over real HTTP: login, cookie, bearer, logout, expiry, rate limiting, audit. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let nowMs = Date.now();
const login = (username: string, password: string, ip?: string) =>
  fetch(`${t.api}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(ip ? { 'x-forwarded-for': ip } : {}) },
    body: JSON.stringify({ username, password }),
  });

beforeAll(async () => {
  t = await startTestServer({
    clock: { now: () => new Date(nowMs) },
    overrides: {
      server: { port: 0, host: '127.0.0.1', trustProxy: true },
      security: { loginRateLimit: { windowSeconds: 600, maxAttempts: 3 } },
    },
  });
});
afterAll(async () => t?.close());

describe('login', () => {
  it('sets an httpOnly SameSite cookie that authenticates, and returns a bearer token', async () => {
    const res = await login('county', DEMO_PASSWORD);
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^ccc_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const body = (await res.json()) as { token: string; user: { role: string; permissions: string[] } };
    expect(body.user.role).toBe('county_officer');
    expect(body.user.permissions).not.toContain('camera.write');
    const me = await fetch(`${t.api}/auth/me`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(me.status).toBe(200);
    expect((await client(t.api, body.token).get('/auth/me')).json.username).toBe('county');
  });

  it('gives the same answer for a wrong password and an unknown user', async () => {
    const a = await login('viewer', 'wrong-password', '10.9.0.1');
    const b = await login('nobody-here', 'wrong-password', '10.9.0.1');
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    expect(await a.json()).toEqual(await b.json());
  });

  it.each([
    ['{}', 'username'],
    ['{"username":"a","password":"b","extra":1}', 'extra'],
    ['{"username":5,"password":"b"}', 'username'],
    ['[1,2]', 'body'],
  ])('rejects malformed login %s naming %s', async (body, path) => {
    const res = await fetch(`${t.api}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { fields: { path: string }[] } };
    expect(json.error.fields.map((f) => f.path)).toContain(path);
  });

  it('locks out after repeated failures with 429 and Retry-After, even for the right password', async () => {
    const ip = '10.9.0.2';
    for (let i = 0; i < 3; i++) expect((await login('tech', 'nope', ip)).status).toBe(401);
    const blocked = await login('tech', DEMO_PASSWORD, ip);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another address is not blocked for the same account.
    expect((await login('tech', DEMO_PASSWORD, '10.9.0.3')).status).toBe(200);
    // After the window the address may try again.
    nowMs += 601_000;
    expect((await login('tech', DEMO_PASSWORD, ip)).status).toBe(200);
  });

  it('logout ends the session', async () => {
    const token = await t.login('viewer');
    const c = client(t.api, token);
    expect((await c.get('/auth/me')).status).toBe(200);
    expect((await c.post('/auth/logout')).status).toBe(204);
    expect((await c.get('/auth/me')).status).toBe(401);
  });

  it('sessions expire', async () => {
    const c = client(t.api, await t.login('viewer'));
    expect((await c.get('/auth/me')).status).toBe(200);
    nowMs += 13 * 3600_000;
    expect((await c.get('/auth/me')).status).toBe(401);
  });

  it('audits logins with outcome and address', async () => {
    const admin = client(t.api, await t.login('admin'));
    const items = (await admin.get('/audit?action=auth.login&limit=500')).json.items as {
      outcome: string;
      ip: string;
      detail: { reason?: string } | null;
    }[];
    expect(items.some((i) => i.outcome === 'failed' && i.ip === '10.9.0.1')).toBe(true);
    expect(items.some((i) => i.outcome === 'denied' && i.detail?.reason === 'rate_limited')).toBe(true);
    expect(items.some((i) => i.outcome === 'ok')).toBe(true);
  });
});

describe('users', () => {
  it('an admin creates a township user who then sees only that township', async () => {
    const admin = client(t.api, await t.login('admin'));
    const orgs = (await admin.get('/org-units')).json as { id: number; level: string; name: string }[];
    const tw = orgs.find((o) => o.level === 'township')!;
    const r = await admin.post('/users', {
      username: 'newop',
      displayName: '新操作员',
      password: 'longenough1',
      role: 'township_operator',
      orgUnitId: tw.id,
    });
    expect(r.status).toBe(201);
    expect(r.json).not.toHaveProperty('passwordHash');
    const op = client(t.api, await t.login('newop', 'longenough1'));
    const seen = (await op.get('/org-units')).json as { id: number }[];
    expect(seen[0]!.id).toBe(tw.id);
    expect(seen.length).toBeLessThan(orgs.length);
    expect(
      (
        await admin.post('/users', {
          username: 'newop',
          displayName: 'x',
          password: 'longenough1',
          role: 'viewer',
          orgUnitId: tw.id,
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await admin.post('/users', {
          username: 'x',
          displayName: 'x',
          password: 'short',
          role: 'god',
          orgUnitId: tw.id,
        })
      ).status,
    ).toBe(400);
  });

  it('a township operator cannot create users', async () => {
    const op = client(t.api, await t.login('township1'));
    expect(
      (
        await op.post('/users', {
          username: 'evil',
          displayName: 'x',
          password: 'longenough1',
          role: 'admin',
          orgUnitId: 1,
        })
      ).status,
    ).toBe(403);
  });
});
