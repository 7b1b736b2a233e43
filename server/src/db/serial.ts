import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Runs work one at a time, in the order asked, inside this process. For writes that the database would
 * serialise anyway (every alert change takes the next `alerts.seq` and holds its counter row until COMMIT):
 * waiting here costs nothing, where waiting in the database holds a pooled connection that every other
 * request of the instance needs (on PostgreSQL, 100 alerts a second emptied the pool and answered 503).
 *
 * Work started inside a run that asks again (a nested write) runs at once; work that the run started and
 * that goes on after the run ended (a listener's promise chain) queues like any other.
 */
export interface SerialQueue {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

export function createSerialQueue(): SerialQueue {
  const holder = new AsyncLocalStorage<{ open: boolean }>();
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(fn: () => Promise<T>): Promise<T> {
      if (holder.getStore()?.open) return fn();
      const out = tail.then(async () => {
        const mine = { open: true };
        try {
          return await holder.run(mine, fn);
        } finally {
          mine.open = false;
        }
      });
      tail = out.catch(() => undefined);
      return out;
    },
  };
}
