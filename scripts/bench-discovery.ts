/**
 * Discovery and health benchmark, all on loopback:
 *   npm run bench:discovery
 * - discovery.scan500: unicast scan + interrogation of 500 simulated cameras, POST to done, over the real API.
 * - health.sweep5000: one health sweep (ONVIF clock + RTSP until the first RTP packet) over 5,000 points.
 * - sim.cpu_per_camera / sim.rss_per_camera: the simulator's marginal idle cost per camera,
 *   (figure with 500 cameras − figure with 50) / 450, measured in its own process.
 * The simulator runs in a child process (this file with --sim-child) so its cost is measured apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from '../server/src/app.ts';
import { hashPassword } from '../server/src/auth/index.ts';
import { loadConfig } from '../server/src/config/load.ts';
import { createSecretBox } from '../server/src/crypto/secret-box.ts';
import { openSqlite } from '../server/src/db/sqlite.ts';
import { seedOrgTree } from '../server/src/demo/seed.ts';
import { createLogger, systemClock } from '../server/src/http/logger.ts';
import { defaultCameraSpecs, startSimulator } from './sim/index.ts';

const PASSWORD = 'Bench@2026';
const { values } = parseArgs({
  options: {
    'sim-child': { type: 'string' },
    'first-ip': { type: 'string' },
    discovery: { type: 'boolean', default: false },
    'clip-dir': { type: 'string' },
  },
  strict: true,
});

interface Child {
  proc: ChildProcess;
  cameras: { host: string; device: string; main: string; sub: string }[];
}

function startSimChild(count: number, firstIp: string, discovery: boolean, clipDir: string): Promise<Child> {
  return new Promise((resolve, reject) => {
    const args = [import.meta.filename, '--sim-child', String(count), '--first-ip', firstIp, '--clip-dir', clipDir];
    if (discovery) args.push('--discovery');
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve({ proc, cameras: (JSON.parse(buf.slice(0, nl)) as Child).cameras });
    });
    proc.once('exit', (code) => reject(new Error(`simulator child exited ${code}`)));
  });
}

async function stopChild(c: Child) {
  c.proc.removeAllListeners('exit');
  c.proc.kill('SIGTERM');
  await new Promise((r) => c.proc.once('exit', r));
}

/** CPU (% of one core) over a window and RSS (MB) of another process, from /proc. */
async function procCost(pid: number, windowMs: number): Promise<{ cpu: number; rssMB: number }> {
  const ticks = () => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  const hz = 100;
  const t0 = ticks();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const cpu = ((ticks() - t0) / hz / ((performance.now() - w0) / 1000)) * 100;
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return { cpu, rssMB: rssKb / 1024 };
}

const bench = (name: string, value: number, unit: string) =>
  console.log(`BENCH ${name} ${value.toFixed(unit === 's' ? 2 : 4)} ${unit}`);

async function startPlatform(work: string, health: { concurrency: number }) {
  const config = loadConfig({
    profile: 'test',
    env: {},
    overrides: {
      server: { port: 0, host: '127.0.0.1' },
      discovery: {
        multicastInterfaces: [],
        maxHostsPerScan: 4096,
        probeTimeoutMs: 1500,
        probeRatePerSecond: 2000,
        concurrency: 32,
        deviceTimeoutMs: 4000,
      },
      health: {
        intervalSeconds: 0,
        concurrency: health.concurrency,
        timeoutMs: 4000,
        frameCheck: true,
        failuresBeforeOffline: 2,
      },
    },
  });
  const secrets = createSecretBox(randomBytes(32));
  const server = await startServer({
    config,
    db: openSqlite(path.join(work, `ccc-${Date.now()}.db`)),
    clock: systemClock,
    secrets,
    log: createLogger('error'),
  });
  const tree = await seedOrgTree(server.app.repos.orgs, {
    seed: 1,
    townships: 8,
    villagesPerTownship: 5,
    cameras: 0,
    center: [118.8, 30.95],
  });
  await server.app.repos.users.insert({
    username: 'tech',
    displayName: 't',
    passwordHash: await hashPassword(PASSWORD),
    role: 'technician',
    orgUnitId: tree.county.id,
  });
  return { server, tree, secrets };
}

