/**
 * The asynchronous storage surface (issue 13), the one both engines can offer: SQLite through `node:sqlite`
 * (the embedded default) and PostgreSQL through a `pg` pool (db/postgres.ts). The repositories still use the
 * synchronous `SqlDb` (db/sqlite.ts); they move onto this surface module by module.
 *
 * SQL written against it: `?` placeholders (PostgreSQL's `$n` are written by its implementation), snake_case
 * names, `insert()` for rows whose id the database assigns (AUTOINCREMENT / identity), `containsSql` for
 * substring tests, and nothing else engine-specific.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SqlDb, SqlValue } from './sqlite.ts';

export type { SqlValue };
export type Dialect = 'sqlite' | 'postgres';

/**
 * The database cannot be reached (connection refused, lost or timed out, the server shutting down): nothing
 * about the request itself. HTTP answers 503 with the reason; the statement's transaction is rolled back by
 * the engine; the next request tries again on a new connection.
 */
export class StorageUnavailableError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(`storage unavailable: ${reason}`);
    this.reason = reason;
    this.name = 'StorageUnavailableError';
  }
}

export interface Store {
  readonly dialect: Dialect;
  /** SQL for "`column` contains the next parameter as a substring". */
  readonly containsSql: (column: string) => string;
  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Rows as arrays in column order: for bulk reads, where building an object per row costs twice the query. */
  rows(sql: string, params?: readonly SqlValue[]): Promise<SqlValue[][]>;
  /** A statement without rows; resolves with the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /** An INSERT of one row into a table whose `id` the database assigns; resolves with that id. */
  insert(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Several statements without parameters (schema). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in one transaction: everything it awaits through this store is inside it, a throw rolls it all
   * back. A transaction inside another is a savepoint of the outer one. Other work waits or runs beside it
   * as the engine allows; it never sees the transaction's writes before the commit.
   */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Runs `fn` inside the current transaction when there is one (no savepoint: a throw rolls the whole of it
   * back, as the caller's own throw would), else in a transaction of its own. For steps that must be atomic
   * but need no rollback of their own (two round trips fewer on PostgreSQL).
   */
  atomic<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Inside a transaction: holds `key` until the transaction ends, so that another transaction asking for the
   * same key (on any instance) waits for this one's commit before it runs its check. For a check and the
   * write it guards that no unique index can (one open alert per storm key, one work order per alert, a state
   * read before it changes). SQLite needs nothing (a transaction holds the only write lock from BEGIN
   * IMMEDIATE on); PostgreSQL takes a transaction-level advisory lock. Outside a transaction it throws.
   */
  lock(key: string): Promise<void>;
  /** Connections now: open, idle, and requests waiting for one (for the metrics). */
  connections(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/**
 * SQLite under the asynchronous surface. One connection: a transaction holds it from BEGIN to COMMIT, so
 * statements from outside the transaction (other requests interleaving at its awaits) wait for it to end
 * rather than run inside it; statements from inside it (found by async context) run at once.
 */
export function sqliteStore(db: SqlDb): Store {
  // `open` turns false when the transaction (or savepoint) ends: work it started that runs on afterwards (an
  // event listener's promise chain inherits the async context) is then outside it, and waits like any other.
  const context = new AsyncLocalStorage<{ depth: number; open: boolean }>();
  const current = () => {
    const c = context.getStore();
    return c?.open ? c : undefined;
  };
  /** Resolves when the transaction holding the connection has ended; null while none does. */
  let holder: Promise<void> | null = null;

  /** The transaction to wait for before a statement from this context may run; null when it may run now. */
  const busy = (): Promise<void> | null => (holder && !current() ? holder : null);
  // Each wait is followed by its statement in the same synchronous step (no await between the check and the
  // statement), so no transaction can begin in between and take the statement in.
  const store: Store = {
    dialect: 'sqlite',
    containsSql: db.containsSql,
    async all<T>(sql: string, params: readonly SqlValue[] = []) {
      for (let h = busy(); h; h = busy()) await h;
      return db.all<T>(sql, params);
    },
    async get<T>(sql: string, params: readonly SqlValue[] = []) {
      for (let h = busy(); h; h = busy()) await h;
      return db.get<T>(sql, params);
    },
    async rows(sql, params = []) {
      for (let h = busy(); h; h = busy()) await h;
      return db.rows(sql, params);
    },
    async run(sql, params = []) {
      for (let h = busy(); h; h = busy()) await h;
      return { changes: db.run(sql, params).changes };
    },
    async insert(sql, params = []) {
      for (let h = busy(); h; h = busy()) await h;
      return db.run(sql, params).lastInsertRowid;
    },
    async exec(sql) {
      for (let h = busy(); h; h = busy()) await h;
      db.exec(sql);
    },
    async transaction<T>(fn: () => Promise<T>): Promise<T> {
      const inner = current();
      if (inner) {
        const sp = `sp${inner.depth}`;
        db.exec(`SAVEPOINT ${sp}`);
        const mine = { depth: inner.depth + 1, open: true };
        try {
          const out = await context.run(mine, fn);
          mine.open = false;
          db.exec(`RELEASE ${sp}`);
          return out;
        } catch (err) {
          mine.open = false;
          db.exec(`ROLLBACK TO ${sp}; RELEASE ${sp}`);
          throw err;
        }
      }
      for (let h = busy(); h; h = busy()) await h;
      let release!: () => void;
      holder = new Promise<void>((r) => (release = r));
      const mine = { depth: 1, open: true };
      try {
        db.exec('BEGIN IMMEDIATE');
        try {
          const out = await context.run(mine, fn);
          mine.open = false;
          db.exec('COMMIT');
          return out;
        } catch (err) {
          mine.open = false;
          db.exec('ROLLBACK');
          throw err;
        }
      } finally {
        mine.open = false;
        holder = null;
        release();
      }
    },
    atomic<T>(fn: () => Promise<T>): Promise<T> {
      return current() ? fn() : store.transaction(fn);
    },
    async lock(key) {
      if (!current()) throw new Error(`lock(${key}) outside a transaction`);
    },
    // One connection; a transaction holds it, and statements from outside it wait.
    connections: () => ({ total: 1, idle: holder ? 0 : 1, waiting: 0 }),
    async close() {
      for (let h = busy(); h; h = busy()) await h;
      db.close();
    },
  };
  return store;
}
