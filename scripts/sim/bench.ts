/**
 * Simulator cost: CPU and RSS of the simulator process with N idle cameras, then with S of them
 * streaming their main profile to ffmpeg clients over RTSP/TCP (clients' own CPU is not counted).
 *   node scripts/sim/bench.ts            (BENCH_CAMERAS=50 BENCH_STREAMS=4 BENCH_SECONDS=10)
 * Prints `BENCH <name> <value> <unit>` lines. Loopback only; stops by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { defaultCameraSpecs, measureResources, startSimulator } from './index.ts';

const N = Number(process.env.BENCH_CAMERAS ?? 50);
const S = Number(process.env.BENCH_STREAMS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const root = path.resolve(import.meta.dirname, '..', '..');
const bench = (name: string, value: number, unit: string) => console.log(`BENCH ${name} ${value.toFixed(2)} ${unit}`);

const t0 = performance.now();
const sim = await startSimulator({
  cameras: defaultCameraSpecs(N, { firstIp: `127.${100 + Math.floor(Math.random() * 150)}.1.1` }),
  onvifPort: 0,
  rtspPort: 0,
  discoveryPort: 0,
  clipDir: path.join(root, 'data', 'sim-clips'),
  log: () => undefined,
});
bench(`sim_start_${N}_cameras`, performance.now() - t0, 'ms');

const clients: ChildProcess[] = [];
try {
  await new Promise((r) => setTimeout(r, 1000));
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
    if (s.ffmpegRunning === 0 && s.ffmpegQueued === 0 && s.rtspPlaying >= S && s.rtpPackets > last && last > 0) break;
    last = s.rtpPackets;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await new Promise((r) => setTimeout(r, 2000));
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
