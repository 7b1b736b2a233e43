import { createClient } from 'redis';
import type { Clock, Logger } from '../http/logger.ts';

/**
 * Fixed-window counters for rate limits, shared by every instance through
 * Redis when `redis.url` is set (issue 13: a login limit per instance gave an
 * attacker behind a balancer N times the attempts), else kept in memory.
 *
 * Hand-written rather than rate-limiter-flexible: each limit here is "count
 * in this window, compare with a maximum", one MULTI (SET NX PX, INCR, PTTL)
 * against the redis client the server already has; the fallback rule (Redis
 * down or slow: this instance's own counts, never a failed request) is the
 * part that matters and stays in plain sight.
 *
 * Every hit is also counted in memory, so when Redis goes away in the middle
 * of a window the instance goes on from its own share of the count, not 0.
 */
export interface WindowCount {
  /** Hits in the current window (after this one, for `hit`). */
  count: number;
  /** Milliseconds until the window ends (0: no window running). */
  resetInMs: number;
}

export interface WindowCounter {
  hit(key: string): Promise<WindowCount>;
  peek(key: string): Promise<WindowCount>;
  reset(key: string): Promise<void>;
}

export interface SharedCounters {
  /** A counter named `name` (part of the Redis key) with windows of `windowMs`. */
  counter(name: string, windowMs: number): WindowCounter;
  /** Where counts are kept right now. */
  mode(): 'redis' | 'memory';
  close(): Promise<void>;
}

/** Keys a memory counter keeps; beyond it the oldest go (addresses are the caller's to choose). */
const MAX_KEYS = 100_000;
/** A Redis answer slower than this is not waited for: the request goes on with this instance's count. */
const DEFAULT_COMMAND_TIMEOUT_MS = 250;

function memoryCounter(windowMs: number, clock: Clock) {
  const hits = new Map<string, { count: number; resetAt: number }>();
  const live = (key: string, now: number) => {
    const e = hits.get(key);
    if (e && e.resetAt > now) return e;
    if (e) hits.delete(key);
    return undefined;
  };
  return {
    hit(key: string): WindowCount {
      const now = clock.now().getTime();
      let e = live(key, now);
      if (e) e.count++;
      else {
        if (hits.size >= MAX_KEYS) for (const k of [...hits.keys()].slice(0, MAX_KEYS / 10)) hits.delete(k);
        e = { count: 1, resetAt: now + windowMs };
        hits.set(key, e);
      }
      return { count: e.count, resetInMs: e.resetAt - now };
    },
    peek(key: string): WindowCount {
      const now = clock.now().getTime();
      const e = live(key, now);
      return e ? { count: e.count, resetInMs: e.resetAt - now } : { count: 0, resetInMs: 0 };
    },
    reset: (key: string) => void hits.delete(key),
  };
}

export function createSharedCounters(opts: {
  /** null: memory only. */
  redisUrl: string | null;
  keyPrefix: string;
  clock: Clock;
  log: Logger;
  commandTimeoutMs?: number;
}): SharedCounters {
  const { clock, log } = opts;
  const timeoutMs = opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const client = opts.redisUrl
    ? createClient({
        url: opts.redisUrl,
        // Fail at once while disconnected instead of queueing: a login must not wait for Redis to come back.
        disableOfflineQueue: true,
        socket: { connectTimeout: 2000, reconnectStrategy: (n) => Math.min(100 * 2 ** n, 5000) },
      })
    : null;
  let closed = false;
  let usingRedis = false;
  const report = (now: boolean, err?: unknown) => {
    if (now === usingRedis) return;
    usingRedis = now;
    if (now) log.info('rate limits shared through redis');
    else log.warn('rate limits per instance: redis unavailable', { err: String(err ?? 'not connected') });
  };
  if (client) {
    // An unhandled 'error' would end the process; a lost Redis costs only the sharing.
    client.on('error', (err: unknown) => report(false, err));
    client.on('ready', () => report(true));
    // Start-up never waits for Redis (the embedded default must start without it).
    client.connect().catch((err: unknown) => report(false, err));
  }

  /** Runs `cmd` against Redis, or gives undefined when Redis is not there or too slow. */
  async function viaRedis<T>(cmd: (c: NonNullable<typeof client>) => Promise<T>): Promise<T | undefined> {
    if (!client || closed || !client.isReady) return undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        cmd(client),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`redis took longer than ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      log.warn('rate limit counted per instance: redis command failed', { err: String(err) });
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    counter(name, windowMs) {
      const local = memoryCounter(windowMs, clock);
      const keyOf = (key: string) => `${opts.keyPrefix}:rl:${name}:${key}`;
      const toCount = (count: unknown, pttl: unknown): WindowCount => ({
        count: Number(count ?? 0),
        resetInMs: Math.max(0, Number(pttl)),
      });
      return {
        async hit(key) {
          const mine = local.hit(key);
          const k = keyOf(key);
          const shared = await viaRedis(async (c) => {
            const [, count, pttl] = await c
              .multi()
              .set(k, '0', { expiration: { type: 'PX', value: windowMs }, condition: 'NX' })
              .incr(k)
              .pTTL(k)
              .exec();
            return toCount(count, pttl);
          });
          return shared ?? mine;
        },
        async peek(key) {
          const k = keyOf(key);
          const shared = await viaRedis(async (c) => {
            const [count, pttl] = await c.multi().get(k).pTTL(k).exec();
            return toCount(count, pttl);
          });
          return shared ?? local.peek(key);
        },
        async reset(key) {
          local.reset(key);
          await viaRedis((c) => c.del(keyOf(key)));
        },
      };
    },
    mode: () => (client?.isReady && !closed ? 'redis' : 'memory'),
    async close() {
      closed = true;
      if (!client) return;
      try {
        if (client.isReady) await client.close();
        else if (client.isOpen) client.destroy();
      } catch {
        // Closing a broken connection: nothing left to release.
      }
    },
  };
}
