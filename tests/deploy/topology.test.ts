/**
 * Issue 13: docker-compose.yml's topology as processes on loopback, in a /24 of this run's own
 * (claimLoopbackBlock): a fresh database on the machine's PostgreSQL (dropped at the end), a redis-server of
 * the test's own, two processes of the real entry point (server/src/main.ts, the compose platform environment:
 * storage.driver postgres, DATABASE_URL naming that database) and a real nginx on deploy/nginx.conf — the file
 * compose mounts, with only its marked upstream and listen values replaced. It skips, saying why, when
 * PostgreSQL, redis-server or nginx is absent; under REQUIRE_SERVICES=1 that is a failure.
 *
 * - A login with a forged X-Forwarded-For is audited with the address nginx saw (the proxy replaces the
 *   header, the instances trust it): a client cannot name its own address.
 * - /metrics is not reachable through the proxy (each instance is scraped on its own address).
 * - The live video socket (/api/v1/live) upgrades through the proxy.
 * - Socket clients on both instances (a county officer and each township's user on each, on the instances'
 *   own addresses: through nginx one machine's clients all land on one instance); alerts ingested on both
 *   instances at once: every ingest answers 201 (no 5xx), every client is pushed every alert of its scope
 *   and none outside it.
 * - Redis stopped for 10 s (the test's own redis-server, SIGKILL) with consoles on both instances (the console's
 *   own logic, on the instances' own addresses) while alerts are taken on both: every ingest answers 201, no
 *   socket drops, and when Redis is back every console holds every alert of its scope (the pushes lost
 *   between the instances come by the `realtime:resync` replay) and none outside it.
 * - A county officer's and a township user's consoles through nginx (socket.io-client with default
 *   transports: long-polling, then the WebSocket upgrade, which needs sticky routing and the upgrade headers)
 *   replay with the console's own logic (client/src/alerts/alertReplay.ts). Alerts ingested through nginx
 *   reach them; the instance holding their sockets is killed with SIGKILL; alerts are taken while they are
 *   away; they reconnect through nginx to the other instance and, replaying from their cursor, hold every
 *   accepted alert. Every ingest is accepted (201; no 5xx), and the township user never receives the other
 *   township's alerts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AlertReplay } from '../../client/src/alerts/alertReplay.ts';
import type { AlertView, AuditEntry, Page } from '../../server/src/api/contract.ts';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { alertPages, startMainProcess, stopProcess } from '../helpers/processes.ts';
import { serviceAvailable } from '../alerts/services.ts';
import { ownRedis, redisBinaryPresent, type OwnRedis } from '../helpers/redis-server.ts';
import { createPostgresDatabase, startTestServer, type TypedSocket } from '../helpers/server.ts';
import { NGINX_CONF, PLATFORM_SERVICES, platformEnv, readCompose, renderNginx } from './topology.ts';

const NGINX_BIN = '/usr/sbin/nginx';

/** True when nginx is installed; otherwise prints why the test skips (or throws under REQUIRE_SERVICES=1). */
function nginxPresent(): boolean {
  if (existsSync(NGINX_BIN)) return true;
  const why = `${NGINX_BIN} is absent (Debian package nginx)`;
  if (process.env['REQUIRE_SERVICES'] === '1') throw new Error(`${why} (REQUIRE_SERVICES=1)`);
  console.warn(`SKIP: ${why}; the deploy topology test is skipped`);
  return false;
}

