/**
 * Alerts benchmark: 200 Socket.IO clients (county officers, so every client
 * receives every alert), 100 alerts/s for BENCH_SECONDS (default 60) per run.
 *   npm run bench:alerts            (BENCH_SECONDS=5 for a short trial)
 * Prints `BENCH <name> <value> <unit>` lines and `# cpu` comments.
 *
 * Run 1: one server. Run 2: two server instances sharing the local Redis at
 * 127.0.0.1:6379 under a unique keyPrefix; clients on the second, alerts
 * ingested on the first. Both instances live in this Node process (two
 * startTestServer calls): each has its own HTTP server, Socket.IO server,
 * database and Redis clients, and they share only Redis. The CPU figures are
 * therefore those of this whole process (servers and the 200 clients).
 *
 * Latency: from just before the ingest POST to receipt of `alert:new` at
 * each client, matched by the `#<n>` in the title. Storm folding is turned
 * off (`alerts.stormWindowSeconds: 0`) because 6,000 alerts from one source
 * within a minute would otherwise fold; the device key's rate limit is raised.
 * `alerts.lost` counts accepted alerts that did not reach every client.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { io } from 'socket.io-client';
import type { AlertView } from '../server/src/api/contract.ts';
import { client, startTestServer, type TestServer, type TypedSocket } from '../tests/helpers/server.ts';
import { deleteRedisKeys } from '../tests/alerts/services.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 60);
const RATE = 100;
const CLIENTS = 200;
const REDIS_URL = 'redis://127.0.0.1:6379';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const bench = (name: string, value: number, unit: string) =>
  console.log(`BENCH ${name} ${unit === 'ms' ? value.toFixed(2) : String(value)} ${unit}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunResult {
  latencies: number[];
  accepted: number;
  rejected: number;
  lost: number;
  missedDeliveries: number;
  cpuMs: number;
  wallMs: number;
}

async function run(label: string, redisPrefix: string | null): Promise<RunResult> {
  const overrides: Record<string, unknown> = {
    alerts: { stormWindowSeconds: 0 },
    ...(redisPrefix ? { redis: { url: REDIS_URL, keyPrefix: redisPrefix } } : {}),
  };
  const seed = { townships: 2, villages: 1, cameras: 0, overrides };
  const ingestOn: TestServer = await startTestServer(seed);
  const listenOn: TestServer = redisPrefix ? await startTestServer(seed) : ingestOn;
  const sockets: TypedSocket[] = [];
  try {
    const admin = client(ingestOn.api, await ingestOn.login('admin'));
    const orgs = ingestOn.server.app.repos.orgs.all();
    const township = orgs.find((u) => u.level === 'township')!;
    const village = orgs.find((u) => u.parentId === township.id)!;
    const ring = (village.boundary as unknown as { coordinates: number[][][] }).coordinates[0]!;
    const position = { lon: (ring[0]![0]! + ring[2]![0]!) / 2, lat: (ring[0]![1]! + ring[2]![1]!) / 2 };
    const src = await admin.post('/alert-sources', {
      name: `bench ${label}`,
      orgUnitId: township.id,
      rateLimitPerMinute: 100_000,
    });
    if (src.status !== 201) throw new Error(`alert source: ${src.status} ${src.text}`);
    const key = src.json.key as string;

    const sentAt = new Map<number, number>();
    const received = new Map<number, number>();
    const latencies: number[] = [];
    const probes = new Set<string>();
    let firstToken = '';
    for (let i = 0; i < CLIENTS; i++) {
      let token = firstToken;
      try {
        token = await listenOn.login('county');
      } catch (e) {
        if (!firstToken) throw e;
      }
      firstToken ||= token;
      const s: TypedSocket = io(listenOn.url, { auth: { token }, transports: ['websocket'] });
      s.on('alert:new', (a: AlertView) => {
        const now = performance.now();
        const m = /#(\d+)$/.exec(a.title ?? '');
        if (!m) {
          probes.add(a.title ?? '');
          return;
        }
        const n = Number(m[1]);
        const t0 = sentAt.get(n);
        if (t0 === undefined) return;
        latencies.push(now - t0);
        received.set(n, (received.get(n) ?? 0) + 1);
      });
      await new Promise((r) => s.once('connect', () => r(null)));
      sockets.push(s);
    }

    const ingest = (type: string, title: string) =>
      fetch(`${ingestOn.api}/alerts/ingest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-device-key': key },
        body: JSON.stringify({ type, level: 'red', title, position }),
      });
    // Warm-up: until a probe reaches the clients (the Redis adapter starts reading shortly after start).
    let warm = false;
    for (let i = 0; i < 20 && !warm; i++) {
      const title = `probe ${label} ${i}`;
      await (await ingest('other', title)).text();
      const end = Date.now() + 1000;
      while (!probes.has(title) && Date.now() < end) await sleep(20);
      warm = probes.has(title);
    }
    if (!warm) throw new Error(`${label}: no probe alert reached the clients`);

    const total = SECONDS * RATE;
    let accepted = 0;
    let rejected = 0;
    const acceptedIds: number[] = [];
    const inflight: Promise<void>[] = [];
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    for (let n = 0; n < total; n++) {
      const due = start + (n * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      sentAt.set(n, performance.now());
      inflight.push(
        ingest('intrusion', `bench ${label} #${n}`).then(
          async (res) => {
            await res.text();
            if (res.status === 201) {
              accepted++;
              acceptedIds.push(n);
            } else rejected++;
          },
          () => {
            rejected++;
          },
        ),
      );
    }
    await Promise.all(inflight);
    // Drain: let the last pushes arrive (up to 5 s).
    const drainEnd = Date.now() + 5000;
    while (Date.now() < drainEnd && acceptedIds.some((n) => (received.get(n) ?? 0) < CLIENTS)) await sleep(50);
    const wallMs = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    let lost = 0;
    let missedDeliveries = 0;
    for (const n of acceptedIds) {
      const got = received.get(n) ?? 0;
      if (got < CLIENTS) lost++;
      missedDeliveries += CLIENTS - got;
    }
    return { latencies, accepted, rejected, lost, missedDeliveries, cpuMs: (cpu.user + cpu.system) / 1000, wallMs };
  } finally {
    for (const s of sockets) s.close();
    if (listenOn !== ingestOn) await listenOn.close();
    await ingestOn.close();
  }
}

function report(label: string, r: RunResult) {
  console.log(
    `# ${label}: ${r.accepted} accepted, ${r.rejected} rejected, ${r.latencies.length} deliveries, ` +
      `${r.missedDeliveries} missed deliveries, ${r.lost} alerts not received by every client`,
  );
  console.log(
    `# cpu ${label}: ${((100 * r.cpuMs) / r.wallMs).toFixed(1)}% of one core over ${(r.wallMs / 1000).toFixed(1)} s ` +
      `(${r.cpuMs.toFixed(0)} ms; this process: server(s) and the ${CLIENTS} clients)`,
  );
}

const one = await run('one-process', null);
report('one-process', one);
bench('alerts.p50', pct(one.latencies, 50), 'ms');
bench('alerts.p99', pct(one.latencies, 99), 'ms');

const prefix = `ccc-bench-${process.pid}-${randomBytes(4).toString('hex')}`;
let lost = one.lost;
try {
  const two = await run('redis', prefix);
  report('redis', two);
  console.log(`# redis p50 ${pct(two.latencies, 50).toFixed(2)} ms`);
  bench('alerts.redis.p99', pct(two.latencies, 99), 'ms');
  lost += two.lost;
} catch (e) {
  console.log(`# redis run failed: ${String(e)}`);
} finally {
  await deleteRedisKeys('127.0.0.1', 6379, `${prefix}:*`).catch(() => undefined);
}
bench('alerts.lost', lost, 'count');
process.exit(0);
