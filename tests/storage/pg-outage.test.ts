/**
 * PostgreSQL going away while the server runs (issue 13, "Bad input and faults"): requests answer 503 with
 * the reason (not 500, not 401), a write whose connection died before COMMIT leaves nothing behind, and the
 * server serves again once the database is back, without a restart; a console whose socket handshake was
 * refused meanwhile connects by itself. The database is taken away by cutting a TCP proxy between the
 * server and the machine's PostgreSQL, which other tests share and which is never touched.
 */
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { LIVE_PATH } from '../../server/src/api/live.ts';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retryRefusedHandshakes } from '../../client/src/realtimeRetry.ts';
import { serviceAvailable } from '../alerts/services.ts';
import { client, createPostgresDatabase, firstVillage, startTestServer, type TestServer } from '../helpers/server.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { createLogger } from '../../server/src/http/logger.ts';

const havePostgres = await serviceAvailable('PostgreSQL', '127.0.0.1', 5432);

/** Polls `fn` until it returns true (at most `ms`). */
async function until(fn: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A server of its own on a database of its own, reached through a proxy the test can cut; warnings collected. */
async function cuttableServer(
  opts: Pick<NonNullable<Parameters<typeof startTestServer>[0]>, 'overrides' | 'liveSocket'>,
) {
  const db = await createPostgresDatabase();
  const cutter = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
  const url = new URL(db.url);
  url.port = String(cutter.port);
  const lines: string[] = [];
  const t2 = await startTestServer({
    cameras: 0,
    shared: { postgresUrl: url.toString(), drop: async () => {} },
    ...opts,
    log: createLogger('warn', (line) => lines.push(line)),
  });
  return { db, cutter, lines, t2 };
}

describe.skipIf(!havePostgres)('PostgreSQL going away while the server runs', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
  let proxy: TcpProxy | undefined;
  let t: TestServer | undefined;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    const url = new URL(database.url);
    url.port = String(proxy.port);
    t = await startTestServer({ cameras: 3, shared: { postgresUrl: url.toString(), drop: async () => {} } });
  });
  afterAll(async () => {
    await proxy?.restore();
    await t?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('answers 503 with the reason, keeps nothing of a write cut before COMMIT, and serves again when it is back', async () => {
    const tech = client(t!.api, await t!.login('tech'));
    const adminToken = await t!.login('admin');
    const village = await firstVillage(tech);
    const point = (code: string) => ({
      name: `断库测试 ${code}`,
      code,
      networkId: 'tianwang',
      orgUnitId: village,
      position: { lon: 118.81, lat: 30.96 },
    });

    // The connection carrying this point's INSERT dies when it sends COMMIT: PostgreSQL never commits it.
    const cut = proxy!.cutWhen('34990100001319777001', 'COMMIT');
    const lost = await tech.post('/cameras', point('34990100001319777001'));
    await cut;
    expect(lost.status).toBe(503);
    expect(lost.json.error.code).toBe('storage_unavailable');
    expect(lost.json.error.messageCode).toBe('storage_unavailable');
    expect(lost.json.error.message).toMatch(/database cannot be reached \(.+\)/);
    expect(lost.headers.get('retry-after')).toBe('5');

    // While it is away: reads and a signed-in user's requests answer 503, not 500 and not 401; a login too.
    const read = await tech.get('/cameras?limit=5');
    expect(read.status).toBe(503);
    expect(read.json.error.code).toBe('storage_unavailable');
    const login = await client(t!.api).post('/auth/login', { username: 'tech', password: 'wrong' });
    expect(login.status).toBe(503);
    expect((await fetch(`${t!.api}/health/live`)).status).toBe(200);
    expect((await fetch(`${t!.api}/health/ready`)).status).toBe(503);
    // Counted for the operator: the 503s so far (the cut write, the read, the login), the pool by state.
    const metrics = await (await fetch(`${t!.url}/metrics`)).text();
    const unavailable = /^ccc_storage_unavailable_total (\d+)/m.exec(metrics);
    expect(Number(unavailable?.[1])).toBeGreaterThanOrEqual(3);
    expect(metrics).toMatch(/^ccc_db_connections\{engine="postgres",state="total"\} \d+/m);

    // A console's socket handshake is refused as `unavailable`; it retries by itself.
    const socket = io(t!.url, { auth: { token: adminToken }, transports: ['websocket'], reconnection: false });
    const refusals: string[] = [];
    socket.on('connect_error', (e) => refusals.push(e.message));
    const stop = retryRefusedHandshakes(socket, { delay: () => 200 });
    try {
      await until(async () => refusals.length >= 2);
      expect(refusals.every((m) => m === 'unavailable')).toBe(true);
      expect(socket.connected).toBe(false);

      // Back: the same server serves again, and the socket connects without anyone asking.
      await proxy!.restore();
      await until(async () => (await tech.get('/cameras?limit=5')).status === 200);
      await until(async () => socket.connected);
    } finally {
      stop();
      socket.disconnect();
    }

    // Nothing of the cut write: no point, no audit entry; the same code registers now.
    const admin = client(t!.api, adminToken);
    const found = await tech.get('/cameras?q=34990100001319777001&limit=5');
    expect(found.status).toBe(200);
    expect(found.json.items).toEqual([]);
    expect(await t!.store.get('SELECT id FROM camera_points WHERE code = ?', ['34990100001319777001'])).toBeUndefined();
    const audit = (await admin.get('/audit?action=camera.create')).json.items as { detail: { code?: string } }[];
    expect(audit.some((e) => e.detail?.code === '34990100001319777001')).toBe(false);
    const again = await tech.post('/cameras', point('34990100001319777001'));
    expect(again.status).toBe(201);
  });

  it('writes a change and its audit entry together: cut before the entry commits, neither is kept', async () => {
    const tech = client(t!.api, await t!.login('tech'));
    const admin = client(t!.api, await t!.login('admin'));
    const village = await firstVillage(tech);
    const code = '34990100001319777002';
    const body = {
      name: `断库测试 ${code}`,
      code,
      networkId: 'tianwang',
      orgUnitId: village,
      position: { lon: 118.81, lat: 30.96 },
    };
    // The connection that wrote the point dies as it sends the audit entry (a change recorded in a second
    // transaction would be kept without its entry).
    const cut = proxy!.cutWhen(code, 'INSERT INTO audit_log');
    const lost = await tech.post('/cameras', body);
    await cut;
    expect(lost.status).toBe(503);
    await proxy!.restore();
    await until(async () => (await tech.get('/cameras?limit=5')).status === 200);
    expect(await t!.store.get('SELECT id FROM camera_points WHERE code = ?', [code])).toBeUndefined();
    const audit = (await admin.get('/audit?action=camera.create')).json.items as { detail: { code?: string } }[];
    expect(audit.some((e) => e.detail?.code === code)).toBe(false);
    // Written again with the database there: the point and its entry both.
    expect((await tech.post('/cameras', body)).status).toBe(201);
    const again = (await admin.get('/audit?action=camera.create')).json.items as { detail: { code?: string } }[];
    expect(again.some((e) => e.detail?.code === code)).toBe(true);
  });

  it("pauses the sockets' session re-check while it is away: one warning a pass, not a line per socket", async () => {
    const { db, cutter, lines, t2 } = await cuttableServer({ overrides: { security: { sessionRecheckSeconds: 0.3 } } });
    const sockets = await Promise.all(
      ['admin', 'county', 'tech'].map(async (user) => {
        const s = io(t2.url, { auth: { token: await t2.login(user) }, transports: ['websocket'] });
        await new Promise((r) => s.once('connect', () => r(null)));
        return s;
      }),
    );
    try {
      await cutter.cut();
      const paused = () => lines.filter((l) => l.includes('re-check paused')).length;
      await until(async () => paused() >= 3);
      // Each pass stopped at its first socket: no per-socket error lines, the sockets all still there.
      expect(lines.filter((l) => l.includes('re-check failed'))).toEqual([]);
      expect(sockets.every((s) => s.connected)).toBe(true);
      await cutter.restore();
    } finally {
      for (const s of sockets) s.disconnect();
      await t2.close();
      await cutter.close();
      await db.drop();
    }
  });

  it("pauses the live sockets' session re-check too: one warning a pass, the sockets kept", async () => {
    const { db, cutter, lines, t2 } = await cuttableServer({ liveSocket: { recheckMs: 300 } });
    const sockets = await Promise.all(
      ['admin', 'county', 'tech'].map(async (username) => {
        const res = await fetch(`${t2.api}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password: DEMO_PASSWORD }),
        });
        const token = ((await res.json()) as { token: string }).token;
        const cookie = res.headers
          .getSetCookie()
          .find((c) => c.includes(token))!
          .split(';')[0]!;
        const ws = new WebSocket(t2.url.replace('http', 'ws') + LIVE_PATH, { headers: { cookie } });
        await new Promise((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('error', reject);
        });
        return ws;
      }),
    );
    try {
      await cutter.cut();
      const paused = () => lines.filter((l) => l.includes('live socket session re-check paused')).length;
      await until(async () => paused() >= 3);
      expect(lines.filter((l) => l.includes('re-check failed') || l.includes('recheck failed'))).toEqual([]);
      expect(sockets.every((ws) => ws.readyState === WebSocket.OPEN)).toBe(true);
      await cutter.restore();
    } finally {
      for (const ws of sockets) ws.terminate();
      await t2.close();
      await cutter.close();
      await db.drop();
    }
  });
});
