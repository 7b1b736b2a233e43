/**
 * Cluster alerts benchmark (issue 13): two server processes (the real entry point, server/src/main.ts) on one
 * PostgreSQL database, as docker-compose.yml runs them (a fresh database on the machine's PostgreSQL,
 * CCC_TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432, dropped at the end, also when a step fails),
 * and one Redis of this run's own (a throw-away redis-server on a free loopback port, so the outage disturbs
 * nobody), 200 Socket.IO clients (county officers: every client receives every alert) in two child processes, half
 * of each child's on each server process, 100 alerts/s ingested alternately on the two.
 *   npm run bench:cluster            (BENCH_SECONDS=10 for a short trial; default 30 per phase)
 *
 * Phase 0 (cold start): the same load as phase 1 on the processes just started → `alerts.cluster.cold_p99`.
 * Phase 1 (steady): latency from just before the ingest POST to receipt of `alert:new` at each client (the
 * send time travels in the title) → `alerts.cluster.p99`; `alerts.cluster.steady_lost` counts accepted alerts
 * not held by every client at the end.
 * Phase 2 (outage): Redis is killed (SIGKILL) at a third of the phase and started again at two thirds (10 s of
 * a 30 s phase). Clients run the console's own replay logic (client/src/alerts/alertReplay.ts): replay on
 * (re)connect and on `realtime:resync`. `alerts.cluster.lost` counts accepted alerts that some client never
 * held, live or by replay, 15 s after the phase ended.
 * The clients run in child processes (this file with --clients-child; BENCH_CLIENT_PROCESSES, default 2); the
 * CPU figures are the two server processes' own and the clients' processes', read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { io } from 'socket.io-client';
import { AlertReplay } from '../client/src/alerts/alertReplay.ts';
import type { AlertView } from '../server/src/api/contract.ts';
import { alertPages, startMainProcess, stopProcess } from '../tests/helpers/processes.ts';
import { ownRedis } from '../tests/helpers/redis-server.ts';
import {
  client,
  createPostgresDatabase,
  sharedDatabaseEnv,
  startTestServer,
  type SharedDatabase,
  type TypedSocket,
} from '../tests/helpers/server.ts';
import { percentile } from './sim/measure.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 30);
const RATE = 100;
const CLIENTS = 200;
/**
 * The clients run in this many child processes. One process holding all 200 spends a whole core taking
 * 20,000 pushes a second (socket frames, JSON), and the latency measured then is its own queue's.
 */
const CLIENT_PROCESSES = Number(process.env['BENCH_CLIENT_PROCESSES'] ?? 2);
const DEMO_PASSWORD = 'Demo@2026';

const pct = percentile;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const clock = () => performance.timeOrigin + performance.now();
const TITLE = /#(\d+)@([\d.]+)$/;

