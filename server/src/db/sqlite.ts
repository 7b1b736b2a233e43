import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';

export type SqlValue = SQLInputValue;
export type Row = Record<string, SqlValue>;

/**
 * The narrow SQL surface the repositories use. SQL written against it sticks
 * to what SQLite and PostgreSQL share (`?` placeholders are rewritten to `$n`
 * by a PostgreSQL implementation).
 */
export interface SqlDb {
  /** SQL for "`column` contains the next parameter as a substring" (SQLite instr, PostgreSQL strpos). */
  readonly containsSql: (column: string) => string;
  all<T = Row>(sql: string, params?: readonly SqlValue[]): T[];
  get<T = Row>(sql: string, params?: readonly SqlValue[]): T | undefined;
  /** Rows as arrays in column order: for bulk reads, where building an object per row costs twice the query. */
  rows(sql: string, params?: readonly SqlValue[]): SqlValue[][];
  run(sql: string, params?: readonly SqlValue[]): { changes: number; lastInsertRowid: number };
  exec(sql: string): void;
  /** Runs `fn` in one transaction; any throw rolls everything back. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export function openSqlite(file: string): SqlDb {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec('PRAGMA optimize = 0x10002');
  const cache = new Map<string, StatementSync>();
  const prep = (sql: string): StatementSync => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
  const arrayCache = new Map<string, StatementSync>();
  let depth = 0;
  return {
    containsSql: (column) => `instr(${column}, ?) > 0`,
    all: <T>(sql: string, params: readonly SqlValue[] = []) => prep(sql).all(...params) as T[],
    get: <T>(sql: string, params: readonly SqlValue[] = []) => prep(sql).get(...params) as T | undefined,
    rows(sql, params = []) {
      let stmt = arrayCache.get(sql);
      if (!stmt) {
        stmt = db.prepare(sql);
        stmt.setReturnArrays(true);
        arrayCache.set(sql, stmt);
      }
      return stmt.all(...params) as unknown as SqlValue[][];
    },
    run(sql, params = []) {
      const r = prep(sql).run(...params);
      return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
    },
    exec: (sql) => db.exec(sql),
    transaction<T>(fn: () => T): T {
      // Nested calls join the outer transaction via a savepoint. The outer one may also be the asynchronous
      // store's (db/store.ts), open on this connection while a synchronous repository runs inside it.
      const outer = depth > 0 || db.isTransaction;
      const sp = `sps${depth}`;
      db.exec(outer ? `SAVEPOINT ${sp}` : 'BEGIN IMMEDIATE');
      depth++;
      try {
        const out = fn();
        depth--;
        db.exec(outer ? `RELEASE ${sp}` : 'COMMIT');
        return out;
      } catch (err) {
        depth--;
        db.exec(outer ? `ROLLBACK TO ${sp}; RELEASE ${sp}` : 'ROLLBACK');
        throw err;
      }
    },
    close: () => db.close(),
  };
}
