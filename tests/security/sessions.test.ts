/**
 * Issue 11, hole 3: sockets outlived their session. Ending a session — logout,
 * a revoked kiosk token, a password change, a disabled account, expiry — must
 * end its sockets at once, and a reconnect must authenticate again.
 */
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEndReason } from '../../server/src/api/contract.ts';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { client, settle, startTestServer, type TestServer, type TypedSocket } from '../helpers/server.ts';

let t: TestServer;
const sockets: TypedSocket[] = [];
/** The test's clock: real time plus an offset the expiry test moves forward. */
let offsetMs = 0;

beforeAll(async () => {
  t = await startTestServer({
    clock: { now: () => new Date(Date.now() + offsetMs) },
    overrides: { security: { sessionRecheckSeconds: 0.2 } },
  });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await t?.close();
});

/** A connected socket that records why it ended and every alert it hears afterwards. */
async function watch(token: string) {
  const socket: TypedSocket = io(t.url, { auth: { token }, transports: ['websocket'], reconnection: false });
  sockets.push(socket);
  const state = {
    socket,
    ended: null as SessionEndReason | null,
    disconnected: null as string | null,
    alerts: 0,
  };
  socket.on('session:ended', (e) => (state.ended = e.reason));
  socket.on('disconnect', (reason) => (state.disconnected = reason));
  socket.on('alert:new', () => state.alerts++);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return state;
}

const reconnects = (token: string) =>
  new Promise<boolean>((resolve) => {
    const s: TypedSocket = io(t.url, { auth: { token }, transports: ['websocket'], reconnection: false });
    sockets.push(s);
    s.once('connect', () => resolve(true));
    s.once('connect_error', () => resolve(false));
  });

/** A manual report at one of township 1's points: heard by every alert reader above it. */
async function raiseAlert(): Promise<void> {
  const officer = client(t.api, await t.login('township1'));
  const cam = ((await officer.get('/cameras?limit=1')).json as { items: { position: { lon: number; lat: number } }[] })
    .items[0]!;
  const r = await officer.post('/alerts', { level: 'yellow', title: '会话测试', position: cam.position });
  if (r.status !== 201) throw new Error(`report: ${r.status} ${r.text}`);
}

