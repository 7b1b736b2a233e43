/**
 * Simulator benchmarks:   node scripts/sim/bench.ts   (npm run bench:sim)
 * 1. Join wait (issue 18): PLAY to the first packet of video (always a keyframe's SPS) on cameras that join
 *    mid-GOP, GOP 2 s (BENCH_JOIN_GOP): `sim.join_wait.p50` ≈ GOP/2 is the headline; the same on
 *    `idrOnConnect` cameras for reference. 20 cameras, 480x270@15, shared clips (no encode waits), 200 joins
 *    at random moments, clients in this process.
 * 2. Cost: CPU and RSS of the simulator process with N idle cameras, then with S of them streaming their
 *    main profile to ffmpeg clients over RTSP/TCP (clients' own CPU is not counted)
 *    (BENCH_CAMERAS=50 BENCH_STREAMS=4 BENCH_SECONDS=10).
 * 3. A fleet streaming: BENCH_FLEET (400) cameras' sub streams (480x270@15, the demo's) to one sink process,
 *    every frame with its clock SEI and burnt-in clock band; and the band's own cost per frame.
 * BENCH_ONLY=join|cost|fleet runs one part. Prints `BENCH <name> <value> <unit>` lines, with `#` lines saying
 * what ran. Loopback only; stops by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { defaultCameraSpecs, measureResources, startSimulator, type Simulator } from './index.ts';
import { RawRtsp } from './test-support.ts';
import { ClockBand, clockBandLayout } from './wallclock.ts';
import { percentile } from './measure.ts';

const N = Number(process.env.BENCH_CAMERAS ?? 50);
const S = Number(process.env.BENCH_STREAMS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const FLEET = Number(process.env.BENCH_FLEET ?? 400);
const JOIN_GOP = Number(process.env.BENCH_JOIN_GOP ?? 2);
const JOINS = Number(process.env.BENCH_JOINS ?? 200);
const ONLY = process.env.BENCH_ONLY;
const root = path.resolve(import.meta.dirname, '..', '..');
const bench = (name: string, value: number, unit: string) => console.log(`BENCH ${name} ${value.toFixed(2)} ${unit}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const randomBase = () => `127.${100 + Math.floor(Math.random() * 150)}.1.1`;
const load = () => loadavg()[0]!.toFixed(1);
const pct = percentile;
const DEMO_SUB = { width: 480, height: 270, fps: 15 };

if (process.env.BENCH_SINK) await sink();
else {
  if (!ONLY || ONLY === 'join') await joinWait();
  if (!ONLY || ONLY === 'cost') await cost();
  if (!ONLY || ONLY === 'fleet') await fleet();
}

/** PLAY → first video packet, seconds, for `joins` sessions opened at random moments. */
async function joins(sim: Simulator, count: number): Promise<number[]> {
  const waits: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      for (let i = next++; i < count; i = next++) {
        const cam = sim.cameras[i % sim.cameras.length]!;
        const c = await RawRtsp.connect(cam.host, cam.rtspPort);
        try {
          const { session } = await c.setup(cam.subStreamUri);
          // A random moment, so joins fall anywhere in a GOP whatever the cameras' phases.
          await sleep(Math.random() * JOIN_GOP * 1000);
          const t0 = performance.now();
          await c.request('PLAY', cam.subStreamUri, { Session: session, Range: 'npt=0.000-' });
          const end = Date.now() + JOIN_GOP * 1000 + 10_000;
          while (!c.packets.length && Date.now() < end) await sleep(5);
          const first = c.packets[0];
          if (!first) throw new Error(`no video from ${cam.code} within ${JOIN_GOP + 10} s`);
          if ((first.payload[0]! & 0x1f) !== 7) throw new Error('first packet is not a keyframe SPS');
          waits.push((first.receivedPerf - t0) / 1000);
        } finally {
          c.close();
        }
      }
    }),
  );
  return waits;
}

