import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../db/migrations.ts';
import { openSqlite, type SqlDb } from '../db/sqlite.ts';
import { createLogger } from '../http/logger.ts';
import { ACQUIRE_SQL, createClusterLease, createLeaseRepo, newHolderId } from './lease.ts';

const TTL = 30_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const log = createLogger('error');

function memoryDb(): SqlDb {
  const db = openSqlite(':memory:');
  migrate(db, () => new Date(T0));
  return db;
}

describe('the lease statement', () => {
  it('two holders: the first takes it, the second is refused while it runs', () => {
    const repo = createLeaseRepo(memoryDb());
    expect(repo.acquire('d', 'a', T0, TTL)).toBe(true);
    expect(repo.acquire('d', 'b', T0 + 1, TTL)).toBe(false);
    expect(repo.acquire('d', 'b', T0 + TTL, TTL)).toBe(false);
    expect(repo.current('d')).toEqual({ name: 'd', holder: 'a', expiresAt: T0 + TTL });
  });

  it('renewal by the holder moves the expiry; another takes it only after that', () => {
    const repo = createLeaseRepo(memoryDb());
    repo.acquire('d', 'a', T0, TTL);
    expect(repo.acquire('d', 'a', T0 + 10_000, TTL)).toBe(true);
    expect(repo.current('d')?.expiresAt).toBe(T0 + 10_000 + TTL);
    // Past the first expiry, but not the renewed one.
    expect(repo.acquire('d', 'b', T0 + TTL + 1, TTL)).toBe(false);
    expect(repo.acquire('d', 'b', T0 + 10_000 + TTL + 1, TTL)).toBe(true);
    expect(repo.current('d')?.holder).toBe('b');
    // The old holder, back from a pause, does not get it back while b's runs.
    expect(repo.acquire('d', 'a', T0 + 10_000 + TTL + 2, TTL)).toBe(false);
  });

  it('leases are independent by name; release frees one at once, and only for its holder', () => {
    const repo = createLeaseRepo(memoryDb());
    expect(repo.acquire('d', 'a', T0, TTL)).toBe(true);
    expect(repo.acquire('h', 'b', T0, TTL)).toBe(true);
    repo.release('d', 'b');
    expect(repo.current('d')?.holder).toBe('a');
    repo.release('d', 'a');
    expect(repo.acquire('d', 'b', T0 + 1, TTL)).toBe(true);
  });

  it('two connections to one database file: of two takers of an expired lease exactly one wins', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ccc-lease-'));
    try {
      const one = openSqlite(path.join(dir, 'x.db'));
      migrate(one, () => new Date(T0));
      const two = openSqlite(path.join(dir, 'x.db'));
      const a = createLeaseRepo(one);
      const b = createLeaseRepo(two);
      expect(a.acquire('d', 'a', T0, TTL)).toBe(true);
      const later = T0 + TTL + 1;
      const won = [b.acquire('d', 'b', later, TTL), createLeaseRepo(one).acquire('d', 'c', later, TTL)];
      expect(won).toEqual([true, false]);
      one.close();
      two.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs on PostgreSQL as written (psql, a temporary table)', (ctx) => {
    const probe = spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-XAtqc', 'SELECT 1'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      if (process.env['REQUIRE_SERVICES'] === '1') throw new Error(`PostgreSQL is not reachable: ${probe.stderr}`);
      console.warn('SKIP: PostgreSQL (psql -h 127.0.0.1 -U postgres) is not reachable');
      ctx.skip();
    }
    let n = 0;
    const pgSql = ACQUIRE_SQL.replace(/\?/g, () => `$${++n}`);
    const script = [
      'CREATE TEMP TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL);',
      `PREPARE acq(text, text, bigint, bigint) AS ${pgSql};`,
      `EXECUTE acq('d', 'a', ${T0 + TTL}, ${T0});`,
      `EXECUTE acq('d', 'b', ${T0 + 1 + TTL}, ${T0 + 1});`,
      `EXECUTE acq('d', 'a', ${T0 + 10 + TTL}, ${T0 + 10});`,
      `EXECUTE acq('d', 'b', ${T0 + 11 + 2 * TTL}, ${T0 + 11 + TTL});`,
      "SELECT 'holder=' || holder || ' expires=' || expires_at FROM leases;",
    ].join('\n');
    const r = spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-X', '-v', 'ON_ERROR_STOP=1', '-At'], {
      input: script,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    // Taken, refused, renewed, taken over after expiry.
    expect(r.stdout.match(/^INSERT 0 \d$/gm)).toEqual(['INSERT 0 1', 'INSERT 0 0', 'INSERT 0 1', 'INSERT 0 1']);
    expect(r.stdout).toContain(`holder=b expires=${T0 + 11 + 2 * TTL}`);
  });
});

