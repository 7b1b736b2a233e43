import type { Clock } from '../http/logger.ts';

/**
 * Counts failures per key in a fixed window. In-process; a multi-instance
 * deployment swaps in a Redis-backed implementation of the same interface.
 */
export interface FailureLimiter {
  /** Seconds until the key may try again, or 0 when it may try now. */
  blockedFor(key: string): number;
  fail(key: string): void;
  reset(key: string): void;
}

export function createFailureLimiter(opts: { windowSeconds: number; max: number; clock: Clock }): FailureLimiter {
  const hits = new Map<string, { count: number; resetAt: number }>();
  const entry = (key: string) => {
    const now = opts.clock.now().getTime();
    const e = hits.get(key);
    if (e && e.resetAt > now) return e;
    if (e) hits.delete(key);
    return undefined;
  };
  return {
    blockedFor(key) {
      const e = entry(key);
      if (!e || e.count < opts.max) return 0;
      return Math.max(1, Math.ceil((e.resetAt - opts.clock.now().getTime()) / 1000));
    },
    fail(key) {
      const e = entry(key);
      if (e) e.count++;
      else {
        // Bound memory under a spray of distinct keys: drop the oldest entries.
        if (hits.size >= 100_000) for (const k of [...hits.keys()].slice(0, 10_000)) hits.delete(k);
        hits.set(key, { count: 1, resetAt: opts.clock.now().getTime() + opts.windowSeconds * 1000 });
      }
    },
    reset: (key) => void hits.delete(key),
  };
}