async function joinWait(): Promise<void> {
  const clipDir = mkdtempSync(path.join(tmpdir(), 'sim-join-'));
  const specs = defaultCameraSpecs(40, { firstIp: randomBase() }).map((s, i) => ({
    ...s,
    faults: {},
    keyframeIntervalSec: JOIN_GOP,
    idrOnConnect: i >= 20,
  }));
  const sim = await startSimulator({
    cameras: specs,
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    clipDir,
    clipMode: 'shared',
    streamOverrides: { sub: DEMO_SUB },
    log: () => undefined,
  });
  try {
    const mid = { ...sim, cameras: sim.cameras.slice(0, 20) };
    const idr = { ...sim, cameras: sim.cameras.slice(20) };
    const before = load();
    const w = await joins(mid, JOINS);
    console.log(
      `# sim.join_wait: mid-GOP join (idrOnConnect off, the default), GOP ${JOIN_GOP} s, 20 cameras ` +
        `${DEMO_SUB.width}x${DEMO_SUB.height}@${DEMO_SUB.fps}, shared clips, ${JOINS} joins at random moments; ` +
        `PLAY sent → first keyframe packet; load average ${before} → ${load()} on ${availableParallelism()} cores`,
    );
    bench('sim.join_wait.p50', pct(w, 50), 's');
    bench('sim.join_wait.p95', pct(w, 95), 's');
    bench('sim.join_wait.mean', w.reduce((a, b) => a + b, 0) / w.length, 's');
    bench('sim.join_wait.max', Math.max(...w), 's');
    const r = await joins(idr, JOINS);
    console.log(`# reference, not the headline: the same on idrOnConnect cameras (an IDR to every new session)`);
    bench('sim.join_wait.idr_on_connect.p50', pct(r, 50), 's');
    bench('sim.join_wait.idr_on_connect.p95', pct(r, 95), 's');
  } finally {
    await sim.stop();
    rmSync(clipDir, { recursive: true, force: true });
  }
}

async function cost(): Promise<void> {
  const t0 = performance.now();
  const sim = await startSimulator({
    cameras: defaultCameraSpecs(N, { firstIp: randomBase() }),
    onvifPort: 0,
    rtspPort: 0,
    discoveryPort: 0,
    clipDir: path.join(root, 'data', 'sim-clips'),
    log: () => undefined,
  });
  bench(`sim_start_${N}_cameras`, performance.now() - t0, 'ms');

  const clients: ChildProcess[] = [];
  try {
    await sleep(1000);
    const idle = await measureResources(SECONDS * 1000);
    bench(`sim_idle_${N}_cpu`, idle.cpuPercent, '%core');
    bench(`sim_idle_${N}_rss`, idle.rssMiB, 'MiB');

    for (const c of sim.cameras.slice(0, S)) {
      const child = spawn(
        'ffmpeg',
        ['-v', 'error', '-rtsp_transport', 'tcp', '-i', c.mainStreamUri, '-c', 'copy', '-f', 'null', '-'],
        { stdio: 'ignore' },
      );
      clients.push(child);
    }
    // Wait until every stream's clip is encoded and flowing.
    const deadline = Date.now() + 120_000;
    let last = -1;
    while (Date.now() < deadline) {
      const s = sim.stats();
      if (s.ffmpegRunning === 0 && s.ffmpegQueued === 0 && s.rtspPlaying >= S && s.rtpPackets > last && last > 0) {
        break;
      }
      last = s.rtpPackets;
      await sleep(1000);
    }
    await sleep(2000);
    const before = sim.stats();
    const busy = await measureResources(SECONDS * 1000);
    const after = sim.stats();
    bench(`sim_${N}_cameras_${S}_streaming_cpu`, busy.cpuPercent, '%core');
    bench(`sim_${N}_cameras_${S}_streaming_rss`, busy.rssMiB, 'MiB');
    bench(`sim_${S}_streaming_mbps`, ((after.rtpBytes - before.rtpBytes) * 8) / busy.wallMs / 1000, 'Mbit/s');
    bench(`sim_${S}_streaming_dropped_frames`, after.droppedFrames - before.droppedFrames, 'frames');
  } finally {
    for (const c of clients) if (c.pid) c.kill('SIGTERM');
    await sim.stop();
  }
}

