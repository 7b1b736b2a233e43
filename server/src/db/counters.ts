import type { Store } from './store.ts';

/**
 * Named sequences kept by the database (table `counters`, migration 17), for cursors such as `alerts.seq`.
 *
 * `next` bumps and reads in one statement, inside the caller's write transaction when there is one: the
 * counter row stays locked until that transaction ends, so values are handed out and committed in order
 * across every process sharing the database (two instances on one SQLite file, or PostgreSQL), and a rolled
 * back write hands its value back. `MAX(seq) + 1` read and written in two statements gave two instances the
 * same value (UNIQUE constraint failed: alerts.seq, HTTP 500 for 2–3 % of alerts).
 */
export function createCounters(store: Store) {
  return {
    async next(name: CounterName): Promise<number> {
      const r = await store.get<{ value: number }>(
        'UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value',
        [name],
      );
      if (!r) throw new Error(`counter ${name} does not exist (migration 17 creates it)`);
      return Number(r.value);
    },
    /** The last value handed out (0 before the first). */
    async current(name: CounterName): Promise<number> {
      return Number(
        (await store.get<{ value: number }>('SELECT value FROM counters WHERE name = ?', [name]))?.value ?? 0,
      );
    },
  };
}

export type CounterName = 'alerts.seq';
export type Counters = ReturnType<typeof createCounters>;
