/**
 * Two instances starting at once on an empty PostgreSQL database (issue 13: compose starts both): one sets
 * the database up (the root org unit and `admin`), the other waits for it and finds it done. Before the
 * bootstrap held a lock, the second crashed on `duplicate key … org_units_code_key` three times in three.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { serviceAvailable } from '../alerts/services.ts';
import { startMainProcess, stopProcess } from '../helpers/processes.ts';
import { createPostgresDatabase } from '../helpers/server.ts';

const havePostgres = await serviceAvailable('PostgreSQL', '127.0.0.1', 5432);

describe.skipIf(!havePostgres)('first start of two instances at once', () => {
  it('sets the empty database up once; both instances serve, and admin signs in on either', async () => {
    const db = await createPostgresDatabase();
    const started: Awaited<ReturnType<typeof startMainProcess>>[] = [];
    try {
      const env = {
        CCC_STORAGE__DRIVER: 'postgres',
        CCC_STORAGE__POSTGRES__URL: db.url,
        CCC_SECRET_KEY: randomBytes(32).toString('base64'),
        CCC_ADMIN_PASSWORD: 'Admin-pw-first-start',
      };
      const results = await Promise.allSettled([startMainProcess(env, 'A'), startMainProcess(env, 'B')]);
      for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started'))).toEqual([
        'started',
        'started',
      ]);
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        expect((await c.query('SELECT code FROM org_units WHERE parent_id IS NULL')).rows).toHaveLength(1);
        expect((await c.query("SELECT id FROM users WHERE username = 'admin'")).rows).toHaveLength(1);
      } finally {
        await c.end();
      }
      for (const s of started) {
        const r = await fetch(`${s.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password: 'Admin-pw-first-start' }),
        });
        expect(r.status).toBe(200);
      }
    } finally {
      for (const s of started) await stopProcess(s.child);
      await db.drop();
    }
  }, 120_000);
});
