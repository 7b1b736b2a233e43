/**
 * First frames after a cold start, as the platform's health sweep sees them: the simulator (a child
 * process, fresh clip dir) starts N cameras with the demo's geometry, then N probes — connect, DESCRIBE,
 * SETUP (TCP), PLAY, wait for the first RTP packet, each within 4 s — run with concurrency 32 against the
 * sub streams. Cameras join mid-GOP (the simulator's default, as real cameras do: the first packet is the
 * next keyframe's) with a GOP of `--gop` seconds (1, the demo's); `--idr-on-connect` measures cameras that
 * send a new session an IDR at once instead (the figures before issue 18, not the headline). In per-camera
 * clip mode a camera without its own clip sends nothing until it is encoded: the sweep then measures the
 * encoder queue as much as the cameras. Then, optionally, the same simulator's prewarm of every sub clip is timed and its CPU/RSS
 * sampled (the simulator's Node process and its ffmpeg children apart).
 *
 *   node scripts/sim/bench-first-frame.ts [--count 400] [--concurrency 32] [--timeout-ms 4000]
 *        [--clip-mode per-camera|shared] [--gop 1] [--idr-on-connect] [--prewarm] [--skip-sweep] [--sweeps 1]
 *        [--first-ip 127.60.1.1]
 *
 * Further sweeps (--sweeps 2) run while the own clips queued by the first one are being encoded.
 *
 * Prints `BENCH <name> <value> <unit>` lines. Loopback only; stops by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultCameraSpecs, startSimulator, type SimulatorStats } from './index.ts';
import { RawRtsp } from './test-support.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '32' },
    'timeout-ms': { type: 'string', default: '4000' },
    'clip-mode': { type: 'string', default: 'per-camera' },
    gop: { type: 'string', default: '1' },
    'idr-on-connect': { type: 'boolean', default: false },
    prewarm: { type: 'boolean', default: false },
    'skip-sweep': { type: 'boolean', default: false },
    sweeps: { type: 'string', default: '1' },
    'first-ip': { type: 'string', default: '127.60.1.1' },
    child: { type: 'boolean', default: false },
    'clip-dir': { type: 'string' },
  },
});
const N = Number(values.count);
const bench = (name: string, value: number, unit: string) => console.log(`BENCH ${name} ${value.toFixed(2)} ${unit}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function child(): Promise<void> {
  const mode = values['clip-mode'] === 'shared' ? 'shared' : 'per-camera';
  const t0 = performance.now();
  const sim = await startSimulator({
    cameras: defaultCameraSpecs(N, { firstIp: values['first-ip'] }).map((s) => ({
      ...s,
      faults: {},
      idrOnConnect: values['idr-on-connect'],
    })),
    keyframeIntervalSec: Number(values.gop),
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    clipDir: values['clip-dir']!,
    clipMode: mode,
    // The demo's geometry (server/src/demo/simulated-county.ts).
    streamOverrides: { main: { width: 1280, height: 720, fps: 25 }, sub: { width: 480, height: 270, fps: 15 } },
    ...(values.prewarm ? { prewarm: { stream: 'sub' as const } } : {}),
    log: (m) => console.error(`sim: ${m}`),
  });
  const startMs = performance.now() - t0;
  const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  say({ ready: true, startMs, subs: sim.cameras.map((c) => c.subStreamUri), stats: sim.stats() });
  const t = setInterval(() => say({ stats: sim.stats() }), 250);
  const stop = () => {
    clearInterval(t);
    void sim.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
}

/** utime+stime of the process itself and of its reaped children, in ms; RSS in MiB. */
function procTimes(pid: number): { self: number; children: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = 10; // USER_HZ 100
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return {
    self: (Number(f[11]) + Number(f[12])) * tick,
    children: (Number(f[13]) + Number(f[14])) * tick,
    rssMiB: Number(rss?.[1] ?? 0) / 1024,
  };
}

async function probe(uri: string, timeoutMs: number): Promise<number | undefined> {
  const u = new URL(uri);
  const t0 = performance.now();
  let c: RawRtsp | undefined;
  const deadline = sleep(timeoutMs).then(() => undefined);
  const attempt = (async () => {
    c = await RawRtsp.connect(u.hostname, Number(u.port));
    const r = await c.play(uri);
    if (r.play.status !== 200) return undefined;
    await c.waitPackets(1, timeoutMs);
    return c.packets.length ? performance.now() - t0 : undefined;
  })().catch(() => undefined);
  const got = await Promise.race([attempt, deadline]);
  c?.close();
  return got !== undefined && got <= timeoutMs ? got : undefined;
}

