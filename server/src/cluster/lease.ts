import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../db/store.ts';
import type { Clock, Logger } from '../http/logger.ts';

/**
 * Cluster leases (issue 13): periodic work that must run once per cluster —
 * the dispatch deadline pass, health sweeps, ONVIF event pulls — runs on the
 * one instance that holds its lease in the shared database. The others skip
 * it and take over when the holder stops renewing (it died, or lost the
 * database) and the lease expires.
 *
 * Expiry compares the holder's clock (which wrote `expires_at`) with the
 * taker's: instances must agree on the time to well within the TTL (NTP),
 * or two could run the same pass for the difference.
 */

/** One holder id per server instance: host and pid say who it is in logs, the random part makes it unique. */
export function newHolderId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export interface LeaseRow {
  name: string;
  holder: string;
  expiresAt: number;
}

/**
 * Take or renew, parameters (name, holder, new expiry, now): inserts the lease if absent; else the row is
 * updated (and counted as changed) only when this holder has it or it expired. PostgreSQL's ON CONFLICT DO
 * UPDATE ... WHERE takes the row lock, so of two takers of one expired lease exactly one changes a row.
 */
export const ACQUIRE_SQL = `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE leases.holder = excluded.holder OR leases.expires_at < ?`;

/**
 * The lease table's statements, on either engine (db/store.ts). `acquire` is one statement, atomic on
 * SQLite and PostgreSQL alike: insert the lease if absent, else take it over
 * only if this holder has it already (renewal) or it has expired. A row is
 * changed exactly when the caller holds the lease afterwards.
 */
export function createLeaseRepo(store: Store) {
  return {
    async acquire(name: string, holder: string, nowMs: number, ttlMs: number): Promise<boolean> {
      return (await store.run(ACQUIRE_SQL, [name, holder, nowMs + ttlMs, nowMs])).changes === 1;
    },
    /** Gives the lease up at once (orderly shutdown), so another instance need not wait for it to expire. */
    async release(name: string, holder: string): Promise<void> {
      await store.run('DELETE FROM leases WHERE name = ? AND holder = ?', [name, holder]);
    },
    async current(name: string): Promise<LeaseRow | undefined> {
      const r = await store.get<{ name: string; holder: string; expires_at: number }>(
        'SELECT name, holder, expires_at FROM leases WHERE name = ?',
        [name],
      );
      return r && { name: r.name, holder: r.holder, expiresAt: Number(r.expires_at) };
    },
  };
}

export type LeaseRepo = ReturnType<typeof createLeaseRepo>;

/** Names of the cluster-wide duties. */
export const LEASES = {
  dispatchDeadlines: 'dispatch.deadlines',
  healthSweeps: 'health.sweeps',
  onvifEvents: 'alerts.onvif-events',
} as const;

export interface ClusterLease {
  readonly name: string;
  readonly holder: string;
  /** Takes or renews the lease now; true when this instance holds it (a database error counts as not holding). */
  hold(): Promise<boolean>;
  /** Whether this instance held the lease at its last attempt and that hold has not expired. */
  held(): boolean;
  /**
   * Runs `work` when this instance holds the lease (taking or renewing it first), renewing it while the
   * work runs (a sweep may outlast the TTL); null without running when another instance holds it.
   */
  run<T>(work: () => T | Promise<T>): Promise<T | null>;
  /** Called when this instance gains or loses the lease. */
  onChange(fn: (held: boolean) => void): () => void;
  /** Renews every third of the TTL (at most 10 s), and tries to take the lease as often when another holds it. */
  start(): void;
  /** Stops renewing and gives the lease up (resolves once the release was tried). */
  stop(): Promise<void>;
  /** Passes run and skipped here (tests and logs). */
  stats(): { runs: number; skips: number };
}

export interface ClusterLeaseDeps {
  repo: LeaseRepo;
  name: string;
  holder: string;
  ttlMs: number;
  clock: Clock;
  log: Logger;
}

/** Renewal at a third of the TTL, but at least this often: a long TTL should not make a takeover wait for it. */
const RENEW_MAX_MS = 10_000;

export function createClusterLease(deps: ClusterLeaseDeps): ClusterLease {
  const { repo, name, holder, ttlMs, clock, log } = deps;
  const renewMs = Math.max(50, Math.min(ttlMs / 3, RENEW_MAX_MS));
  let heldUntil = 0;
  let wasHeld = false;
  let timer: NodeJS.Timeout | null = null;
  const listeners = new Set<(held: boolean) => void>();
  const counts = { runs: 0, skips: 0 };

  let stopped = false;
  async function hold(): Promise<boolean> {
    const now = clock.now().getTime();
    let ok = false;
    try {
      ok = await repo.acquire(name, holder, now, ttlMs);
    } catch (err) {
      // A busy or unreachable database: not holding is the safe answer (the pass waits, it does not run twice).
      log.warn('lease not renewed', { lease: name, err: String(err) });
    }
    // An answer that arrives after stop() changes nothing: stop gave the lease up.
    if (stopped) return false;
    heldUntil = ok ? now + ttlMs : 0;
    if (ok !== wasHeld) {
      wasHeld = ok;
      if (ok) log.info('lease taken', { lease: name, holder });
      else log.info('lease lost', { lease: name, holder });
      for (const fn of listeners) fn(ok);
    }
    return ok;
  }

  return {
    name,
    holder,
    hold,
    held: () => heldUntil > clock.now().getTime(),
    async run<T>(work: () => T | Promise<T>): Promise<T | null> {
      if (!(await hold())) {
        counts.skips++;
        return null;
      }
      counts.runs++;
      const renew = setInterval(() => void hold(), renewMs);
      renew.unref();
      try {
        return await work();
      } finally {
        clearInterval(renew);
      }
    },
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    start() {
      if (timer) return;
      stopped = false;
      void hold();
      timer = setInterval(() => void hold(), renewMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      stopped = true;
      const had = wasHeld;
      heldUntil = 0;
      wasHeld = false;
      if (had) await repo.release(name, holder).catch(() => {}); // else it expires by itself
    },
    stats: () => ({ ...counts }),
  };
}