/** Child: `count` sockets spread over the URLs, each with its own store and replay; answers the parent's questions. */
async function clientsChild(targets: { url: string; token: string }[], count: number) {
  interface Console {
    held: Set<number>;
    latencies: number[];
    replays: number;
  }
  const consoles: Console[] = [];
  const sockets: TypedSocket[] = [];
  const numberOf = (a: AlertView) => {
    const m = TITLE.exec(a.title ?? '');
    return m ? Number(m[1]) : null;
  };
  for (let i = 0; i < count; i++) {
    const { url, token } = targets[i % targets.length]!;
    const c: Console = { held: new Set(), latencies: [], replays: 0 };
    consoles.push(c);
    const feed = new AlertReplay({
      fetchPage: alertPages(url, token),
      onPage: (items) => {
        for (const a of items) {
          const n = numberOf(a);
          if (n !== null) c.held.add(n);
        }
      },
    });
    const replay = (run: Promise<boolean>) =>
      run.then(
        () => c.replays++,
        (err: unknown) => process.stderr.write(`client ${i}: replay failed: ${String(err)}\n`),
      );
    const s: TypedSocket = io(url, { auth: { token }, transports: ['websocket'] });
    s.on('alert:new', (a) => {
      const now = clock();
      const m = TITLE.exec(a.title ?? '');
      if (m) {
        c.latencies.push(now - Number(m[2]));
        c.held.add(Number(m[1]));
      } else if (i === 0) process.stdout.write(`probe ${JSON.stringify(a.title ?? '')}\n`);
      feed.live(a.seq);
    });
    s.on('connect', () => void replay(feed.replay()));
    s.on('realtime:resync', ({ alertsAfter }) => void replay(feed.resync(alertsAfter)));
    await new Promise((r) => s.once('connect', () => r(null)));
    sockets.push(s);
  }
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const sp = line.indexOf(' ');
    const cmd = sp < 0 ? line : line.slice(0, sp);
    const arg = sp < 0 ? '' : line.slice(sp + 1);
    if (cmd === 'reset') {
      for (const c of consoles) c.latencies = [];
      process.stdout.write('ok\n');
    } else if (cmd === 'tally') {
      // arg: the accepted alert numbers. Which of them each client lacks.
      const accepted = JSON.parse(arg) as number[];
      const missing = new Set<number>();
      let missedDeliveries = 0;
      for (const c of consoles)
        for (const n of accepted)
          if (!c.held.has(n)) {
            missing.add(n);
            missedDeliveries++;
          }
      const lat = consoles.flatMap((c) => c.latencies);
      const summary: ChildSummary = {
        latencies: lat.map((x) => Math.round(x * 10) / 10),
        missing: [...missing],
        missedDeliveries,
        replays: consoles.reduce((n, c) => n + c.replays, 0),
        connected: sockets.filter((s) => s.connected).length,
      };
      process.stdout.write(`summary ${JSON.stringify(summary)}\n`);
    } else if (cmd === 'done') {
      for (const s of sockets) s.close();
      process.exit(0);
    }
  }
}

