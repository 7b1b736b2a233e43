/**
 * One server process configured with Redis keeps pushing alerts to its own
 * clients while Redis is gone (SIGKILL) and after it comes back on the same
 * port. The test runs its own throw-away redis-server on a free loopback
 * port, so killing it disturbs nobody else.
 */
import { randomBytes } from 'node:crypto';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertView } from '../../server/src/api/contract.ts';
import { ownRedis, redisBinaryPresent, type OwnRedis } from '../helpers/redis-server.ts';
import { client, startTestServer, type TestServer, type TypedSocket } from '../helpers/server.ts';

const haveRedisBinary = redisBinaryPresent('the Redis outage test');

const until = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  return cond();
};

let redis: OwnRedis;

describe.skipIf(!haveRedisBinary)('Redis going away and coming back', () => {
  let t: TestServer;
  let key = '';
  let socket: TypedSocket | null = null;
  const heard: AlertView[] = [];
  const prefix = `ccc-outage-${process.pid}-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    redis = await ownRedis();
    await redis.start();
    t = await startTestServer({
      townships: 2,
      villages: 1,
      cameras: 0,
      overrides: { redis: { url: redis.url, keyPrefix: prefix } },
    });
    const admin = client(t.api, await t.login('admin'));
    const township1 = t.server.app.repos.orgs.all().find((u) => u.level === 'township')!;
    const r = await admin.post('/alert-sources', { name: '一键报警柱', orgUnitId: township1.id });
    expect(r.status).toBe(201);
    key = r.json.key as string;
    const s: TypedSocket = io(t.url, { auth: { token: await t.login('township1') }, transports: ['websocket'] });
    s.on('alert:new', (a) => heard.push(a));
    await new Promise((r) => s.once('connect', () => r(null)));
    socket = s;
  }, 30_000);

  afterAll(async () => {
    socket?.close();
    await t?.close();
    await redis?.kill();
  });

  it('the single process keeps working when Redis goes away and comes back', async () => {
    const all = t.server.app.repos.orgs.all();
    const township1 = all.find((u) => u.level === 'township')!;
    const village = all.find((u) => u.parentId === township1.id)!;
    const ring = (village.boundary as unknown as { coordinates: number[][][] }).coordinates[0]!;
    const position = { lon: (ring[0]![0]! + ring[2]![0]!) / 2, lat: (ring[0]![1]! + ring[2]![1]!) / 2 };
    // A distinct type per step, so storm folding never merges two steps into one alert.
    const ingestAndHear = async (type: string, ms: number) => {
      const started = Date.now();
      const res = await fetch(`${t.api}/alerts/ingest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-device-key': key },
        body: JSON.stringify({ type, level: 'red', title: `${type} ${prefix}`, position }),
      });
      expect(res.status).toBe(201);
      const id = ((await res.json()) as AlertView).id;
      const got = await until(() => heard.some((a) => a.id === id), ms);
      return { got, ms: Date.now() - started };
    };

    expect((await ingestAndHear('alarm_button', 3000)).got).toBe(true);

    await redis?.kill();
    // Redis is gone (and stays gone during this wait): the local client must hear it anyway,
    // not only once Redis returns.
    const during = await ingestAndHear('intrusion', 3000);
    expect(during.got).toBe(true);

    await redis.start();
    // Give node-redis a moment to reconnect (its back-off is at most 5 s); delivery must not depend on it.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await ingestAndHear('fire', 3000)).got).toBe(true);
    // And once reconnected it still works (and the process has not crashed).
    await new Promise((r) => setTimeout(r, 5500));
    expect((await ingestAndHear('crowd', 3000)).got).toBe(true);
  }, 40_000);
});