/** A child process that plays every URI given on stdin (one JSON line) over RTSP/TCP and discards the media. */
async function sink(): Promise<void> {
  let buf = '';
  for await (const d of process.stdin) {
    buf += String(d);
    if (buf.includes('\n')) break;
  }
  const uris = JSON.parse(buf) as string[];
  let playing = 0;
  await Promise.all(
    uris.map(
      (uri) =>
        new Promise<void>((resolve) => {
          const u = new URL(uri);
          const s = net.connect({ host: u.hostname, port: Number(u.port) });
          let text = '';
          let step = 0;
          const send = (method: string, suffix: string, header: string) =>
            s.write(`${method} ${uri}${suffix} RTSP/1.0\r\nCSeq: ${step + 1}\r\n${header}\r\n\r\n`);
          s.on('connect', () => send('DESCRIBE', '', 'Accept: application/sdp'));
          s.on('data', (d: Buffer) => {
            if (step >= 2) return; // PLAY sent: media from here on, discarded
            text += d.toString('latin1');
            const end = text.indexOf('\r\n\r\n');
            if (end < 0) return;
            const len = Number(/Content-Length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
            if (text.length < end + 4 + len) return;
            const head = text.slice(0, end);
            text = text.slice(end + 4 + len);
            step++;
            if (step === 1) send('SETUP', '/trackID=1', 'Transport: RTP/AVP/TCP;unicast;interleaved=0-1');
            else {
              const session = /Session: ([^;\r\n]+)/i.exec(head)?.[1] ?? '';
              send('PLAY', '', `Session: ${session}`);
              playing++;
              resolve();
            }
          });
          s.on('error', () => resolve());
        }),
    ),
  );
  process.stdout.write(`${JSON.stringify({ playing })}\n`);
}

async function fleet(): Promise<void> {
  // The band's own cost: draw the time, find what changed, write the slice (P pictures; a keyframe a second).
  for (const [w, h, fps] of [
    [480, 270, 15],
    [1280, 720, 25],
  ] as const) {
    const band = new ClockBand(clockBandLayout(w, h)!);
    const head = { firstMb: 0, sliceType: 0, rbsp: Buffer.alloc(8), from: 0, to: 16 };
    const idrHead = { ...head, sliceType: 2 };
    const frames = 5000;
    const run = (from: number) => {
      for (let n = from; n < from + frames; n++) {
        band.render(n, Date.now() + (n * 1000) / fps);
        band.slice(n % fps === 0 ? idrHead : head, 0x41, true);
      }
    };
    run(0); // warm up (JIT)
    const t0 = performance.now();
    run(frames);
    bench(`sim.clock_band_${w}x${h}_per_frame`, ((performance.now() - t0) * 1000) / frames, 'us');
  }

  const clipDir = mkdtempSync(path.join(tmpdir(), 'sim-fleet-'));
  const sim = await startSimulator({
    cameras: defaultCameraSpecs(FLEET, { firstIp: randomBase() }).map((s) => ({ ...s, faults: {} })),
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    clipDir,
    clipMode: 'shared',
    streamOverrides: { main: { width: 1280, height: 720, fps: 25 }, sub: DEMO_SUB },
    log: () => undefined,
  });
  const child = spawn(process.execPath, [import.meta.filename], {
    env: { ...process.env, BENCH_SINK: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    child.stdin.end(`${JSON.stringify(sim.cameras.map((c) => c.subStreamUri))}\n`);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await sleep(3000);
    const before = sim.stats();
    const busy = await measureResources(SECONDS * 1000);
    const after = sim.stats();
    console.log(
      `# fleet: ${after.rtspPlaying} of ${FLEET} cameras streaming sub ${DEMO_SUB.width}x${DEMO_SUB.height}@${DEMO_SUB.fps}` +
        ` (shared clips, mid-GOP join, GOP 1 s) to one sink process, clock SEI + band in every frame; load average ${load()}`,
    );
    bench(`sim_${FLEET}_sub_streaming_cpu`, busy.cpuPercent, '%core');
    bench(`sim_${FLEET}_sub_streaming_rss`, busy.rssMiB, 'MiB');
    bench(`sim_${FLEET}_sub_streaming_mbps`, ((after.rtpBytes - before.rtpBytes) * 8) / busy.wallMs / 1000, 'Mbit/s');
    bench(`sim_${FLEET}_sub_streaming_dropped_frames`, after.droppedFrames - before.droppedFrames, 'frames');
  } finally {
    child.kill('SIGTERM');
    await sim.stop();
    rmSync(clipDir, { recursive: true, force: true });
  }
}
