import type { WindowCounter } from '../cluster/rate-windows.ts';

/**
 * Counts failures per key in a fixed window. The counts live where the
 * counter keeps them: in Redis, shared by every instance, when `redis.url`
 * is set (failures on one instance count on all: issue 13), else (and while
 * Redis is down) in this process.
 */
export interface FailureLimiter {
  /** Seconds until the key may try again, or 0 when it may try now. */
  blockedFor(key: string): Promise<number>;
  fail(key: string): Promise<void>;
  reset(key: string): Promise<void>;
}

export function createFailureLimiter(opts: { max: number; counter: WindowCounter }): FailureLimiter {
  const { max, counter } = opts;
  return {
    async blockedFor(key) {
      const c = await counter.peek(key);
      if (c.count < max) return 0;
      return Math.max(1, Math.ceil(c.resetInMs / 1000));
    },
    async fail(key) {
      await counter.hit(key);
    },
    reset: (key) => counter.reset(key),
  };
}
