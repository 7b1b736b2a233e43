/**
 * npm run test:pg — the suite again on PostgreSQL (issue 13): every test server runs on a database of its own
 * on the machine's PostgreSQL (tests/helpers/server.ts, CCC_STORAGE__DRIVER=postgres; dropped when it
 * closes). CCC_TEST_POSTGRES_URL names the server (default postgres://postgres@127.0.0.1:5432/postgres).
 *
 * The browser tests are left out by default (TEST_PG_BROWSER=1 takes them in): they drive the same server
 * code through the same repositories, and take as long as the rest of this pass together. Tests that start
 * their own SQLite file on purpose (a restart on the same data, the store's own tests) run as they are.
 *
 * Without PostgreSQL it prints why and exits 0, unless REQUIRE_SERVICES=1 (CI), where that is a failure.
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';

const url = new URL(process.env['CCC_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const host = url.hostname || '127.0.0.1';
const port = Number(url.port || 5432);

const reachable = await new Promise<boolean>((resolve) => {
  const s = connect({ host, port });
  const done = (ok: boolean) => {
    s.destroy();
    resolve(ok);
  };
  s.setTimeout(2000, () => done(false));
  s.once('connect', () => done(true));
  s.once('error', () => done(false));
});
if (!reachable) {
  const why = `PostgreSQL is not reachable at ${host}:${port}`;
  if (process.env['REQUIRE_SERVICES'] === '1') {
    console.error(`test:pg: ${why} (REQUIRE_SERVICES=1)`);
    process.exit(1);
  }
  console.warn(`SKIP: ${why}; the PostgreSQL pass of the suite is skipped`);
  process.exit(0);
}

const root = path.resolve(import.meta.dirname, '..');
const args = ['run', ...(process.env['TEST_PG_BROWSER'] === '1' ? [] : ['--exclude', 'tests/browser/**'])];
console.log(`test:pg: the suite on PostgreSQL at ${host}:${port}${args.length > 1 ? ' (browser tests left out)' : ''}`);
const r = spawnSync(path.join(root, 'node_modules/.bin/vitest'), [...args, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CCC_STORAGE__DRIVER: 'postgres' },
});
process.exit(r.status ?? 1);