async function main() {
  const work = mkdtempSync(path.join(tmpdir(), 'ccc-bench-disc-'));
  const clipDir = path.join(work, 'clips');
  try {
    // Simulator cost: 50 then 500 idle cameras, each in a fresh process.
    const small = await startSimChild(50, '127.0.98.1', true, clipDir);
    await new Promise((r) => setTimeout(r, 2000));
    const c50 = await procCost(small.proc.pid!, 10_000);
    await stopChild(small);
    const sim = await startSimChild(500, '127.0.100.1', true, clipDir);
    await new Promise((r) => setTimeout(r, 2000));
    const c500 = await procCost(sim.proc.pid!, 10_000);
    bench('sim.cpu_per_camera', Math.max(0, c500.cpu - c50.cpu) / 450, '%');
    bench('sim.rss_per_camera', (c500.rssMB - c50.rssMB) / 450, 'MB');
    console.log(
      `#   ^ idle cameras (ONVIF and RTSP listening, no stream pulled): 500 vs 50 in fresh processes, 10 s each ` +
        `(${c50.cpu.toFixed(2)} % and ${c500.cpu.toFixed(2)} % of a core; ${c50.rssMB.toFixed(0)} and ${c500.rssMB.toFixed(0)} MB)`,
    );

    // Discovery of the 500 over the real API.
    const p = await startPlatform(work, { concurrency: 64 });
    const api = `${p.server.url}/api/v1`;
    const login = await fetch(`${api}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'tech', password: PASSWORD }),
    });
    const token = ((await login.json()) as { token: string }).token;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const t0 = performance.now();
    const start = await fetch(`${api}/discovery/scans`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        mode: 'unicast',
        ranges: ['127.0.100.0/24', '127.0.101.0/24', '127.0.102.0/24'],
        credentials: [{ username: 'admin', password: PASSWORD }],
      }),
    });
    const { id } = (await start.json()) as { id: number };
    let result: { scan: { status: string; found: number }; devices: { status: string }[] };
    for (;;) {
      result = (await (await fetch(`${api}/discovery/scans/${id}`, { headers })).json()) as typeof result;
      if (result.scan.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const scanS = (performance.now() - t0) / 1000;
    const fresh = result.devices.filter((d) => d.status === 'new').length;
    if (fresh !== 500) throw new Error(`expected 500 new devices, got ${fresh} (${JSON.stringify(result.scan)})`);
    bench('discovery.scan500', scanS, 's');
    console.log(`#   ^ ${fresh} of 500 simulated devices found new (unicast over three /24 ranges, concurrency 64)`);
    await stopChild(sim);
    await p.server.close();

    // Health sweep over 5,000 points backed by 5,000 simulated cameras.
    const big = await startSimChild(5000, '127.1.0.1', false, clipDir);
    const h = await startPlatform(work, { concurrency: 64 });
    const villages = h.tree.villages;
    const creds = h.secrets.seal(JSON.stringify({ username: 'admin', password: PASSWORD }));
    h.server.app.repos.cameras.insertMany(
      big.cameras.map((c, i) => ({
        code: null,
        name: `巡检${i}`,
        networkId: 'xueliang',
        orgUnitId: villages[i % villages.length]!.id,
        orgPath: villages[i % villages.length]!.path,
        lon: 118.8,
        lat: 30.95,
        coordSource: 'wgs84' as const,
        address: null,
        direction: null,
        fov: null,
        onvifUrl: c.device,
        mainStreamUri: c.main,
        subStreamUri: c.sub,
        credentialsSealed: creds,
        ptz: false,
      })),
    );
    const sweep = await h.server.app.health.sweep();
    const online = (await h.server.app.health.onlineRate({ orgUnitId: h.tree.county.id, path: h.tree.county.path }))
      .overall;
    if (sweep.checked !== 5000) throw new Error(`sweep checked ${sweep.checked}`);
    const counts = `${online.online} online, ${online.degraded} degraded, ${online.offline} offline of ${online.total}`;
    // Every camera works: a sweep that found them offline (refused, timed out) is fast and wrong (issue 12).
    if (online.online !== 5000) {
      const reasons = (
        await h.server.app.repos.cameras.search({ orgUnitId: h.tree.county.id, path: h.tree.county.path }, {}, 0, 5000)
      ).rows
        .filter((c) => c.status !== 'online')
        .slice(0, 5)
        .map((c) => c.statusReason);
      throw new Error(`health sweep: ${counts}; e.g. ${JSON.stringify(reasons)}`);
    }
    bench('health.sweep5000', sweep.ms / 1000, 's');
    console.log(
      `#   ^ ${counts}: concurrency 64, frame check (cameras join mid-GOP, GOP 1 s, shared clips), transport auto`,
    );
    await stopChild(big);
    await h.server.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function simChild() {
  // Child: run N cameras until told to stop.
  const sim = await startSimulator({
    cameras: defaultCameraSpecs(Number(values['sim-child']), {
      firstIp: values['first-ip'] ?? '127.0.100.1',
      seed: 1,
    }).map((s) => ({ ...s, password: PASSWORD, faults: {} })),
    clipDir: values['clip-dir'] ?? mkdtempSync(path.join(tmpdir(), 'ccc-sim-')),
    discovery: values.discovery,
    clipMode: 'shared',
    streamOverrides: { main: { width: 320, height: 180, fps: 10 }, sub: { width: 160, height: 90, fps: 10 } },
  });
  process.stdout.write(
    JSON.stringify({
      ready: true,
      cameras: sim.cameras.map((c) => ({
        host: c.host,
        device: c.deviceServiceUrl,
        main: c.mainStreamUri,
        sub: c.subStreamUri,
      })),
    }) + '\n',
  );
  const stop = () => void sim.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (values['sim-child']) await simChild();
else await main();
