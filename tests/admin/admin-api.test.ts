/**
 * The admin pages' API (issue 17): the anonymous session probe, screens
 * renamed and their kiosk tokens listed, a window's own kiosk session without
 * a cookie, networks, and the audit log and viewing report with filters,
 * export and jurisdiction: a township admin reads and changes only its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, OrgUnitView, UserView, ViewSessionEntry } from '../../server/src/api/contract.ts';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

/** The body as written, BOM included (Response.text() drops it). */
const csvText = async (res: Response) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());

let t: TestServer;
let admin: ReturnType<typeof client>;
let townAdmin: ReturnType<typeof client>;
let units: OrgUnitView[];
let town1: OrgUnitView;
let town2: OrgUnitView;

beforeAll(async () => {
  t = await startTestServer({ cameras: 30 });
  admin = client(t.api, await t.login('admin'));
  units = (await admin.get('/org-units')).json as OrgUnitView[];
  const townships = units.filter((u) => u.level === 'township');
  const me = (await client(t.api, await t.login('township1')).get('/auth/me')).json as { orgUnitId: number };
  town1 = townships.find((u) => u.id === me.orgUnitId)!;
  town2 = townships.find((u) => u.id !== me.orgUnitId)!;
  const created = await admin.post('/users', {
    username: 'town1admin',
    displayName: '城关镇管理员',
    password: DEMO_PASSWORD,
    role: 'admin',
    orgUnitId: town1.id,
  });
  expect(created.status, created.text).toBe(201);
  townAdmin = client(t.api, await t.login('town1admin'));
});
afterAll(async () => t?.close());

describe('session probe', () => {
  it('answers 200 null without a session and the user with one; /auth/me stays 401', async () => {
    const anon = await fetch(`${t.api}/auth/session`);
    expect(anon.status).toBe(200);
    expect(await anon.json()).toBeNull();
    const bad = await fetch(`${t.api}/auth/session`, { headers: { cookie: 'ccc_session=' + 'x'.repeat(43) } });
    expect(bad.status).toBe(200);
    expect(await bad.json()).toBeNull();
    expect((await admin.get('/auth/session')).json.username).toBe('admin');
    expect((await fetch(`${t.api}/auth/me`)).status).toBe(401);
  });
});

describe('users in jurisdiction', () => {
  it('a township admin lists and changes only its own accounts', async () => {
    const mine = (await townAdmin.get('/users')).json as UserView[];
    expect(mine.length).toBeGreaterThan(0);
    const byUnit = new Map(units.map((u) => [u.id, u]));
    for (const u of mine) {
      const unit = byUnit.get(u.orgUnitId)!;
      expect(unit.id === town1.id || unit.parentId === town1.id).toBe(true);
    }
    const all = (await admin.get('/users')).json as UserView[];
    const county = all.find((u) => u.username === 'county')!;
    expect((await townAdmin.patch(`/users/${county.id}`, { disabled: true })).status).toBe(404);
    const t2user = all.find((u) => u.username === 'township2')!;
    expect((await townAdmin.patch(`/users/${t2user.id}`, { password: 'Another@2026' })).status).toBe(404);
    const moved = await townAdmin.post('/users', {
      username: 'sneaky',
      displayName: 'x',
      password: DEMO_PASSWORD,
      role: 'viewer',
      orgUnitId: town2.id,
    });
    expect(moved.status).toBe(403);
    expect(moved.json.error.fields[0].path).toBe('orgUnitId');
  });
});