describe('a cluster lease', () => {
  let db: SqlDb | null = null;
  afterEach(() => db?.close());

  it('runs work on the holder only; the other takes over when the holder stops renewing', async () => {
    db = memoryDb();
    let now = T0;
    const clock = { now: () => new Date(now) };
    const repo = createLeaseRepo(db);
    const a = createClusterLease({ repo, name: 'd', holder: newHolderId(), ttlMs: TTL, clock, log });
    const b = createClusterLease({ repo, name: 'd', holder: newHolderId(), ttlMs: TTL, clock, log });
    expect(a.holder).not.toBe(b.holder);
    const ran: string[] = [];
    expect(await a.run(() => ran.push('a'))).toBe(1);
    expect(await b.run(() => ran.push('b'))).toBeNull();
    now += TTL / 2;
    await a.run(() => ran.push('a'));
    await b.run(() => ran.push('b'));
    expect(ran).toEqual(['a', 'a']);
    expect(a.held()).toBe(true);
    expect(b.held()).toBe(false);
    // a dies (no release, no renewal): b waits out a's last lease, then runs.
    now += TTL;
    await b.run(() => ran.push('b'));
    expect(ran).toEqual(['a', 'a']);
    now += 1;
    await b.run(() => ran.push('b'));
    expect(ran).toEqual(['a', 'a', 'b']);
    expect(a.hold()).toBe(false);
    expect(a.held()).toBe(false);
    expect(a.stats()).toEqual({ runs: 2, skips: 0 });
    expect(b.stats()).toEqual({ runs: 1, skips: 3 });
  });

  it('tells listeners when it is gained and lost; stop gives it up at once', () => {
    db = memoryDb();
    let now = T0;
    const clock = { now: () => new Date(now) };
    const repo = createLeaseRepo(db);
    const a = createClusterLease({ repo, name: 'd', holder: 'a', ttlMs: TTL, clock, log });
    const b = createClusterLease({ repo, name: 'd', holder: 'b', ttlMs: TTL, clock, log });
    const seen: string[] = [];
    a.onChange((held) => seen.push(`a:${held}`));
    b.onChange((held) => seen.push(`b:${held}`));
    a.start();
    b.start();
    expect(seen).toEqual(['a:true']);
    a.stop();
    expect(repo.current('d')).toBeUndefined();
    expect(b.hold()).toBe(true);
    now += TTL - 1;
    // a tries again: b holds it, a does not.
    expect(a.hold()).toBe(false);
    b.stop();
    expect(seen).toEqual(['a:true', 'b:true']);
  });

  it('a database error is not holding', async () => {
    db = memoryDb();
    const repo = createLeaseRepo(db);
    const lease = createClusterLease({
      repo,
      name: 'd',
      holder: 'a',
      ttlMs: TTL,
      clock: { now: () => new Date(T0) },
      log,
    });
    expect(lease.hold()).toBe(true);
    db.exec('DROP TABLE leases');
    let ran = false;
    expect(
      await lease.run(() => {
        ran = true;
      }),
    ).toBeNull();
    expect(ran).toBe(false);
    expect(lease.held()).toBe(false);
    db.exec('CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL)');
  });
});