async function main(): Promise<void> {
  const clipDir = mkdtempSync(path.join(tmpdir(), 'sim-firstframe-'));
  const args = [import.meta.filename, '--child', '--count', String(N), '--clip-dir', clipDir];
  args.push('--clip-mode', values['clip-mode']!, '--first-ip', values['first-ip']!, '--gop', values.gop!);
  if (values.prewarm) args.push('--prewarm');
  if (values['idr-on-connect']) args.push('--idr-on-connect');
  const proc: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let ready: { startMs: number; subs: string[] } | undefined;
  let stats: SimulatorStats | undefined;
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const msg = JSON.parse(buf.slice(0, nl)) as {
        ready?: boolean;
        startMs: number;
        subs: string[];
        stats: SimulatorStats;
      };
      buf = buf.slice(nl + 1);
      if (msg.ready) ready = msg;
      stats = msg.stats;
    }
  });
  try {
    while (!ready) await sleep(20);
    const join = values['idr-on-connect'] ? 'idr_on_connect' : 'midgop';
    const tag = `${N}_${values['clip-mode']}${values.prewarm ? '_prewarm' : ''}_${join}_gop${values.gop}`;
    console.log(
      `# mode: ${values['idr-on-connect'] ? 'idrOnConnect (an IDR to every new session; not the headline)' : 'mid-GOP join (the default)'}, ` +
        `GOP ${values.gop} s, clip mode ${values['clip-mode']}, fresh clip dir${values.prewarm ? ', sub prewarm' : ''}, ` +
        `${N} cameras 480x270@15 sub, load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`,
    );
    bench(`firstframe_${tag}_sim_start`, ready.startMs, 'ms');
    const pid = proc.pid!;

    if (!values['skip-sweep']) {
      for (let k = 1; k <= Number(values.sweeps); k++) {
        if (k > 1) console.log(`# before sweep ${k}: ${JSON.stringify(stats)}`);
        await sweep(k > 1 ? `${tag}_sweep${k}` : tag, pid, ready.subs);
      }
    }
    if (values.prewarm) await prewarm(tag, pid, () => stats);
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(clipDir, { recursive: true, force: true });
  }
}

async function sweep(tag: string, pid: number, subs: string[]): Promise<void> {
  const timeoutMs = Number(values['timeout-ms']);
  const conc = Number(values.concurrency);
  const lat: Array<number | undefined> = [];
  const before = procTimes(pid);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      for (let i = next++; i < subs.length; i = next++) lat[i] = await probe(subs[i]!, timeoutMs);
    }),
  );
  const sweepMs = performance.now() - t0;
  const after = procTimes(pid);
  const ok = lat.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  const pct = (p: number) => ok[Math.min(ok.length - 1, Math.floor((ok.length * p) / 100))] ?? NaN;
  bench(`firstframe_${tag}_ok`, ok.length, `of ${N}`);
  bench(`firstframe_${tag}_sweep`, sweepMs / 1000, 's');
  bench(`firstframe_${tag}_p50`, pct(50), 'ms');
  bench(`firstframe_${tag}_p95`, pct(95), 'ms');
  bench(`firstframe_${tag}_max`, ok.at(-1) ?? NaN, 'ms');
  bench(`firstframe_${tag}_sweep_sim_cpu`, ((after.self - before.self) / sweepMs) * 100, '%core');
  bench(`firstframe_${tag}_sweep_sim_rss`, after.rssMiB, 'MiB');
}

async function prewarm(tag: string, pid: number, statsNow: () => SimulatorStats | undefined): Promise<void> {
  // Until no encode is left (prewarm and on-demand): the simulator's own CPU (Node) and its ffmpeg children's.
  const busy = (s: SimulatorStats | undefined) =>
    !!s && s.prewarmQueued + s.prewarmRunning + s.ffmpegQueued + s.ffmpegRunning > 0;
  console.log(`# prewarm from here: ${JSON.stringify(statsNow())}`);
  const p0 = procTimes(pid);
  const w0 = performance.now();
  let peakRss = 0;
  while (busy(statsNow())) {
    const a = procTimes(pid);
    await sleep(5000);
    const b = procTimes(pid);
    const s = statsNow()!;
    peakRss = Math.max(peakRss, b.rssMiB);
    console.log(
      `# ${((performance.now() - w0) / 1000).toFixed(0)} s: node ${((b.self - a.self) / 50).toFixed(1)} %core, ` +
        `ffmpeg ${((b.children - a.children) / 50).toFixed(1)} %core (reaped), rss ${b.rssMiB.toFixed(0)} MiB, ` +
        `prewarm ${s.prewarmRunning}+${s.prewarmQueued} queued, on-demand ${s.ffmpegRunning - s.prewarmRunning}+${s.ffmpegQueued} queued`,
    );
  }
  const p1 = procTimes(pid);
  const ms = performance.now() - w0;
  bench(`prewarm_${tag}_time`, ms / 1000, 's');
  bench(`prewarm_${tag}_sim_node_cpu`, ((p1.self - p0.self) / ms) * 100, '%core');
  bench(`prewarm_${tag}_ffmpeg_cpu`, ((p1.children - p0.children) / ms) * 100, '%core');
  bench(`prewarm_${tag}_sim_rss_peak`, peakRss, 'MiB');
  console.log(`# final: ${JSON.stringify(statsNow())}`);
}

if (values.child) await child();
else await main();
