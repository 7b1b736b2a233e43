/**
 * Relay benchmark, on loopback with real ffmpeg and the camera simulator:
 *   npm run bench:relay
 * - relay.playlist.p50/p95: POST /cameras/:id/stream to a playlist listing a segment, 20 cold starts, 1 s GOP.
 * - relay.cpu_per_stream / relay.rss_per_stream: the ffmpeg processes of 50 concurrent 1080p relays (copy),
 *   summed from /proc over 20 s and divided by 50.
 * - relay.concurrent100.gaps: 100 concurrent relays polled for 30 s; a gap is a media-sequence jump,
 *   a discontinuity (restart) or a segment missing when listed.
 * The simulator runs in a child process (scripts/sim/bench.ts conventions) so its cost stays apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultCameraSpecs, startSimulator } from './sim/index.ts';
import { client, startTestServer } from '../tests/helpers/server.ts';

const { values } = parseArgs({
  options: { 'sim-child': { type: 'string' }, 'clip-dir': { type: 'string' } },
  strict: true,
});

async function simChild(count: number, clipDir: string) {
  const sim = await startSimulator({
    cameras: defaultCameraSpecs(count, { firstIp: '127.0.110.1', seed: 4 }).map((s) => ({
      ...s,
      clockOffsetSec: 0,
      faults: {},
    })),
    clipDir,
    discovery: false,
    clipMode: 'shared',
    keyframeIntervalSec: 1,
    streamOverrides: {
      main: { width: 1920, height: 1080, fps: 25, bitrateKbps: 4096 },
      sub: { width: 640, height: 360, fps: 15 },
    },
  });
  process.stdout.write(
    JSON.stringify(
      sim.cameras.map((c) => ({
        device: c.deviceServiceUrl,
        main: c.mainStreamUri,
        sub: c.subStreamUri,
        username: c.username,
        password: c.password,
      })),
    ) + '\n',
  );
  const stop = () => void sim.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
}

type Cam = { device: string; main: string; sub: string; username: string; password: string };

function startSim(count: number, clipDir: string): Promise<{ proc: ChildProcess; cams: Cam[] }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [import.meta.filename, '--sim-child', String(count), '--clip-dir', clipDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve({ proc, cams: JSON.parse(buf.slice(0, nl)) as Cam[] });
    });
    proc.once('exit', (code) => reject(new Error(`simulator exited ${code}`)));
  });
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const bench = (name: string, v: number, unit: string) =>
  console.log(`BENCH ${name} ${v.toFixed(unit === 'count' ? 0 : 3)} ${unit}`);

function ffmpegPids(root: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('ffmpeg') && cmd.includes(root)) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

function cpuTicks(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}
function rssMB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

async function main() {
  const work = mkdtempSync(path.join(tmpdir(), 'ccc-bench-relay-'));
  const sim = await startSim(100, path.join(work, 'clips'));
  const t = await startTestServer({
    cameras: 0,
    relay: true,
    overrides: { relay: { idleTimeoutSeconds: 3600, startTimeoutMs: 20_000, listSize: 6 } },
  });
  try {
    const tech = client(t.api, await t.login('tech'));
    const village = ((await tech.get('/org-units')).json as { id: number; level: string }[]).find(
      (o) => o.level === 'village',
    )!.id;
    const ids: number[] = [];
    for (const [i, c] of sim.cams.entries()) {
      const r = await tech.post('/cameras', {
        name: `基准${i}`,
        networkId: 'xueliang',
        orgUnitId: village,
        position: { lon: 118.7, lat: 31 },
        onvifUrl: c.device,
        mainStreamUri: c.main,
        subStreamUri: c.sub,
        credentials: { username: c.username, password: c.password },
      });
      ids.push(r.json.id as number);
    }
    const viewerToken = await t.login('county');
    const viewer = client(t.api, viewerToken);
    // Playlists and segments play only for the session that asked for the ticket.
    const asViewer = { headers: { authorization: `Bearer ${viewerToken}` } };
    const open = async (id: number, quality: 'main' | 'sub') => {
      const t0 = performance.now();
      const r = await viewer.post(`/cameras/${id}/stream`, { quality });
      if (r.status !== 200) throw new Error(`stream ${id}: ${r.status} ${r.text}`);
      const pl = await (await fetch(t.url + (r.json.playlistUrl as string), asViewer)).text();
      if (!/seg_\d+\.ts/.test(pl)) throw new Error(`stream ${id}: playlist without a segment`);
      return { ms: performance.now() - t0, url: t.url + (r.json.playlistUrl as string) };
    };

    // 1. Cold starts, one after another.
    console.log('# mode: simulator cameras join mid-GOP (idrOnConnect off, the default), GOP 1 s, shared clips');
    const starts: number[] = [];
    for (const id of ids.slice(0, 20)) starts.push((await open(id, 'main')).ms / 1000);
    bench('relay.playlist.p50', pct(starts, 50), 's');
    bench('relay.playlist.p95', pct(starts, 95), 's');

    // 2. 50 concurrent 1080p relays: the 20 above plus 30 more.
    for (const id of ids.slice(20, 50)) await open(id, 'main');
    await new Promise((r) => setTimeout(r, 5000));
    const root = t.engine!.relay.rootDir;
    const pids = ffmpegPids(root);
    const t0 = pids.reduce((a, p) => a + cpuTicks(p), 0);
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, 20_000));
    const cpu = ((pids.reduce((a, p) => a + cpuTicks(p), 0) - t0) / 100 / ((performance.now() - w0) / 1000)) * 100;
    const rss = pids.reduce((a, p) => a + rssMB(p), 0);
    console.log(`# ${pids.length} ffmpeg relays measured`);
    bench('relay.cpu_per_stream', cpu / pids.length, '%');
    bench('relay.rss_per_stream', rss / pids.length, 'MB');

    // 3. 100 concurrent: 50 more (1080p), then poll every playlist for 30 s.
    const urls = new Map<number, string>();
    for (const id of ids) urls.set(id, (await open(id, 'main')).url);
    const last = new Map<number, number>();
    let gaps = 0;
    let polls = 0;
    const until = performance.now() + 30_000;
    while (performance.now() < until) {
      await Promise.all(
        [...urls].map(async ([id, url]) => {
          const text = await (await fetch(url, asViewer)).text();
          polls++;
          if (text.includes('#EXT-X-DISCONTINUITY')) gaps++;
          const seq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? NaN);
          const segs = text.split('\n').filter((l) => l.endsWith('.ts'));
          const prev = last.get(id);
          const newest = seq + segs.length - 1;
          // A jump past the window since the last poll means segments were produced and lost unseen.
          if (prev !== undefined && seq > prev + 1) gaps++;
          last.set(id, newest);
        }),
      );
      await new Promise((r) => setTimeout(r, 1000));
    }
    console.log(`# ${urls.size} relays, ${polls} playlist polls`);
    bench('relay.concurrent100.gaps', gaps, 'count');
  } finally {
    await t.close();
    sim.proc.removeAllListeners('exit');
    sim.proc.kill('SIGTERM');
    await new Promise((r) => sim.proc.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

if (values['sim-child']) await simChild(Number(values['sim-child']), values['clip-dir']!);
else await main();