/** One clients child's tally: its clients' latencies, the accepted alerts some of its clients lack. */
type ChildSummary = {
  latencies: number[];
  missing: number[];
  missedDeliveries: number;
  replays: number;
  connected: number;
};
/** The children's tallies together. */
type Summary = {
  p50: number;
  p99: number;
  deliveries: number;
  lost: number;
  missedDeliveries: number;
  replays: number;
  connected: number;
};
function merge(parts: ChildSummary[]): Summary {
  const lat = parts.flatMap((p) => p.latencies);
  return {
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    deliveries: lat.length,
    lost: new Set(parts.flatMap((p) => p.missing)).size,
    missedDeliveries: parts.reduce((n, p) => n + p.missedDeliveries, 0),
    replays: parts.reduce((n, p) => n + p.replays, 0),
    connected: parts.reduce((n, p) => n + p.connected, 0),
  };
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const startProcess = (shared: SharedDatabase, env: Record<string, string>) =>
  startMainProcess({
    ...sharedDatabaseEnv(shared),
    CCC_ALERTS__STORM_WINDOW_SECONDS: '0',
    CCC_HEALTH__INTERVAL_SECONDS: '0',
    ...env,
  });

async function login(url: string, username: string): Promise<string> {
  const r = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: DEMO_PASSWORD }),
  });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status}`);
  return ((await r.json()) as { token: string }).token;
}

async function main() {
  const database = await createPostgresDatabase().catch((err: unknown) => {
    console.error(`bench:cluster runs on PostgreSQL, which cannot be reached: ${String(err)}`);
    process.exit(1);
  });
  const shared: SharedDatabase = { postgresUrl: database.url, drop: () => database.drop() };
  console.log(`# on PostgreSQL: database ${database.name}, dropped at the end`);
  const redis = await ownRedis();
  await redis.start().catch(async (err: unknown) => {
    await database.drop();
    throw err;
  });
  const prefix = `ccc-bench-cluster-${randomBytes(4).toString('hex')}`;
  const servers: ChildProcess[] = [];
  let clients: ChildProcess[] = [];
  try {
    // The schema, the county, users and the alert source, written once; both processes then share the database.
    const seed = await startTestServer({ townships: 2, villages: 1, cameras: 0, shared });
    const admin = client(seed.api, await seed.login('admin'));
    const orgs = seed.server.app.repos.orgs.all();
    const township = orgs.find((u) => u.level === 'township')!;
    const village = orgs.find((u) => u.parentId === township.id)!;
    const ring = (village.boundary as unknown as { coordinates: number[][][] }).coordinates[0]!;
    const position = { lon: (ring[0]![0]! + ring[2]![0]!) / 2, lat: (ring[0]![1]! + ring[2]![1]!) / 2 };
    const src = await admin.post('/alert-sources', {
      name: 'bench cluster',
      orgUnitId: township.id,
      rateLimitPerMinute: 100_000,
    });
    if (src.status !== 201) throw new Error(`alert source: ${src.status} ${src.text}`);
    const key = src.json.key as string;
    await seed.close();

    const env = {
      CCC_REDIS__URL: redis.url,
      CCC_REDIS__KEY_PREFIX: prefix,
      CCC_SECRET_KEY: randomBytes(32).toString('base64'),
    };
    const a = await startProcess(shared, env);
    servers.push(a.child);
    const b = await startProcess(shared, env);
    servers.push(b.child);
    const urls = [a.url, b.url];
    const targets = await Promise.all(urls.map(async (url) => ({ url, token: await login(url, 'county') })));

    const probes = new Set<string>();
    const summaries: ChildSummary[][] = [];
    let oks = 0;
    const children: ChildProcess[] = [];
    const readies: Promise<void>[] = [];
    for (let k = 0; k < CLIENT_PROCESSES; k++) {
      const count = Math.floor(CLIENTS / CLIENT_PROCESSES) + (k < CLIENTS % CLIENT_PROCESSES ? 1 : 0);
      const child = spawn(
        process.execPath,
        [import.meta.filename, '--clients-child', JSON.stringify(targets), String(count)],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      children.push(child);
      const mine: ChildSummary[] = [];
      summaries.push(mine);
      readies.push(
        new Promise<void>((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`clients child exited ${code}`)));
          void (async () => {
            for await (const line of createInterface({ input: child.stdout! })) {
              if (line === 'ready') resolve();
              else if (line === 'ok') oks++;
              else if (line.startsWith('probe ')) probes.add(JSON.parse(line.slice(6)) as string);
              else if (line.startsWith('summary ')) mine.push(JSON.parse(line.slice(8)) as ChildSummary);
            }
          })();
        }),
      );
    }
    clients = children;
    await Promise.all(readies);
    const tell = (line: string) => {
      for (const c of children) c.stdin!.write(`${line}\n`);
    };

    const ingest = (url: string, type: string, title: string) =>
      fetch(`${url}/api/v1/alerts/ingest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-device-key': key },
        body: JSON.stringify({ type, level: 'red', title, position }),
      });
    // Warm-up: a probe from each process reaches client 0 (connected to A) through the adapter.
    for (const url of urls) {
      let warm = false;
      for (let i = 0; i < 20 && !warm; i++) {
        const title = `probe ${url} ${i}`;
        await (await ingest(url, 'other', title)).text();
        const end = Date.now() + 1000;
        while (!probes.has(title) && Date.now() < end) await sleep(20);
        warm = probes.has(title);
      }
      if (!warm) throw new Error(`no probe alert from ${url} reached the clients`);
    }

    let n = 0;
    const phase = async (label: string, during?: (elapsedMs: number) => Promise<void>) => {
      const total = SECONDS * RATE;
      const accepted: number[] = [];
      /** How long each ingest POST took to be answered (ms). */
      const answered: number[] = [];
      let rejected = 0;
      const inflight: Promise<void>[] = [];
      const cpu0 = servers.map((s) => cpuSeconds(s.pid!));
      const clientCpu0 = children.map((c) => cpuSeconds(c.pid!));
      oks = 0;
      tell('reset x');
      while (oks < children.length) await sleep(10);
      const start = performance.now();
      const outage = during?.(0);
      for (let i = 0; i < total; i++, n++) {
        const due = start + (i * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        const num = n;
        const sent = performance.now();
        inflight.push(
          ingest(urls[num % 2]!, 'intrusion', `bench ${label} #${num}@${clock().toFixed(3)}`).then(
            async (res) => {
              await res.text();
              answered.push(performance.now() - sent);
              if (res.status === 201) accepted.push(num);
              else rejected++;
            },
            () => void rejected++,
          ),
        );
      }
      await Promise.all(inflight);
      await outage;
      const wallS = (performance.now() - start) / 1000;
      const cpu = servers.map((s, i) => cpuSeconds(s.pid!) - cpu0[i]!);
      const clientCpu = children.map((c, i) => cpuSeconds(c.pid!) - clientCpu0[i]!);
      // Drain: live pushes arrive within seconds; replays after a resync within seconds more.
      await sleep(15_000);
      const count = summaries[0]!.length;
      tell(`tally ${JSON.stringify(accepted)}`);
      const until = Date.now() + 60_000;
      while (summaries.some((m) => m.length === count) && Date.now() < until) await sleep(50);
      if (summaries.some((m) => m.length === count)) throw new Error(`${label}: no tally from the clients`);
      const s = merge(summaries.map((m) => m[count]!));
      console.log(
        `# ${label}: ${accepted.length} accepted, ${rejected} refused, ${s.deliveries} live deliveries to ${CLIENTS} clients ` +
          `(${s.connected} connected at the end), ${s.missedDeliveries} (client, alert) pairs missing, ${s.replays} replays; ` +
          `ingest answered in p50 ${pct(answered, 50).toFixed(1)} ms, p99 ${pct(answered, 99).toFixed(1)} ms; ` +
          `server CPU ${cpu.map((c) => `${((100 * c) / wallS).toFixed(0)}%`).join(' + ')} of a core over ${wallS.toFixed(1)} s; ` +
          `the clients' ${children.length} processes ${clientCpu.map((c) => `${((100 * c) / wallS).toFixed(0)}%`).join(' + ')}; load ${loadavg()
            .map((x) => x.toFixed(1))
            .join(' ')}`,
      );
      if (accepted.length === 0) throw new Error(`${label}: no alert was accepted`);
      return { ...s, accepted: accepted.length, rejected };
    };

    // The processes' first seconds under load (JIT, caches, connections opened) first, then the steady state.
    const cold = await phase('cold start');
    console.log(
      `BENCH alerts.cluster.cold_p99 ${cold.p99.toFixed(1)} ms  # p50 ${cold.p50.toFixed(1)} ms; the first ${SECONDS} s after both processes started, as steady below`,
    );
    const steady = await phase('steady');
    console.log(
      `BENCH alerts.cluster.p99 ${steady.p99.toFixed(1)} ms  # p50 ${steady.p50.toFixed(1)} ms; 2 processes on one PostgreSQL database, own Redis, ${CLIENTS} county clients, ${RATE} alerts/s for ${SECONDS} s`,
    );
    console.log(`BENCH alerts.cluster.steady_lost ${steady.lost + steady.rejected} count`);

    const outageMs = Math.round((SECONDS * 1000) / 3);
    const outage = await phase('outage', async () => {
      await sleep(outageMs);
      await redis.kill();
      console.log(`# redis killed at ${(outageMs / 1000).toFixed(0)} s`);
      await sleep(outageMs);
      await redis.start();
      console.log(`# redis back at ${((2 * outageMs) / 1000).toFixed(0)} s`);
    });
    console.log(
      `BENCH alerts.cluster.lost ${outage.lost + outage.rejected} count  # accepted alerts some client never held (${outage.rejected} refused at ingest); Redis down ${(outageMs / 1000).toFixed(0)} s inside a ${SECONDS} s run`,
    );
    // What the outage took from the live pushes, so a 0 above means something: held by replay instead.
    const byReplay = outage.accepted * CLIENTS - outage.missedDeliveries - outage.deliveries;
    console.log(`# outage: ${byReplay} (client, alert) pairs arrived by replay after realtime:resync, not live`);
    if (byReplay <= 0) {
      console.log('# the outage cost no live push: the run did not test recovery');
      process.exitCode = 1;
    }
    const failed = steady.lost + steady.rejected + outage.lost + outage.rejected;
    tell('done');
    if (failed > 0) process.exitCode = 1;
  } finally {
    for (const c of clients) {
      c.removeAllListeners('exit');
      if (c.exitCode === null) c.kill('SIGTERM');
    }
    for (const s of servers) {
      s.removeAllListeners('exit');
      await stopProcess(s);
    }
    await redis.kill();
    await database.drop();
  }
}

if (process.argv[2] === '--clients-child') {
  await clientsChild(JSON.parse(process.argv[3]!) as { url: string; token: string }[], Number(process.argv[4]));
} else {
  await main();
}