/** The machine's PostgreSQL, where createPostgresDatabase() makes the topology's database. */
const PG = new URL(process.env['CCC_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres');

const haveServices =
  (await serviceAvailable('PostgreSQL', PG.hostname || '127.0.0.1', Number(PG.port || 5432))) &&
  redisBinaryPresent('the deploy topology test') &&
  nginxPresent();

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

interface Instance {
  name: string;
  /** http://host:port, the instance's own address (nginx's upstream; the test reads /metrics there). */
  url: string;
  child: ChildProcess;
}

/** One compose platform service as a process of the real entry point, listening on `host`. */
async function startInstance(
  name: string,
  host: string,
  shared: { databaseUrl: string; redisUrl: string; secretKey: string },
): Promise<Instance> {
  // The test profile (startMainProcess): no demo data, no sweeps of cameras that are not there, quiet logs.
  const { url, child } = await startMainProcess(
    {
      // CCC_STORAGE__DRIVER=postgres among them.
      ...platformEnv(readCompose(), name),
      // What compose names inside its containers or takes from the operator's environment: the database is
      // this test's own, named the way compose names it (DATABASE_URL).
      CCC_SERVER__HOST: host,
      CCC_SERVER__PORT: '0',
      DATABASE_URL: shared.databaseUrl,
      CCC_REDIS__URL: shared.redisUrl,
      CCC_SECRET_KEY: shared.secretKey,
      CCC_LOG__LEVEL: 'error',
      // Every ingest a new alert (no folding), so each is one the consoles must hold.
      CCC_ALERTS__STORM_WINDOW_SECONDS: '0',
    },
    name,
  );
  cleanups.push(() => stopProcess(child));
  return { name, url, child };
}

/** A real nginx in the foreground on deploy/nginx.conf, rendered for these upstreams and this listen address. */
async function startNginx(upstreams: string[], listen: string): Promise<{ child: ChildProcess; log: () => string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ccc-nginx-'));
  // nginx's workers run as an unprivileged user when started by root: they must reach their temporary paths.
  chmodSync(dir, 0o755);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'platform.conf'), renderNginx(readFileSync(NGINX_CONF, 'utf8'), upstreams, listen));
  // What the official image's nginx.conf puts around conf.d/*.conf, with every path in the test's directory.
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      'error_log stderr warn;',
      'daemon off;',
      'events { worker_connections 512; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t}_temp;`),
      `  include ${dir}/platform.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  const args = ['-p', `${dir}/`, '-e', 'stderr', '-c', path.join(dir, 'nginx.conf')];
  const check = spawnSync(NGINX_BIN, [...args, '-t'], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t refused the rendered deploy/nginx.conf:\n${check.stderr}`);
  let log = '';
  const child = spawn(NGINX_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  cleanups.push(() => stopProcess(child));
  // Up once it answers on its address.
  const [host, port] = listen.split(':');
  for (let i = 0; ; i++) {
    const up = await fetch(`http://${host}:${port}/api/v1/health/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || i > 100) throw new Error(`nginx did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, log: () => log };
}

/** Socket.IO sockets connected to an instance, from its own /metrics (read on its address, from this machine). */
async function socketsOn(instance: Instance): Promise<number> {
  const r = await fetch(`${instance.url}/metrics`);
  if (r.status !== 200) throw new Error(`${instance.name} /metrics answered ${r.status}`);
  const m = /^ccc_socketio_connected_sockets\{[^}]*\} (\d+)$/m.exec(await r.text());
  return m ? Number(m[1]) : 0;
}

/** A console: a socket through the proxy with default transports, and the console's alert store and replay. */
function openConsole(proxy: string, token: string) {
  const held = new Map<number, AlertView>();
  const live: AlertView[] = [];
  const merge = (items: readonly AlertView[]) => {
    for (const x of items) if ((held.get(x.id)?.seq ?? 0) <= x.seq) held.set(x.id, x);
  };
  const feed = new AlertReplay({
    fetchPage: alertPages(proxy, token),
    onPage: (items) => merge(items),
  });
  // The console's own options (client/src/realtime.tsx): default transports and reconnection.
  const socket: TypedSocket = io(proxy, { path: '/socket.io', auth: { token } });
  cleanups.push(() => void socket.close());
  let connects = 0;
  const replayErrors: string[] = [];
  const replay = (run: Promise<boolean>) => run.catch((err: unknown) => replayErrors.push(String(err)));
  socket.on('connect', () => {
    connects++;
    void replay(feed.replay());
  });
  socket.on('realtime:resync', ({ alertsAfter }) => void replay(feed.resync(alertsAfter)));
  socket.on('alert:new', (x) => {
    live.push(x);
    merge([x]);
    feed.live(x.seq);
  });
  return {
    socket,
    held,
    live,
    replayErrors,
    connects: () => connects,
    /** Connected over a WebSocket, after the upgrade from long-polling. */
    upgraded: () => socket.connected && socket.io.engine?.transport.name === 'websocket',
  };
}

