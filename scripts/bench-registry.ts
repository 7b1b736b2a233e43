/**
 * Registry benchmark: 50,000 seeded points.
 *   npm run bench:registry                                  (SQLite files)
 *   npm run bench:registry:pg  (= BENCH_STORAGE=postgres)   (fresh PostgreSQL databases, figures named `….pg`)
 * Prints one `BENCH <name> <value> <unit>` line per figure, with `#` lines saying what ran beside it.
 * Everything runs on loopback against the real server over HTTP. On PostgreSQL the databases
 * (`ccc_bench_<pid>_<random>`) are dropped at the end, also when a step fails.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { startServer, type RunningServer } from '../server/src/app.ts';
import { hashPassword } from '../server/src/auth/index.ts';
import { csvLine } from '../server/src/csv/csv.ts';
import { loadConfig } from '../server/src/config/load.ts';
import { createSecretBox } from '../server/src/crypto/secret-box.ts';
import { openPostgres } from '../server/src/db/postgres.ts';
import { openSqlite } from '../server/src/db/sqlite.ts';
import { demoCameraFields, prng, seedOrgTree } from '../server/src/demo/seed.ts';
import { createLogger, systemClock } from '../server/src/http/logger.ts';
import { benchStorage } from './sim/bench-storage.ts';
import { percentile } from './sim/measure.ts';

const N = Number(process.env.BENCH_POINTS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const root = path.resolve(import.meta.dirname, '..');
const work = mkdtempSync(path.join(tmpdir(), 'ccc-bench-'));
const key = randomBytes(32);
const secrets = createSecretBox(key);

const storage = benchStorage();
const onPostgres = storage.driver === 'postgres';

const pct = percentile;
const bench = (name: string, value: number, unit: string) =>
  console.log(`BENCH ${name}${storage.suffix} ${value.toFixed(unit === 'ms' ? 2 : 3)} ${unit}`);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

/** Where a server keeps its data: a SQLite file in `work`, or a new PostgreSQL database. */
type Database = { sqlitePath: string } | { postgresUrl: string };
async function newDatabase(file: string): Promise<Database> {
  return onPostgres ? { postgresUrl: await storage.createDatabase() } : { sqlitePath: path.join(work, file) };
}
/** The environment that points server/src/main.ts at `where`. */
const databaseEnv = (where: Database): Record<string, string> =>
  'postgresUrl' in where
    ? { CCC_STORAGE__DRIVER: 'postgres', CCC_STORAGE__POSTGRES__URL: where.postgresUrl }
    : { CCC_STORAGE__SQLITE__PATH: where.sqlitePath };

