/**
 * Ending a session ends its sockets on EVERY instance: two servers share one
 * database (a SQLite file, or under CCC_STORAGE__DRIVER=postgres one PostgreSQL database) and Redis; a logout on A disconnects the same session's
 * socket held by B at once (through the adapter, with the reason), not only
 * at B's next periodic check (which would say `expired`).
 */
import { randomBytes } from 'node:crypto';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEndReason } from '../../server/src/api/contract.ts';
import { deleteRedisKeys, serviceAvailable } from '../alerts/services.ts';
import {
  client,
  sharedDatabase,
  startTestServer,
  type SharedDatabase,
  type TestServer,
  type TypedSocket,
} from '../helpers/server.ts';

const haveRedis = await serviceAvailable('Redis', '127.0.0.1', 6379);
const prefix = `ccc-test-sess-${process.pid}-${randomBytes(4).toString('hex')}`;

let a: TestServer;
let b: TestServer;
let shared: SharedDatabase | null = null;
const sockets: TypedSocket[] = [];

describe.skipIf(!haveRedis)('sessions across instances', () => {
  beforeAll(async () => {
    shared = await sharedDatabase();
    // A long periodic check, so only the broadcast can end B's socket within the test.
    const overrides = {
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: prefix },
      security: { sessionRecheckSeconds: 3600 },
    };
    a = await startTestServer({ townships: 2, villages: 1, cameras: 0, overrides, shared });
    b = await startTestServer({ townships: 2, villages: 1, cameras: 0, overrides, shared });
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await a?.close();
    await b?.close();
    await shared?.drop();
    if (haveRedis) await deleteRedisKeys('127.0.0.1', 6379, `${prefix}:*`);
  });

  it('a logout on A ends the session’s socket on B', async () => {
    const token = await a.login('township1');
    const s: TypedSocket = io(b.url, { auth: { token }, transports: ['websocket'], reconnection: false });
    sockets.push(s);
    let ended: SessionEndReason | null = null;
    s.on('session:ended', (e) => (ended = e.reason));
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    // B's adapter starts reading the stream shortly after start: log out only once
    // a push emitted on A has reached this socket on B.
    let pushes = 0;
    s.on('wall:push', () => pushes++);
    const unit = (await client(a.api, token).get('/auth/me')).json.orgUnitId as number;
    const probe = () =>
      a.server.app.bus.emit('wall.push', {
        event: {
          id: 0,
          targetOrgUnitId: unit,
          screenId: null,
          cameraIds: [],
          layout: null,
          from: { userId: 0, displayName: 'probe', orgUnitId: unit, orgName: 'probe' },
          orderId: null,
          note: null,
          at: new Date().toISOString(),
        },
      });
    await expect
      .poll(() => {
        if (pushes === 0) probe();
        return pushes;
      })
      .toBeGreaterThan(0);
    expect((await client(a.api, token).post('/auth/logout')).status).toBe(204);
    await expect.poll(() => ended).toBe('logout');
    await expect.poll(() => s.connected).toBe(false);
  });
});