/** A request from a chosen local address (fetch cannot bind one): the proxy then sees that client address. */
function postFrom(
  localAddress: string,
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', localAddress, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.once('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe.skipIf(!haveServices)('the compose topology on loopback: PostgreSQL, Redis, two instances, nginx', () => {
  let block: LoopbackBlock;
  let proxy: string;
  let instances: Instance[];
  let nginxLog: () => string;
  let redis: OwnRedis;
  const places: { townshipId: number; lon: number; lat: number }[] = [];

  beforeAll(async () => {
    block = await claimLoopbackBlock();
    cleanups.push(() => block.release());
    // A fresh database, dropped last (after every process on it has stopped: cleanups run in reverse).
    const database = await createPostgresDatabase();
    cleanups.push(() => database.drop());

    // The schema, the county, its two townships and the demo users, written once; the instances then share
    // the database.
    const seed = await startTestServer({
      townships: 2,
      villages: 1,
      cameras: 0,
      shared: { postgresUrl: database.url, drop: () => Promise.resolve() },
    });
    const orgs = seed.server.app.repos.orgs.all();
    for (const town of orgs.filter((u) => u.level === 'township').slice(0, 2)) {
      const village = orgs.find((u) => u.parentId === town.id)!;
      const ring = (village.boundary as unknown as { coordinates: number[][][] }).coordinates[0]!;
      places.push({
        townshipId: town.id,
        lon: (ring[0]![0]! + ring[2]![0]!) / 2,
        lat: (ring[0]![1]! + ring[2]![1]!) / 2,
      });
    }
    await seed.close();

    redis = await ownRedis();
    cleanups.push(() => redis.kill());
    await redis.start();
    const shared = { databaseUrl: database.url, redisUrl: redis.url, secretKey: randomBytes(32).toString('base64') };
    // One after the other, as compose orders them (platform-b waits for platform-a to be healthy).
    instances = [];
    for (const [i, name] of PLATFORM_SERVICES.entries())
      instances.push(await startInstance(name, block.host(2 + i), shared));

    const listen = `${block.host(1)}:${await freePort(block.host(1))}`;
    const nginx = await startNginx(
      instances.map((x) => new URL(x.url).host),
      listen,
    );
    nginxLog = nginx.log;
    proxy = `http://${listen}`;
  }, 60_000);

  const login = async (username: string) => {
    const r = await fetch(`${proxy}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: DEMO_PASSWORD }),
    });
    expect(r.status, await r.clone().text()).toBe(200);
    return ((await r.json()) as { token: string }).token;
  };

  /** One alert source per township (an alarm column in each), created through the proxy; their device keys. */
  const sourceKeys = async (name: string): Promise<string[]> => {
    const adminToken = await login('admin');
    const keys: string[] = [];
    for (const [i, p] of places.entries()) {
      const r = await fetch(`${proxy}/api/v1/alert-sources`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ name: `${name}-${i}`, orgUnitId: p.townshipId, rateLimitPerMinute: 100_000 }),
      });
      expect(r.status).toBe(201);
      keys.push(((await r.json()) as { key: string }).key);
    }
    return keys;
  };

  /** Ingests alarm-column alerts with `keys`, counting every answer and the accepted ids by township index. */
  const ingester = (keys: string[]) => {
    const statuses: number[] = [];
    const accepted: number[][] = [[], []];
    const ingest = async (base: string, township: number, title: string) => {
      const p = places[township]!;
      const r = await fetch(`${base}/api/v1/alerts/ingest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-device-key': keys[township]! },
        body: JSON.stringify({ type: 'alarm_button', level: 'red', title, position: { lon: p.lon, lat: p.lat } }),
      });
      statuses.push(r.status);
      if (r.status === 201) accepted[township]!.push(((await r.json()) as AlertView).id);
      else await r.arrayBuffer();
    };
    return { statuses, accepted, ingest };
  };
  /** Whether `user` may see alerts of township index `township`. */
  const inScope = (user: string, township: number) => user === 'county' || user === `township${township + 1}`;

  it('audits a login with the address nginx saw, not the one a client writes in X-Forwarded-For', async () => {
    const from = block.host(7);
    const r = await postFrom(
      from,
      `${proxy}/api/v1/auth/login`,
      { username: 'county', password: DEMO_PASSWORD },
      { 'x-forwarded-for': '203.0.113.9' },
    );
    expect(r.status, r.text).toBe(200);
    const audit = await fetch(`${proxy}/api/v1/audit?action=auth.login&user=county&limit=5`, {
      headers: { authorization: `Bearer ${await login('admin')}` },
    });
    expect(audit.status).toBe(200);
    const entries = ((await audit.json()) as Page<AuditEntry>).items;
    expect(entries[0]?.ip).toBe(from);
  });

  it('keeps /metrics behind the proxy; each instance serves its own', async () => {
    for (const p of ['/metrics', '/METRICS/', '//metrics?x=1']) {
      const r = await fetch(`${proxy}${p}`);
      await r.arrayBuffer();
      expect(r.status, p).toBe(404);
    }
    for (const x of instances) expect((await fetch(`${x.url}/metrics`)).status).toBe(200);
  });

  it('upgrades the live video socket (/api/v1/live) through the proxy for a page the proxy served', async () => {
    // A browser sends its page's origin; the instance compares it with the Host nginx passes on.
    const ws = new WebSocket(`${proxy.replace('http', 'ws')}/api/v1/live`, {
      origin: proxy,
      headers: { authorization: `Bearer ${await login('county')}` },
    });
    cleanups.push(() => ws.terminate());
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (data) => resolve(String(data)));
      ws.once('error', reject);
    });
    expect(JSON.parse(first)).toMatchObject({ type: 'ready' });
    ws.close();
  });

  it('socket clients on both instances; alerts ingested on both at once: no 5xx, every client gets every alert of its scope', async () => {
    const keys = await sourceKeys('并发报警柱');
    // On each instance's own address: a county officer (every alert is in scope) and each township's user.
    const users = ['county', 'township1', 'township2'] as const;
    const tokens = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await login(u)] as const)));
    const clients: { on: string; user: (typeof users)[number]; socket: TypedSocket; heard: AlertView[] }[] = [];
    for (const x of instances)
      for (const user of users) {
        const socket: TypedSocket = io(x.url, { auth: { token: tokens[user] }, transports: ['websocket'] });
        cleanups.push(() => void socket.close());
        const heard: AlertView[] = [];
        socket.on('alert:new', (a) => heard.push(a));
        clients.push({ on: x.name, user, socket, heard });
      }
    await Promise.all(
      clients.map((c) => c.socket.connected || new Promise((r) => c.socket.once('connect', () => r(null)))),
    );
    for (const x of instances) expect(await socketsOn(x), x.name).toBe(users.length);
    // Closed whatever happens: the next test counts the sockets on each instance.
    try {
      /** Accepted alert ids by township index. */
      const { statuses, accepted, ingest } = ingester(keys);
      const missing = (of: number[][]) =>
        clients.flatMap((c) =>
          of.flatMap((ids, township) =>
            inScope(c.user, township)
              ? ids.filter((id) => !c.heard.some((a) => a.id === id)).map((id) => `${c.user}@${c.on}: ${id}`)
              : [],
          ),
        );
      // Each instance's adapter reads the stream shortly after it starts: a probe alert per township on each
      // instance, again until one round reaches every client (the cross-instance path is then open both
      // ways). The probes are not counted below.
      const probes: number[][] = [[], []];
      for (let round = 0; ; round++) {
        const before = accepted.map((ids) => ids.length);
        for (const x of instances) for (const t of [0, 1]) await ingest(x.url, t, `probe-${round}-${x.name}-${t}`);
        const these = accepted.map((ids, t) => ids.splice(before[t]!));
        these.forEach((ids, t) => probes[t]!.push(...ids));
        const end = Date.now() + 3000;
        while (missing(these).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
        if (missing(these).length === 0) break;
        if (round >= 4) throw new Error(`fan-out between the instances never opened: ${missing(these).join(', ')}`);
      }

      // 60 alerts on each instance at once, 8 in flight on each, the two townships in turn.
      const PER_INSTANCE = 60;
      await Promise.all(
        instances.map(async (x) => {
          let next = 0;
          const worker = async () => {
            while (next < PER_INSTANCE) {
              const i = next++;
              await ingest(x.url, i % 2, `at-once-${x.name}-${i}`);
            }
          };
          await Promise.all(Array.from({ length: 8 }, worker));
        }),
      );
      expect(statuses.filter((s) => s !== 201)).toEqual([]);
      expect(accepted[0]!.length + accepted[1]!.length).toBe(2 * PER_INSTANCE);
      // Pushed live to every client in scope, on both instances: none missing.
      await expect.poll(() => missing(accepted), { timeout: 30_000 }).toEqual([]);
      await Promise.all(clients.map((c) => new Promise((r) => c.socket.emit('session:whoami', r))));
      for (const c of clients) {
        const outOfScope = [accepted, probes].flatMap((of) =>
          of.flatMap((ids, township) => (inScope(c.user, township) ? [] : ids)),
        );
        expect(
          c.heard.filter((a) => outOfScope.includes(a.id)),
          `${c.user}@${c.on}`,
        ).toEqual([]);
        // Each alert once.
        expect(new Set(c.heard.map((a) => a.id)).size, `${c.user}@${c.on}`).toBe(c.heard.length);
      }
      // One sequence across the cluster: every accepted alert has its own seq.
      const seqs = clients.find((c) => c.user === 'county')!.heard.map((a) => a.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
    } finally {
      for (const c of clients) c.socket.close();
    }
    await expect
      .poll(async () => (await Promise.all(instances.map(socketsOn))).join(','), { timeout: 15_000 })
      .toBe(instances.map(() => '0').join(','));
  }, 120_000);

  it('Redis stopped for 10 s: consoles on both instances keep their sockets and, by replay, lose no alert', async () => {
    const keys = await sourceKeys('断连报警柱');
    // The console's own logic (openConsole) on each instance's own address: a county officer and each township.
    const users = ['county', 'township1', 'township2'] as const;
    const consoles = await Promise.all(
      instances.flatMap((x) =>
        users.map(async (user) => {
          const c = openConsole(x.url, await login(user));
          let disconnects = 0;
          c.socket.on('disconnect', () => disconnects++);
          return { on: x.name, user, c, disconnects: () => disconnects };
        }),
      ),
    );
    try {
      await expect.poll(() => consoles.every(({ c }) => c.upgraded()), { timeout: 15_000 }).toBe(true);
      const { statuses, accepted, ingest } = ingester(keys);
      const missing = () =>
        consoles.flatMap(({ on, user, c }) =>
          accepted.flatMap((ids, township) =>
            inScope(user, township) ? ids.filter((id) => !c.held.has(id)).map((id) => `${user}@${on}: ${id}`) : [],
          ),
        );
      // Before: fan-out works both ways (the last test opened it).
      for (const x of instances) for (const t of [0, 1]) await ingest(x.url, t, `before-${x.name}-${t}`);
      await expect.poll(missing, { timeout: 15_000 }).toEqual([]);

      await redis.kill();
      // 10 s without Redis: an alert every half second, on each instance in turn, each township in turn.
      const end = Date.now() + 10_000;
      for (let i = 0; Date.now() < end; i++) {
        await ingest(instances[i % 2]!.url, Math.floor(i / 2) % 2, `during-${i}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      const duringIds = new Set(accepted.flat());
      // What the consoles had live before Redis came back: some pushes across instances were lost.
      const heldBeforeBack = consoles.map(({ c }) => new Set(c.held.keys()));
      await redis.start();
      for (const x of instances) for (const t of [0, 1]) await ingest(x.url, t, `after-${x.name}-${t}`);

      // Every ingest accepted; every console holds every alert of its scope: live, or by the resync's replay.
      await expect.poll(missing, { timeout: 45_000 }).toEqual([]);
      expect(statuses.filter((x) => x !== 201)).toEqual([]);
      await Promise.all(consoles.map(({ c }) => new Promise((r) => c.socket.emit('session:whoami', r))));
      for (const { on, user, c, disconnects } of consoles) {
        const who = `${user}@${on}`;
        const outOfScope = new Set(accepted.flatMap((ids, township) => (inScope(user, township) ? [] : ids)));
        expect(
          [...c.held.keys()].filter((id) => outOfScope.has(id)),
          who,
        ).toEqual([]);
        expect(c.replayErrors, who).toEqual([]);
        // Their sockets never dropped: no reconnect replay, only the resync brought what was missed.
        expect(disconnects(), who).toBe(0);
        expect(c.connects(), who).toBe(1);
      }
      // The outage did cost live pushes (else this proves nothing about the replay).
      const lostLive = consoles.reduce(
        (n, { user }, i) =>
          n +
          accepted
            .flatMap((ids, township) => (inScope(user, township) ? ids : []))
            .filter((id) => duringIds.has(id) && !heldBeforeBack[i]!.has(id)).length,
        0,
      );
      expect(lostLive).toBeGreaterThan(0);
    } finally {
      for (const { c } of consoles) c.socket.close();
    }
    await expect
      .poll(async () => (await Promise.all(instances.map(socketsOn))).join(','), { timeout: 15_000 })
      .toBe(instances.map(() => '0').join(','));
  }, 120_000);

  it('kill -9 of the instance holding the consoles: they reconnect through nginx to the other and hold every accepted alert', async () => {
    const keys = await sourceKeys('报警柱');
    /** Alerts accepted, by township index, all through the proxy. */
    const { statuses, accepted, ingest: ingestAt } = ingester(keys);
    const ingest = (township: 0 | 1, title: string) => ingestAt(proxy, township, title);

    const county = openConsole(proxy, await login('county'));
    const township = openConsole(proxy, await login('township1'));
    const consoles = [county, township];
    // Long-polling first, then the upgrade: both through nginx, both to one instance.
    await expect.poll(() => consoles.every((c) => c.upgraded()), { timeout: 15_000 }).toBe(true);
    const counts = await Promise.all(instances.map(socketsOn));
    const holder = instances[counts.findIndex((n) => n > 0)]!;
    const other = instances.find((x) => x !== holder)!;
    // Sticky by client address: both consoles (one address here) sit on one instance.
    expect(counts.reduce((a, b) => a + b, 0)).toBe(2);
    expect(await socketsOn(holder)).toBe(2);

    for (let i = 0; i < 3; i++) await ingest(0, `before-${i}`);
    await ingest(1, 'before-other');
    const allOf = () => [...accepted[0]!, ...accepted[1]!];
    await expect.poll(() => allOf().every((id) => county.held.has(id)), { timeout: 15_000 }).toBe(true);
    await expect.poll(() => accepted[0]!.every((id) => township.held.has(id)), { timeout: 15_000 }).toBe(true);

    // The instance holding the consoles dies without a word.
    const gone = new Promise((r) => holder.child.once('exit', r));
    process.kill(holder.child.pid!, 'SIGKILL');
    await gone;
    await expect.poll(() => consoles.every((c) => !c.socket.connected), { timeout: 15_000 }).toBe(true);

    // Taken while the consoles are away (Socket.IO waits 0.5–1.5 s before its first reconnect attempt).
    let takenWhileAway = 0;
    for (let i = 0; i < 3; i++) {
      await ingest(0, `away-${i}`);
      if (consoles.every((c) => !c.socket.connected)) takenWhileAway++;
    }
    await ingest(1, 'away-other');

    await expect.poll(() => consoles.every((c) => c.upgraded()), { timeout: 30_000 }).toBe(true);
    expect(await socketsOn(other)).toBe(2);
    for (let i = 0; i < 2; i++) await ingest(0, `after-${i}`);
    await ingest(1, 'after-other');

    await expect.poll(() => allOf().filter((id) => !county.held.has(id)), { timeout: 30_000 }).toEqual([]);
    await expect.poll(() => accepted[0]!.filter((id) => !township.held.has(id)), { timeout: 30_000 }).toEqual([]);

    // Every ingest accepted, the ones right after the kill too: nginx passed them to the other instance.
    expect(
      statuses.filter((s) => s !== 201),
      nginxLog(),
    ).toEqual([]);
    expect(accepted[0]).toHaveLength(8);
    expect(accepted[1]).toHaveLength(3);
    // Some were accepted while the consoles were away: the reconnect replay brought them (else this proves
    // only live pushes).
    expect(takenWhileAway).toBeGreaterThan(0);
    for (const c of consoles) {
      expect(c.connects()).toBeGreaterThanOrEqual(2);
      expect(c.replayErrors).toEqual([]);
    }
    // The township user never received the other township's alerts, live or replayed.
    await new Promise((r) => township.socket.emit('session:whoami', r));
    const otherIds = new Set(accepted[1]);
    expect([...township.held.keys()].filter((id) => otherIds.has(id))).toEqual([]);
    expect(township.live.filter((x) => otherIds.has(x.id))).toEqual([]);
  }, 120_000);
});
