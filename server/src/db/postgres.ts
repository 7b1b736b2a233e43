/**
 * PostgreSQL under the asynchronous storage surface (db/store.ts), over a `pg` pool.
 *
 * - `?` placeholders become `$1..$n` (outside string literals and quoted names), once per SQL text.
 * - BIGINT (and COUNT's bigint) come back as numbers: every integer this platform stores (ids, counts,
 *   epoch milliseconds) is far below 2^53; a value beyond it is an error, never a silent rounding.
 * - A transaction takes one pooled connection; everything awaited inside it (found by async context) runs on
 *   that connection; a nested one is a savepoint. Other work uses the rest of the pool meanwhile.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { StorageUnavailableError, type SqlValue, type Store } from './store.ts';

export interface PostgresOptions {
  url: string;
  /** Connections in the pool. */
  max?: number;
  /** Give up connecting after this long (ms). */
  connectTimeoutMs?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /** A statement without an answer for this long fails as unavailable, and its connection is dropped (ms). */
  queryTimeoutMs?: number;
}

const LOST_CONNECTION = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// SQLSTATEs that say the server, not the statement, failed: connection exceptions (class 08), shutdown,
// not accepting connections yet, too many connections, a database that refuses connections.
const SERVER_STATES = new Set(['57P01', '57P02', '57P03', '53300', '55000']);
const LOST_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Connection ended|Client was closed/i;

/**
 * Why an error means "the database cannot be reached", or null when it is the statement's own failure (a
 * constraint, a syntax error), which callers handle as before.
 */
export function unavailableReason(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (LOST_CONNECTION.has(code)) return `connection ${code}`;
    if (code.startsWith('08') || SERVER_STATES.has(code)) return `${code} ${err.message}`;
  }
  if (LOST_MESSAGE.test(err.message)) return err.message;
  // AggregateError (every address of a host name refused) carries the causes.
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner)) for (const e of inner) if (unavailableReason(e)) return unavailableReason(e);
  return null;
}

/** Rethrows a lost connection as StorageUnavailableError; anything else unchanged. */
function classify(err: unknown): never {
  if (err instanceof StorageUnavailableError) throw err;
  const reason = unavailableReason(err);
  throw reason ? new StorageUnavailableError(reason) : err;
}

const INT8 = 20;
const NUMERIC = 1700;

function safeInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${text} is beyond 2^53: refusing to round it`);
  return n;
}

/** `?` → `$n`, skipping '…' literals, "…" names and -- comments. */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      out += `$${++n}`;
    } else out += c;
  }
  return out;
}

export async function openPostgres(opts: PostgresOptions): Promise<Store & { pool: pg.Pool }> {
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === INT8 || oid === NUMERIC
        ? (v: string) => (oid === INT8 ? safeInteger(v) : Number(v))
        : pg.types.getTypeParser(oid, format ?? 'text'),
  } as pg.CustomTypesConfig;
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    query_timeout: opts.queryTimeoutMs ?? 30_000,
    keepAlive: true,
    // Connections are kept, not closed after 10 s idle (pg's default): a new server process's first statements
    // load its catalog caches, tens of ms each, and a burst after a quiet spell (100 alerts a second after a
    // pause, bench:cluster) then queued on fresh connections for a second.
    idleTimeoutMillis: 0,
    application_name: opts.applicationName ?? 'county-video-command-center',
    types,
  });
  // An idle connection that breaks (server restart) emits on the pool: without a listener it would crash.
  pool.on('error', () => {});
  // Fails here, clearly, when the database cannot be reached or the URL is wrong.
  (await pool.connect()).release();

  // `open` turns false when the transaction (or savepoint) ends: work it started that runs on afterwards (an event
  // listener's promise chain inherits the async context) must not use its connection then.
  const context = new AsyncLocalStorage<{ client: pg.PoolClient; depth: number; open: boolean }>();
  const current = () => {
    const c = context.getStore();
    return c?.open ? c : undefined;
  };
  const texts = new Map<string, string>();
  const text = (sql: string) => {
    let t = texts.get(sql);
    if (t === undefined) {
      t = numberPlaceholders(sql);
      if (texts.size < 5000) texts.set(sql, t);
    }
    return t;
  };
  const query = (sql: string, params: readonly SqlValue[]) => {
    const on = current()?.client ?? pool;
    return on.query(text(sql), params as unknown[]).catch(classify);
  };

  return {
    pool,
    dialect: 'postgres',
    containsSql: (column) => `strpos(${column}, ?) > 0`,
    async all<T>(sql: string, params: readonly SqlValue[] = []) {
      return (await query(sql, params)).rows as T[];
    },
    async get<T>(sql: string, params: readonly SqlValue[] = []) {
      return (await query(sql, params)).rows[0] as T | undefined;
    },
    async rows(sql, params = []) {
      const on = current()?.client ?? pool;
      return (await on.query({ text: text(sql), values: params as unknown[], rowMode: 'array' }).catch(classify))
        .rows as SqlValue[][];
    },
    async run(sql, params = []) {
      return { changes: (await query(sql, params)).rowCount ?? 0 };
    },
    async insert(sql, params = []) {
      const r = await query(/\breturning\b/i.test(sql) ? sql : `${sql} RETURNING id`, params);
      const id = (r.rows[0] as { id?: unknown } | undefined)?.id;
      if (typeof id !== 'number') throw new Error('insert(): the statement returned no id');
      return id;
    },
    async exec(sql) {
      const on = current()?.client ?? pool;
      await on.query(sql).catch(classify);
    },
    transaction<T>(fn: () => Promise<T>): Promise<T> {
      return transaction(fn).catch(classify);
    },
    atomic<T>(fn: () => Promise<T>): Promise<T> {
      return current() ? fn() : transaction(fn).catch(classify);
    },
    connections: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async lock(key) {
      const c = current();
      if (!c) throw new Error(`lock(${key}) outside a transaction`);
      // 64-bit hash of the key; held until COMMIT or ROLLBACK (a savepoint's release keeps it).
      await c.client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]).catch(classify);
    },
    async close() {
      await pool.end();
    },
  };

  /** BEGIN … COMMIT on a pooled connection, or a savepoint inside the current transaction. */
  async function transaction<T>(fn: () => Promise<T>): Promise<T> {
    const inner = current();
    if (inner) {
      const sp = `sp${inner.depth}`;
      await inner.client.query(`SAVEPOINT ${sp}`);
      const mine = { client: inner.client, depth: inner.depth + 1, open: true };
      try {
        const out = await context.run(mine, fn);
        mine.open = false;
        await inner.client.query(`RELEASE SAVEPOINT ${sp}`);
        return out;
      } catch (err) {
        mine.open = false;
        await inner.client.query(`ROLLBACK TO SAVEPOINT ${sp}`);
        throw err;
      }
    }
    const client = await pool.connect();
    let broken: Error | undefined;
    // A connection lost between two statements emits 'error' on the checked-out client (the pool listens only
    // to idle ones): without this listener it would be an uncaught exception. The next statement then fails.
    const lost = (e: Error) => (broken = e);
    client.on('error', lost);
    const mine = { client, depth: 1, open: true };
    try {
      await client.query('BEGIN').catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
        throw e;
      });
      try {
        const out = await context.run(mine, fn);
        mine.open = false;
        await client.query('COMMIT');
        return out;
      } catch (err) {
        mine.open = false;
        await client.query('ROLLBACK').catch((e: unknown) => (broken = e instanceof Error ? e : new Error(String(e))));
        throw err;
      }
    } finally {
      mine.open = false;
      // A connection whose rollback failed is in an unknown state: the pool drops it rather than reuse it.
      client.off('error', lost);
      client.release(broken);
    }
  }
}