describe('screens and kiosk tokens', () => {
  it('renames a screen (audited), lists its kiosk tokens, and a township admin cannot touch another’s', async () => {
    const t2 = client(t.api, await t.login('township2'));
    const screen = (await t2.post('/walls', { name: '东湖大屏' })).json as { id: number; version: number };
    const renamed = await admin.patch(`/walls/${screen.id}`, { name: '东湖指挥大屏' });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.json.name).toBe('东湖指挥大屏');
    expect(renamed.json.version).toBe(screen.version);
    const bad = await admin.patch(`/walls/${screen.id}`, { name: '   ' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields[0].path).toBe('name');
    expect((await townAdmin.patch(`/walls/${screen.id}`, { name: 'x' })).status).toBe(404);
    expect((await townAdmin.get(`/walls/${screen.id}/kiosk-tokens`)).status).toBe(404);
    expect((await townAdmin.del(`/walls/${screen.id}`)).status).toBe(404);

    expect((await admin.post(`/walls/${screen.id}/kiosk-token`)).status).toBe(201);
    const tokens = (await admin.get(`/walls/${screen.id}/kiosk-tokens`)).json as {
      createdBy: string;
      revokedAt: string | null;
    }[];
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({ createdBy: 'admin', revokedAt: null });
    expect(JSON.stringify(tokens)).not.toMatch(/token/i);
    const log = (await admin.get(`/audit?action=wall.rename&targetId=${screen.id}`)).json.items as AuditEntry[];
    expect(log).toHaveLength(1);
    expect(log[0]!.detail).toMatchObject({ from: '东湖大屏', name: '东湖指挥大屏' });
  });

  it('a window’s own kiosk session sets no cookie and works by its bearer token', async () => {
    const screen = (await admin.post('/walls', { name: '窗口大屏', orgUnitId: town1.id })).json as { id: number };
    const { token } = (await admin.post(`/walls/${screen.id}/kiosk-token`)).json as { token: string };
    const res = await fetch(`${t.api}/walls/kiosk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, cookie: false }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toBeNull();
    const body = (await res.json()) as { token: string; screenId: number; user: { permissions: string[] } };
    expect(body.screenId).toBe(screen.id);
    expect(body.user.permissions).not.toContain('wall.write');
    expect((await client(t.api, body.token).get(`/walls/${screen.id}`)).status).toBe(200);
    // The cookie form is unchanged.
    const withCookie = await client(t.api).post('/walls/kiosk', { token });
    expect(withCookie.headers.get('set-cookie')).toMatch(/^ccc_session=/);
  });
});

describe('networks', () => {
  it('a county admin adds, renames and removes a network; built-ins are fixed; a township admin may not', async () => {
    const made = await admin.post('/networks', { id: 'school', name: '校园安防', nameEn: 'School security' });
    expect(made.status, made.text).toBe(201);
    expect((await admin.post('/networks', { id: 'school', name: 'x', nameEn: 'x' })).status).toBe(409);
    const bad = await admin.post('/networks', { id: 'School!', name: '', nameEn: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['id', 'name']);
    expect((await admin.patch('/networks/school', { name: '智慧校园' })).json.name).toBe('智慧校园');
    expect((await admin.patch('/networks/xueliang', { name: 'x' })).status).toBe(409);
    expect((await townAdmin.post('/networks', { id: 'mine', name: '我的', nameEn: 'Mine' })).status).toBe(403);
    expect((await townAdmin.patch('/networks/school', { name: 'x' })).status).toBe(403);
    expect((await admin.del('/networks/xueliang')).status).toBe(409);
    expect((await admin.del('/networks/school')).status).toBe(204);
    expect(((await admin.get('/networks')).json as { id: string }[]).map((n) => n.id)).not.toContain('school');
    const log = (await admin.get('/audit?action=network.*')).json.items as AuditEntry[];
    expect(log.map((e) => e.action).sort()).toEqual(['network.create', 'network.delete', 'network.update']);
  });
});

describe('audit log and viewing report', () => {
  it('filters by action family, outcome, user and time; exports the same as CSV, audited', async () => {
    await fetch(`${t.api}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'viewer', password: 'wrong-password' }),
    });
    const failed = (await admin.get('/audit?action=auth.*&outcome=failed&user=viewer')).json.items as AuditEntry[];
    expect(failed.length).toBeGreaterThan(0);
    for (const e of failed) expect(e).toMatchObject({ outcome: 'failed', username: 'viewer' });
    expect(failed.every((e) => e.action.startsWith('auth.'))).toBe(true);
    const future = (await admin.get('/audit?from=2999-01-01T00:00:00Z')).json.items as AuditEntry[];
    expect(future).toEqual([]);
    const bad = await admin.get('/audit?from=yesterday&action=DROP');
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['action', 'from']);

    const csv = await fetch(`${t.api}/audit/export.csv?action=auth.*&outcome=failed`, {
      headers: { authorization: `Bearer ${await t.login('admin')}` },
    });
    expect(csv.status).toBe(200);
    const text = await csvText(csv);
    expect(text.startsWith('\uFEFF编号,时间,用户,操作')).toBe(true);
    const lines = text.trim().split('\r\n');
    expect(lines.length).toBe(1 + failed.length);
    expect(lines.slice(1).every((l) => l.includes(',auth.login,') && l.includes(',failed,'))).toBe(true);
    const exports = (await admin.get('/audit?action=audit.export')).json.items as AuditEntry[];
    expect(exports[0]!.detail).toMatchObject({ rows: failed.length, action: 'auth.*', outcome: 'failed' });
  });

  it('a township admin reads only entries of its own accounts and views of its own cameras', async () => {
    await t.login('township2');
    await t.login('township1');
    const seen = (await townAdmin.get('/audit?limit=500')).json.items as AuditEntry[];
    const names = new Set(seen.map((e) => e.username));
    expect(names.has('township1')).toBe(true);
    expect(names.has('township2')).toBe(false);
    expect(names.has('admin')).toBe(false);
    expect(names.has(null)).toBe(false);
    const csv = await fetch(`${t.api}/audit/export.csv?lang=en`, {
      headers: { authorization: `Bearer ${await t.login('town1admin')}` },
    });
    const text = await csvText(csv);
    expect(text.startsWith('\uFEFFid,time,user,action')).toBe(true);
    expect(text).not.toContain(',township2,');

    // Viewing sessions: written as the relay writes them, one camera in each township.
    const c1 = (
      (await client(t.api, await t.login('township1')).get('/cameras?limit=1')).json.items as { id: number }[]
    )[0]!;
    const c2 = (
      (await client(t.api, await t.login('township2')).get('/cameras?limit=1')).json.items as { id: number }[]
    )[0]!;
    const now = new Date().toISOString();
    for (const c of [c1, c2])
      await t.store.run(
        'INSERT INTO view_sessions (user_id, camera_id, quality, ip, started_at, last_seen_at) VALUES (1, ?, ?, ?, ?, ?)',
        [c.id, 'sub', '127.0.0.1', now, now],
      );
    const all = (await admin.get('/audit/view-sessions')).json.items as ViewSessionEntry[];
    expect(all.map((v) => v.cameraId)).toEqual(expect.arrayContaining([c1.id, c2.id]));
    const own = (await townAdmin.get('/audit/view-sessions')).json.items as ViewSessionEntry[];
    expect(own.map((v) => v.cameraId)).toEqual([c1.id]);
    expect((await townAdmin.get(`/audit/view-sessions?camera=${c2.id}`)).json.items).toEqual([]);
    const filtered = (await admin.get('/audit/view-sessions?user=admin&from=2999-01-01T00:00:00Z')).json.items;
    expect(filtered).toEqual([]);
  });
});