/** The same server as server/src/main.ts builds: on PostgreSQL a pool of the configured size, passed as `store`. */
async function start(where: Database): Promise<RunningServer> {
  const config = loadConfig({
    profile: 'test',
    env: {},
    overrides: {
      server: { port: 0, host: '127.0.0.1' },
      ...('postgresUrl' in where ? { storage: { driver: 'postgres', postgres: { url: where.postgresUrl } } } : {}),
    },
  });
  const deps = { config, clock: systemClock, secrets, log: createLogger('error') };
  if ('sqlitePath' in where) return startServer({ ...deps, db: openSqlite(where.sqlitePath) });
  const store = await openPostgres({
    url: where.postgresUrl,
    max: config.storage.postgres.poolSize,
    applicationName: 'ccc-bench',
  });
  return startServer({ ...deps, store }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
}
/** Stops the server and closes its database connection(s); the data stays. */
async function stop(s: RunningServer): Promise<void> {
  await s.close();
  await s.app.store.close();
}
const countPoints = async (s: RunningServer) =>
  Number((await s.app.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM camera_points'))?.n);

async function login(api: string, username: string): Promise<string> {
  const r = await fetch(`${api}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'bench-password' }),
  });
  if (!r.ok) throw new Error(`login ${username}: ${r.status}`);
  return ((await r.json()) as { token: string }).token;
}

async function timed(url: string, token: string): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return performance.now() - t0;
}

const running: RunningServer[] = [];
try {
  const underneath = await storage.describe();

  // 1. Seed 50,000 points into a database and measure queries over HTTP.
  const seeded = await newDatabase('ccc.db');
  let server = await start(seeded);
  running.push(server);
  const { orgs, cameras, users } = server.app.repos;
  const seedT0 = performance.now();
  const tree = await seedOrgTree(orgs, {
    seed: 1,
    townships: 8,
    villagesPerTownship: 5,
    cameras: 0,
    center: [118.8, 30.95],
  });
  await cameras.insertMany(demoCameraFields(tree.villages, N, 42, secrets));
  const seedS = (performance.now() - seedT0) / 1000;
  const hash = await hashPassword('bench-password');
  await users.insert({
    username: 'admin',
    displayName: 'a',
    passwordHash: hash,
    role: 'admin',
    orgUnitId: tree.county.id,
  });
  await users.insert({
    username: 'town',
    displayName: 't',
    passwordHash: hash,
    role: 'township_operator',
    orgUnitId: tree.townships[0]!.id,
  });
  const points = await countPoints(server);
  if (points !== N) throw new Error(`seeding left ${points} points, not ${N}`);
  const api = `${server.url}/api/v1`;
  const tokens = { county: await login(api, 'admin'), town: await login(api, 'town') };

  const rnd = prng(99);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const terms = [...tree.villages.map((v) => v.name), '路口', '学校门口', '球机', '34990100', '不存在的名字'];
  const searchUrls: [string, string][] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const who = rnd() < 0.5 ? tokens.county : tokens.town;
    const params = new URLSearchParams({ limit: '50', withTotal: 'true' });
    const kind = i % 4;
    if (kind === 0) params.set('q', pick(terms));
    if (kind === 1) params.set('network', pick(['xueliang', 'tianwang', 'traffic', 'urban', 'huiyan']));
    if (kind === 2) params.set('org', String(pick(who === tokens.town ? [tree.townships[0]!] : tree.townships).id));
    if (kind === 3) {
      params.set('q', pick(terms));
      params.set('status', 'unknown');
      params.set('ptz', 'true');
    }
    searchUrls.push([`${api}/cameras?${params}`, who]);
  }
  // Warm-up, then measure.
  for (const [u, tk] of searchUrls.slice(0, 20)) await timed(u, tk);
  const searchMs: number[] = [];
  for (const [u, tk] of searchUrls) searchMs.push(await timed(u, tk));

  const bboxMs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Boxes from a street block (~500 m) to a whole township (~15 km), as a map view pans and zooms.
    const size = 0.005 + rnd() * 0.15;
    const lon = 118.55 + rnd() * (0.5 - size);
    const lat = 30.78 + rnd() * (0.34 - size);
    const who = i % 2 ? tokens.county : tokens.town;
    bboxMs.push(await timed(`${api}/cameras?limit=500&bbox=${lon},${lat},${lon + size},${lat + size}`, who));
  }
  console.log(
    `# ${points} points in ${tree.townships.length} townships / ${tree.villages.length} villages on ${underneath} ` +
      `(seeded in ${seedS.toFixed(1)} s); ${ROUNDS} searches and ${ROUNDS} bounding boxes over HTTP, one at a ` +
      `time, county and township users alternating; load ${load()}`,
  );
  bench('registry.search.p50', pct(searchMs, 50), 'ms');
  bench('registry.search.p95', pct(searchMs, 95), 'ms');
  bench('registry.bbox.p50', pct(bboxMs, 50), 'ms');
  bench('registry.bbox.p95', pct(bboxMs, 95), 'ms');
  await stop(server);
  running.pop();

  // 2. Start-up to ready of the real entry point on that 50,000-point database.
  const startups: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const child = spawn(process.execPath, [path.join(root, 'server/src/main.ts')], {
      env: {
        PATH: process.env.PATH,
        CCC_SERVER__PORT: String(18_900 + i),
        ...databaseEnv(seeded),
        CCC_SECRET_KEY: key.toString('base64'),
        CCC_LOG__LEVEL: 'error',
      },
      stdio: 'ignore',
    });
    let ready = false;
    while (!ready && performance.now() - t0 < 30_000) {
      try {
        ready = (await fetch(`http://127.0.0.1:${18_900 + i}/api/v1/health/ready`)).status === 200;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    startups.push(performance.now() - t0);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    if (!ready) throw new Error('server did not become ready in 30 s');
  }
  console.log(`# server/src/main.ts on the ${points}-point database, median of 3 starts; load ${load()}`);
  bench('server.startup', pct(startups, 50) / 1000, 's');

  // 3. Import of a 50,000-row ledger into an empty registry with the same org tree.
  server = await start(await newDatabase('import.db'));
  running.push(server);
  const t2 = await seedOrgTree(server.app.repos.orgs, {
    seed: 1,
    townships: 8,
    villagesPerTownship: 5,
    cameras: 0,
    center: [118.8, 30.95],
  });
  await server.app.repos.users.insert({
    username: 'admin',
    displayName: 'a',
    passwordHash: hash,
    role: 'admin',
    orgUnitId: t2.county.id,
  });
  const rows = demoCameraFields(t2.villages, N, 7, null, 0);
  const orgCode = new Map(t2.villages.map((v) => [v.id, v.code]));
  let csv =
    'code,name,network,org_unit,lon,lat,coord_system,address,direction,fov,onvif_url,username,password,main_stream_uri,sub_stream_uri,ptz\n';
  for (const r of rows) {
    csv += csvLine([
      r.code,
      r.name,
      r.networkId,
      orgCode.get(r.orgUnitId),
      r.lon,
      r.lat,
      'gcj02',
      r.address,
      r.direction,
      r.fov,
      r.onvifUrl,
      'admin',
      'pw12345',
      r.mainStreamUri,
      r.subStreamUri,
      r.ptz ? '是' : '否',
    ]);
  }
  const importApi = `${server.url}/api/v1`;
  const adminToken = await login(importApi, 'admin');
  const t0 = performance.now();
  const res = await fetch(`${importApi}/cameras/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'text/csv' },
    body: csv,
  });
  const report = (await res.json()) as { created: number; errors: unknown[] };
  const importS = (performance.now() - t0) / 1000;
  if (res.status !== 201 || report.created !== N)
    throw new Error(`import failed: ${res.status} ${JSON.stringify(report).slice(0, 300)}`);
  const imported = await countPoints(server);
  if (imported !== N) throw new Error(`the import reported ${N} rows created, the database holds ${imported}`);
  console.log(
    `# ${N} rows (${(Buffer.byteLength(csv) / 1e6).toFixed(1)} MB CSV, 16 columns, sealed credentials) into an ` +
      `empty registry on ${underneath}, one POST /cameras/import; ${imported} points afterwards; load ${load()}`,
  );
  bench('registry.import50k', importS, 's');

  // 4. A 200,000-row import (the import limit) while the event loop's delay is sampled every 10 ms, as any other
  // user's request would feel it (issue 12: /health/live stalled 2.3–6.4 s during such an import).
  const BIG = 200_000;
  const villages = t2.villages;
  let bigCsv = 'code,name,network,org_unit,lon,lat,main_stream_uri,username,password\n';
  for (let i = 0; i < BIG; i++) {
    const v = villages[i % villages.length]!;
    bigCsv += csvLine([
      `349901009913${String(i).padStart(8, '0')}`,
      `大导入${i}`,
      'xueliang',
      v.code,
      (118.6 + (i % 1000) / 5000).toFixed(5),
      (30.8 + (i % 997) / 5000).toFixed(5),
      `rtsp://10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/1`,
      'admin',
      'pw12345',
    ]);
  }
  const lag = monitorEventLoopDelay({ resolution: 10 });
  const liveMs: number[] = [];
  let importing = true;
  const probe = (async () => {
    // A user on the same server meanwhile: /health/live, one after another.
    while (importing) {
      const a = performance.now();
      await (await fetch(`${importApi}/health/live`)).text();
      liveMs.push(performance.now() - a);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  lag.enable();
  const b0 = performance.now();
  const bigRes = await fetch(`${importApi}/cameras/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'text/csv' },
    body: bigCsv,
  }).finally(() => {
    lag.disable();
    importing = false;
  });
  const bigReport = (await bigRes.json()) as { created: number; errors: unknown[] };
  const bigS = (performance.now() - b0) / 1000;
  await probe;
  if (bigRes.status !== 201 || bigReport.created !== BIG)
    throw new Error(`200k import failed: ${bigRes.status} ${JSON.stringify(bigReport).slice(0, 300)}`);
  const total = await countPoints(server);
  if (total !== N + BIG) throw new Error(`after both imports the database holds ${total} points, not ${N + BIG}`);
  const ms = (ns: number) => ns / 1e6;
  bench('import.event_loop_lag200k.p99', ms(lag.percentile(99)), 'ms');
  console.log(
    `#   ^ ${BIG} rows (${(bigCsv.length / 1e6).toFixed(1)} MB) imported in ${bigS.toFixed(1)} s on ${underneath}; ` +
      `event-loop delay p50 ${ms(lag.percentile(50)).toFixed(1)} ms, p99 ${ms(lag.percentile(99)).toFixed(1)} ms, ` +
      `max ${ms(lag.max).toFixed(1)} ms (${lag.count} samples at 10 ms); /health/live ${liveMs.length} answers ` +
      `meanwhile, p99 ${pct(liveMs, 99).toFixed(1)} ms, max ${Math.max(...liveMs).toFixed(1)} ms; load ${load()}`,
  );
  bench('registry.import200k', bigS, 's');
  await stop(server);
  running.pop();
} finally {
  // A failed step leaves no server running, no database and no files behind.
  for (const s of running) await stop(s).catch(() => {});
  await storage.dropAll();
  rmSync(work, { recursive: true, force: true });
}