describe('a session ends its sockets', () => {
  it('logout disconnects the socket at once, with the reason, and it cannot come back', async () => {
    const token = await t.login('township1');
    const w = await watch(token);
    const other = await watch(await t.login('township1'));
    expect((await client(t.api, token).post('/auth/logout')).status).toBe(204);
    await expect.poll(() => w.disconnected).toBe('io server disconnect');
    expect(w.ended).toBe('logout');
    // The same user's other session is untouched.
    await settle([other.socket]);
    expect(other.disconnected).toBeNull();
    // Nothing reaches the ended socket any more, and its token cannot reconnect.
    await raiseAlert();
    await expect.poll(() => other.alerts).toBe(1);
    expect(w.alerts).toBe(0);
    expect(await reconnects(token)).toBe(false);
  });

  it('a password change ends every other session of the account, and the old password stops working', async () => {
    const admin = client(t.api, await t.login('admin'));
    const created = await admin.post('/users', {
      username: 'pw-change',
      displayName: '改密测试',
      password: 'Start@2026',
      role: 'county_officer',
      orgUnitId: (await admin.get('/auth/me')).json.orgUnitId,
    });
    expect(created.status).toBe(201);
    const a = await t.login('pw-change', 'Start@2026');
    const b = await t.login('pw-change', 'Start@2026');
    const wa = await watch(a);
    const wb = await watch(b);
    const wrong = await client(t.api, a).post('/auth/password', { currentPassword: 'nope', newPassword: 'Next@2026x' });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error.fields[0].path).toBe('currentPassword');
    const ok = await client(t.api, a).post('/auth/password', {
      currentPassword: 'Start@2026',
      newPassword: 'Next@2026x',
    });
    expect(ok.status).toBe(204);
    await expect.poll(() => wb.ended).toBe('password_changed');
    expect((await client(t.api, b).get('/auth/me')).status).toBe(401);
    // The session that changed it stays.
    await settle([wa.socket]);
    expect(wa.disconnected).toBeNull();
    expect((await client(t.api, a).get('/auth/me')).status).toBe(200);
    await expect(t.login('pw-change', 'Start@2026')).rejects.toThrow(/401/);
    expect(await t.login('pw-change', 'Next@2026x')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it('disabling an account, or an admin resetting its password, ends all its sessions', async () => {
    const admin = client(t.api, await t.login('admin'));
    const me = (await admin.get('/auth/me')).json;
    const made = await admin.post('/users', {
      username: 'to-disable',
      displayName: '停用测试',
      password: DEMO_PASSWORD,
      role: 'viewer',
      orgUnitId: me.orgUnitId,
    });
    const w = await watch(await t.login('to-disable'));
    expect((await admin.patch(`/users/${made.json.id}`, { disabled: true })).status).toBe(200);
    await expect.poll(() => w.ended).toBe('disabled');
    await expect(t.login('to-disable')).rejects.toThrow(/401/);

    expect((await admin.patch(`/users/${made.json.id}`, { disabled: false })).status).toBe(200);
    const w2 = await watch(await t.login('to-disable'));
    expect((await admin.patch(`/users/${made.json.id}`, { password: 'Other@2026' })).status).toBe(200);
    await expect.poll(() => w2.ended).toBe('password_changed');

    // Moving an account to another unit changes what it may see: its sessions end too.
    const units = (await admin.get('/org-units')).json as { id: number; level: string }[];
    const w3 = await watch(await t.login('to-disable', 'Other@2026'));
    const township = units.find((u) => u.level === 'township')!;
    expect((await admin.patch(`/users/${made.json.id}`, { orgUnitId: township.id })).status).toBe(200);
    await expect.poll(() => w3.ended).toBe('changed');
  });

  it('refuses account changes out of scope, on oneself, and on bad fields', async () => {
    const admin = client(t.api, await t.login('admin'));
    const me = (await admin.get('/auth/me')).json;
    const self = await admin.patch(`/users/${me.id}`, { disabled: true });
    expect(self.status).toBe(400);
    expect(self.json.error.fields[0].path).toBe('disabled');
    const bad = await admin.patch(`/users/${me.id}`, { role: 'emperor' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields[0].path).toBe('role');
    expect((await admin.patch('/users/999999', { disabled: true })).status).toBe(404);
    // Only user.write may change accounts.
    const officer = client(t.api, await t.login('county'));
    expect((await officer.patch(`/users/${me.id}`, { displayName: 'x' })).status).toBe(403);
  });

  it('revoking a kiosk token ends the kiosk screen’s socket', async () => {
    const t1 = client(t.api, await t.login('township1'));
    const screen = (await t1.post('/walls', { name: '吊销测试屏' })).json;
    const issued = (await t1.post(`/walls/${screen.id}/kiosk-token`)).json;
    const signedIn = await client(t.api).post('/walls/kiosk', { token: issued.token });
    expect(signedIn.status).toBe(200);
    const w = await watch(signedIn.json.token);
    expect((await t1.del(`/walls/${screen.id}/kiosk-token`)).status).toBe(204);
    await expect.poll(() => w.ended).toBe('revoked');
    expect(await reconnects(signedIn.json.token)).toBe(false);
  });

  it('deleting a kiosk screen ends its socket and its account', async () => {
    const t1 = client(t.api, await t.login('township1'));
    const screen = (await t1.post('/walls', { name: '删除测试屏' })).json;
    const issued = (await t1.post(`/walls/${screen.id}/kiosk-token`)).json;
    const signedIn = await client(t.api).post('/walls/kiosk', { token: issued.token });
    const w = await watch(signedIn.json.token);
    expect((await t1.del(`/walls/${screen.id}`)).status).toBe(204);
    await expect.poll(() => w.ended).toBe('revoked');
    expect((await client(t.api).post('/walls/kiosk', { token: issued.token })).status).toBe(401);
  });

  it('an expired session’s socket is ended by the periodic check', async () => {
    const token = await t.login('viewer');
    const w = await watch(token);
    await settle([w.socket]);
    expect(w.disconnected).toBeNull();
    offsetMs = 13 * 3600_000; // past the 12 h session lifetime
    try {
      await expect.poll(() => w.ended).toBe('expired');
      expect(await reconnects(token)).toBe(false);
    } finally {
      offsetMs = 0;
    }
  });
});
