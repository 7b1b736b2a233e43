/**
 * One pass of the session re-check over a server's open connections (Socket.IO consoles, live sockets):
 * sessions can end without an event (expired, swept, changed on another instance), so every connection is
 * looked at again on a timer. The rule both share: connections are checked one after another; a failed
 * lookup says nothing about a session, so the connection stays until the next pass; and storage being away
 * fails every lookup alike, so it ends the pass with one warning instead of a line per connection.
 */
import { StorageUnavailableError } from '../db/store.ts';
import type { Logger } from '../http/logger.ts';

export async function recheckPass<T>(
  items: readonly T[],
  check: (item: T) => Promise<void>,
  opts: { log: Logger; what: string; stopped?: () => boolean },
): Promise<void> {
  for (const item of items) {
    if (opts.stopped?.()) return;
    try {
      await check(item);
    } catch (err) {
      if (opts.stopped?.()) return;
      if (err instanceof StorageUnavailableError) {
        opts.log.warn(`${opts.what} re-check paused: storage unavailable`, { reason: err.reason });
        return;
      }
      opts.log.error(`${opts.what} re-check failed`, { err: String(err) });
    }
  }
}
