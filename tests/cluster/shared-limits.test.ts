/**
 * Rate limits shared by several instances through Redis (issue 13): failed
 * logins and wrong device keys on one instance count on the other; with
 * Redis away the limits still hold per instance and no request fails for it.
 * The machine's Redis with a key prefix of this run; an outage on a
 * redis-server of the test's own.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSharedCounters } from '../../server/src/cluster/rate-windows.ts';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { createLogger } from '../../server/src/http/logger.ts';
import { deleteRedisKeys, serviceAvailable } from '../alerts/services.ts';
import { ownRedis, redisBinaryPresent } from '../helpers/redis-server.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const haveRedis = await serviceAvailable('Redis', '127.0.0.1', 6379);
const prefix = `ccc-test-limits-${process.pid}-${randomBytes(4).toString('hex')}`;
const MAX_LOGIN_FAILURES = 3;
const WRONG_KEYS_PER_MINUTE = 3;
const log = createLogger('error');
const clock = { now: () => new Date() };

/** A loopback port on which nothing listens. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const overrides = (redisUrl: string | null) => ({
  redis: { url: redisUrl, keyPrefix: prefix },
  security: { loginRateLimit: { windowSeconds: 600, maxAttempts: MAX_LOGIN_FAILURES } },
  alerts: { wrongKeyAttemptsPerMinute: WRONG_KEYS_PER_MINUTE },
});

const login = (t: TestServer, username: string, password: string) =>
  fetch(`${t.api}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });

const ingest = (t: TestServer, key: string) =>
  fetch(`${t.api}/alerts/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-device-key': key },
    body: JSON.stringify({ type: 'intrusion', level: 'blue', position: { lon: 118.8, lat: 30.95 } }),
  });

describe.skipIf(!haveRedis)('limits shared by two instances through Redis', () => {
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    a = await startTestServer({
      townships: 1,
      villages: 1,
      cameras: 0,
      overrides: overrides('redis://127.0.0.1:6379'),
    });
    b = await startTestServer({
      townships: 1,
      villages: 1,
      cameras: 0,
      overrides: overrides('redis://127.0.0.1:6379'),
    });
    // The counters connect in the background (start-up never waits for Redis).
    const end = Date.now() + 10_000;
    const modes = () => [a.server.app.cluster.counters.mode(), b.server.app.cluster.counters.mode()];
    while (modes().some((m) => m !== 'redis') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(modes()).toEqual(['redis', 'redis']);
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await deleteRedisKeys('127.0.0.1', 6379, `${prefix}:*`);
  });

  it('failed logins on A count on B: the right password is refused there with 429', async () => {
    for (let i = 0; i < MAX_LOGIN_FAILURES; i++) expect((await login(a, 'township1', 'wrong')).status).toBe(401);
    const onB = await login(b, 'township1', DEMO_PASSWORD);
    expect(onB.status).toBe(429);
    expect(Number(onB.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another account from the same address is not locked by them.
    expect((await login(b, 'county', DEMO_PASSWORD)).status).toBe(200);
  });

  it('wrong device keys on A count on B: past the limit B answers 429', async () => {
    for (let i = 0; i < WRONG_KEYS_PER_MINUTE; i++) expect((await ingest(a, `wrong-${i}`)).status).toBe(401);
    expect((await ingest(b, 'wrong-again')).status).toBe(429);
  });
});

describe('limits with Redis away', () => {
  it('a Redis URL on a closed port: each instance still limits on its own, and no request fails for it', async () => {
    const port = await closedPort();
    const t = await startTestServer({
      townships: 1,
      villages: 1,
      cameras: 0,
      overrides: overrides(`redis://127.0.0.1:${port}`),
    });
    try {
      expect(t.server.app.cluster.counters.mode()).toBe('memory');
      for (let i = 0; i < MAX_LOGIN_FAILURES; i++) expect((await login(t, 'township1', 'wrong')).status).toBe(401);
      expect((await login(t, 'township1', DEMO_PASSWORD)).status).toBe(429);
      for (let i = 0; i < WRONG_KEYS_PER_MINUTE; i++) expect((await ingest(t, `wrong-${i}`)).status).toBe(401);
      expect((await ingest(t, 'wrong-again')).status).toBe(429);
    } finally {
      await t.close();
    }
  }, 60_000);

  it.skipIf(!redisBinaryPresent('the outage case'))(
    'Redis killed in the middle of a window: counting goes on from this instance’s own count',
    async () => {
      const redis = await ownRedis();
      await redis.start();
      const counters = createSharedCounters({ redisUrl: redis.url, keyPrefix: prefix, clock, log });
      const other = createSharedCounters({ redisUrl: redis.url, keyPrefix: prefix, clock, log });
      try {
        await expect.poll(() => [counters.mode(), other.mode()], { timeout: 10_000 }).toEqual(['redis', 'redis']);
        const mine = counters.counter('t', 60_000);
        const theirs = other.counter('t', 60_000);
        expect((await mine.hit('k')).count).toBe(1);
        expect((await theirs.hit('k')).count).toBe(2);
        expect((await mine.hit('k')).count).toBe(3);
        expect((await theirs.peek('k')).count).toBe(3);
        await redis.kill();
        // Answered from memory: this instance's own two hits, then a third.
        expect((await mine.peek('k')).count).toBe(2);
        expect((await mine.hit('k')).count).toBe(3);
        expect(counters.mode()).toBe('memory');
        // Back: shared again (the outage's local hits are not replayed into Redis).
        await redis.start();
        await expect.poll(() => counters.mode(), { timeout: 15_000 }).toBe('redis');
        expect((await mine.peek('k')).count).toBe(0);
      } finally {
        await counters.close();
        await other.close();
        await redis.kill();
      }
    },
    60_000,
  );
});
