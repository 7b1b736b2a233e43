import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../db/migrations.ts';
import { openPostgres } from '../db/postgres.ts';
import { migratePostgres } from '../db/postgres-schema.ts';
import { openSqlite, type SqlDb } from '../db/sqlite.ts';
import { sqliteStore, type Store } from '../db/store.ts';
import { createLogger } from '../http/logger.ts';
import { serviceAvailable } from '../../../tests/alerts/services.ts';
import { createClusterLease, createLeaseRepo, newHolderId } from './lease.ts';

const TTL = 30_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const log = createLogger('error');

// PostgreSQL: a database of this run's own, dropped at the end.
const havePostgres = await serviceAvailable('PostgreSQL', '127.0.0.1', 5432);
const pgName = `ccc_lease_${process.pid}_${randomBytes(4).toString('hex')}`;
let pgAdmin: pg.Pool | null = null;
beforeAll(async () => {
  if (!havePostgres) return;
  pgAdmin = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres', max: 1 });
  await pgAdmin.query(`CREATE DATABASE ${pgName}`);
});
afterAll(async () => {
  if (!pgAdmin) return;
  await pgAdmin.query(`DROP DATABASE IF EXISTS ${pgName} WITH (FORCE)`);
  await pgAdmin.end();
});

function memoryDb(): SqlDb {
  const db = openSqlite(':memory:');
  migrate(db, () => new Date(T0));
  return db;
}
const memoryStore = (): Store => sqliteStore(memoryDb());

describe('the lease statement', () => {
  it('two holders: the first takes it, the second is refused while it runs', async () => {
    const repo = createLeaseRepo(memoryStore());
    expect(await repo.acquire('d', 'a', T0, TTL)).toBe(true);
    expect(await repo.acquire('d', 'b', T0 + 1, TTL)).toBe(false);
    expect(await repo.acquire('d', 'b', T0 + TTL, TTL)).toBe(false);
    expect(await repo.current('d')).toEqual({ name: 'd', holder: 'a', expiresAt: T0 + TTL });
  });

  it('renewal by the holder moves the expiry; another takes it only after that', async () => {
    const repo = createLeaseRepo(memoryStore());
    await repo.acquire('d', 'a', T0, TTL);
    expect(await repo.acquire('d', 'a', T0 + 10_000, TTL)).toBe(true);
    expect((await repo.current('d'))?.expiresAt).toBe(T0 + 10_000 + TTL);
    // Past the first expiry, but not the renewed one.
    expect(await repo.acquire('d', 'b', T0 + TTL + 1, TTL)).toBe(false);
    expect(await repo.acquire('d', 'b', T0 + 10_000 + TTL + 1, TTL)).toBe(true);
    expect((await repo.current('d'))?.holder).toBe('b');
    // The old holder, back from a pause, does not get it back while b's runs.
    expect(await repo.acquire('d', 'a', T0 + 10_000 + TTL + 2, TTL)).toBe(false);
  });

  it('leases are independent by name; release frees one at once, and only for its holder', async () => {
    const repo = createLeaseRepo(memoryStore());
    expect(await repo.acquire('d', 'a', T0, TTL)).toBe(true);
    expect(await repo.acquire('h', 'b', T0, TTL)).toBe(true);
    await repo.release('d', 'b');
    expect((await repo.current('d'))?.holder).toBe('a');
    await repo.release('d', 'a');
    expect(await repo.acquire('d', 'b', T0 + 1, TTL)).toBe(true);
  });

  it('two connections to one database file: of two takers of an expired lease exactly one wins', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ccc-lease-'));
    try {
      const one = openSqlite(path.join(dir, 'x.db'));
      migrate(one, () => new Date(T0));
      const two = openSqlite(path.join(dir, 'x.db'));
      const a = createLeaseRepo(sqliteStore(one));
      const b = createLeaseRepo(sqliteStore(two));
      expect(await a.acquire('d', 'a', T0, TTL)).toBe(true);
      const later = T0 + TTL + 1;
      const won = [await b.acquire('d', 'b', later, TTL), await a.acquire('d', 'c', later, TTL)];
      expect(won).toEqual([true, false]);
      one.close();
      two.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!havePostgres)('runs on PostgreSQL through the same repository (its own database)', async () => {
    const store = await openPostgres({ url: `postgres://postgres@127.0.0.1:5432/${pgName}`, max: 4 });
    try {
      await migratePostgres(store, () => new Date(T0));
      const repo = createLeaseRepo(store);
      expect(await repo.acquire('d', 'a', T0, TTL)).toBe(true);
      expect(await repo.acquire('d', 'b', T0 + 1, TTL)).toBe(false);
      expect(await repo.acquire('d', 'a', T0 + 10, TTL)).toBe(true);
      // Two takers of the expired lease at once, on two pooled connections: exactly one wins.
      const later = T0 + 10 + TTL + 1;
      const won = await Promise.all([repo.acquire('d', 'b', later, TTL), repo.acquire('d', 'c', later, TTL)]);
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(['b', 'c']).toContain((await repo.current('d'))?.holder);
      expect((await repo.current('d'))?.expiresAt).toBe(later + TTL);
    } finally {
      await store.close();
    }
  });
});

describe('a cluster lease', () => {
  let db: SqlDb | null = null;
  afterEach(() => db?.close());

  it('runs work on the holder only; the other takes over when the holder stops renewing', async () => {
    db = memoryDb();
    let now = T0;
    const clock = { now: () => new Date(now) };
    const repo = createLeaseRepo(sqliteStore(db));
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
    expect(await a.hold()).toBe(false);
    expect(a.held()).toBe(false);
    expect(a.stats()).toEqual({ runs: 2, skips: 0 });
    expect(b.stats()).toEqual({ runs: 1, skips: 3 });
  });

  it('tells listeners when it is gained and lost; stop gives it up at once', async () => {
    db = memoryDb();
    let now = T0;
    const clock = { now: () => new Date(now) };
    const repo = createLeaseRepo(sqliteStore(db));
    const a = createClusterLease({ repo, name: 'd', holder: 'a', ttlMs: TTL, clock, log });
    const b = createClusterLease({ repo, name: 'd', holder: 'b', ttlMs: TTL, clock, log });
    const seen: string[] = [];
    a.onChange((held) => seen.push(`a:${held}`));
    b.onChange((held) => seen.push(`b:${held}`));
    expect(await a.hold()).toBe(true);
    expect(await b.hold()).toBe(false);
    expect(seen).toEqual(['a:true']);
    await a.stop();
    expect(await repo.current('d')).toBeUndefined();
    expect(await b.hold()).toBe(true);
    now += TTL - 1;
    // A stopped lease takes nothing (an answer in flight at stop changes nothing either).
    expect(await a.hold()).toBe(false);
    await b.stop();
    expect(seen).toEqual(['a:true', 'b:true']);
  });

  it('a database error is not holding', async () => {
    db = memoryDb();
    const repo = createLeaseRepo(sqliteStore(db));
    const lease = createClusterLease({
      repo,
      name: 'd',
      holder: 'a',
      ttlMs: TTL,
      clock: { now: () => new Date(T0) },
      log,
    });
    expect(await lease.hold()).toBe(true);
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
