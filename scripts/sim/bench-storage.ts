/**
 * The storage a benchmark runs on (issue 13): SQLite by default, or PostgreSQL with BENCH_STORAGE=postgres.
 * On PostgreSQL each database the benchmark asks for is new and empty (`ccc_bench_<pid>_<random>`) on the
 * machine's server (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres), and every one
 * of them is dropped at the end: by `dropAll()` (call it in a `finally`), or on SIGINT / SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface BenchStorage {
  driver: 'sqlite' | 'postgres';
  /** Appended to every figure's name: '' on SQLite, '.pg' on PostgreSQL. */
  suffix: '' | '.pg';
  /** A new, empty PostgreSQL database; resolves with its URL. */
  createDatabase(): Promise<string>;
  /** Drops every database `createDatabase` made (ending their connections). Safe to call twice. */
  dropAll(): Promise<void>;
  /** What ran underneath, for the lines beside the figures (server version on PostgreSQL). */
  describe(): Promise<string>;
}

export function benchStorage(): BenchStorage {
  const wanted = process.env['BENCH_STORAGE'] ?? 'sqlite';
  if (wanted !== 'sqlite' && wanted !== 'postgres')
    throw new Error(`BENCH_STORAGE must be sqlite or postgres, not ${JSON.stringify(wanted)}`);
  const adminUrl = process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const created: string[] = [];

  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: adminUrl, application_name: 'ccc-bench-admin' });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };

  const dropAll = async () => {
    while (created.length > 0) {
      const name = created.pop()!;
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    }
  };

  if (wanted === 'postgres') {
    // An interrupted run leaves nothing behind either.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        dropAll().then(
          () => process.exit(signal === 'SIGINT' ? 130 : 143),
          (err: unknown) => {
            console.error(`dropping the benchmark databases failed: ${String(err)}`);
            process.exit(1);
          },
        );
      });
    }
  }

  return {
    driver: wanted,
    suffix: wanted === 'postgres' ? '.pg' : '',
    async createDatabase() {
      if (wanted !== 'postgres') throw new Error('createDatabase(): this run is on SQLite');
      const name = `ccc_bench_${process.pid}_${randomBytes(5).toString('hex')}`;
      await admin((c) => c.query(`CREATE DATABASE "${name}"`));
      created.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    dropAll,
    async describe() {
      if (wanted !== 'postgres') return `SQLite (node:sqlite) file`;
      const version = await admin(
        async (c) => (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v,
      );
      const url = new URL(adminUrl);
      return `PostgreSQL ${version} at ${url.hostname}:${url.port || 5432}`;
    },
  };
}
