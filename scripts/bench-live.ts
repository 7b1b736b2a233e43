/// <reference lib="dom" />
/**
 * The low-latency live path in headless Chromium (issue 15):
 *   npm run bench:live                 # GOP 1 s and 4 s, 20 cameras each
 *   npm run bench:live -- --cameras 10 --gops 1 --tiles64 60
 * Real server, real relay (one ffmpeg per camera: HLS and fMP4), the simulator, Debian's Chromium running the
 * product's own MSE player and live socket (bundled from client/src with Vite). For each camera in turn:
 *   - cold: from the call that a click makes (ticket, subscribe) to the first presented frame
 *     (requestVideoFrameCallback), with no relay running for that camera;
 *   - warm: the same again right after, the relay running (its cached GOP starts the viewer);
 *   - latency: for ~3 s of the warm tile, each presented frame's display time against the wall clock the
 *     simulator burnt into that picture (scripts/sim/wallclock.ts), read back from the canvas.
 * Prints `BENCH live.first_frame.p50.gop<N>s` / `.p95`, `live.first_frame.warm.p50.gop<N>s`,
 * `live.latency.p50.gop<N>s` (s), and with --tiles64 <s> `live.tiles64.progress.min` (%, 64 tiles on one
 * socket: the lowest share of wall time a tile's video advanced) with the server's CPU. Exits non-zero when a
 * tile never plays (or fell back to HLS).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { claimLoopbackBlock } from './sim/addresses.ts';
import { defaultCameraSpecs, startSimulator } from './sim/index.ts';
import { client, registerSimCamera, startTestServer } from '../tests/helpers/server.ts';
import { CHROMIUM_ARGS } from '../tests/browser/harness.ts';
import { DEMO_PASSWORD } from '../server/src/demo/seed.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const CAMERAS = Number(arg('cameras', '20'));
const GOPS = arg('gops', '1,4').split(',').map(Number);
const TILES64_SEC = Number(arg('tiles64', '0'));
const root = path.resolve(import.meta.dirname, '..');

const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
};
/** CPU ticks of every ffmpeg this process started (the relays), by pid, from /proc. */
const ffmpegTicks = () => {
  const out = new Map<number, number>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'ffmpeg') continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) !== process.pid) continue; // ppid: ours only
      out.set(Number(pid), Number(f[11]) + Number(f[12]));
    } catch {
      // gone meanwhile
    }
  }
  return out;
};
/** CPU seconds the relays' ffmpeg used between two samples (processes alive at the second). */
const ffmpegCpuSince = (before: Map<number, number>) => {
  let ticks = 0;
  for (const [pid, t] of ffmpegTicks()) ticks += t - (before.get(pid) ?? 0);
  return ticks / 100;
};
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

// The page's script: the product's player, bundled as a module for the bench page.
const bundleDir = mkdtempSync(path.join(tmpdir(), 'ccc-bench-live-'));
await build({
  configFile: false,
  logLevel: 'error',
  root,
  resolve: {
    alias: { '@api': path.join(root, 'server/src/api'), '@geo': path.join(root, 'server/src/geo') },
  },
  build: {
    outDir: bundleDir,
    emptyOutDir: true,
    minify: false,
    lib: { entry: path.join(root, 'client/bench/live-page.ts'), formats: ['es'], fileName: () => 'bench-live.js' },
  },
});
const BUNDLE = readFileSync(path.join(bundleDir, 'bench-live.js'), 'utf8');
rmSync(bundleDir, { recursive: true, force: true });
// wallclock.ts builds its SEI constants with Buffer at load time; the band reader itself needs none of it.
const SHIM =
  'window.Buffer = { from: () => new Uint8Array(16), alloc: (n) => new Uint8Array(n), concat: () => new Uint8Array(0) };';

/** What client/bench/live-page.ts puts on the page's window. */
interface BenchTile {
  firstFrame: Promise<number>;
  transport(): string;
  latencies(): number[];
  measureLatency(on: boolean): void;
  currentTime(): number;
  stop(): void;
}
type Win = Window & { B: { play(cameraId: number, timeoutMs?: number): BenchTile }; benchReady?: boolean };

const t = await startTestServer({ cameras: 0, relay: true });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
});
let failed = false;
try {
  const tech = client(t.api, await t.login('tech'));
  const village = ((await tech.get('/org-units')).json as { id: number; level: string }[]).find(
    (o) => o.level === 'village',
  )!.id;
  // A document of the platform itself (a WebSocket from a page the test fulfilled never reached the server),
  // with the bundle injected: CSP bypassed for this bench page only.
  const context = await browser.newContext({ baseURL: t.url, bypassCSP: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`# page error: ${e.message}`));
  await page.goto('/api/v1/health/live');
  await page.addScriptTag({ content: SHIM });
  await page.addScriptTag({ content: BUNDLE, type: 'module' });
  await page.waitForFunction(() => (window as unknown as Win).benchReady === true);
  await page.evaluate(async (password) => {
    const res = await fetch('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'county', password }),
    });
    if (!res.ok) throw new Error(`login: ${res.status}`);
  }, DEMO_PASSWORD);

  for (const gop of GOPS) {
    const block = await claimLoopbackBlock();
    const sim = await startSimulator({
      cameras: defaultCameraSpecs(CAMERAS, { firstIp: block.host(1), seed: 15 + gop }).map((s) => ({
        ...s,
        clockOffsetSec: 0,
        faults: {},
      })),
      clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-bench-live-clips-')),
      discovery: false,
      clipMode: 'shared',
      keyframeIntervalSec: gop,
      onvifPort: 0,
      rtspPort: 0,
      streamOverrides: { sub: { width: 640, height: 360, fps: 25 } },
    });
    try {
      const ids: number[] = [];
      for (const [i, cam] of sim.cameras.entries()) {
        ids.push(
          await registerSimCamera(tech, cam, {
            name: `低延时基准${gop}-${i}`,
            networkId: 'xueliang',
            orgUnitId: village,
          }),
        );
      }
      const cold: number[] = [];
      const warm: number[] = [];
      const latency: number[] = [];
      const loadBefore = load();
      for (const id of ids) {
        const r = await page.evaluate(async (id) => {
          const B = (window as unknown as Win).B;
          const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
          const c = B.play(id);
          const coldS = await c.firstFrame;
          const coldT = c.transport();
          c.stop();
          const w = B.play(id);
          const warmS = await w.firstFrame;
          // Let buffer control settle at its target, then date the pictures shown.
          await sleep(1_000);
          w.measureLatency(true);
          await sleep(3_000);
          const lat = w.latencies();
          const warmT = w.transport();
          w.stop();
          return { coldS, warmS, lat, transports: [coldT, warmT] };
        }, id);
        if (!Number.isFinite(r.coldS) || !Number.isFinite(r.warmS) || r.transports.some((x) => x !== 'mse')) {
          console.error(
            `# camera ${id}: no frame over the live socket (cold ${r.coldS}, warm ${r.warmS}, ${r.transports})`,
          );
          failed = true;
          continue;
        }
        cold.push(r.coldS);
        warm.push(r.warmS);
        latency.push(...r.lat);
      }
      console.log(
        `# GOP ${gop} s: ${CAMERAS} cameras (sub 640x360 25 fps H.264, mid-GOP joins, shared clips), ${cold.length} played; ` +
          `${latency.length} pictures dated; ${cpus().length} cores, load ${loadBefore} → ${load()}`,
      );
      console.log(`# cold (s): ${cold.map((x) => x.toFixed(2)).join(' ')}`);
      console.log(`# warm (s): ${warm.map((x) => x.toFixed(2)).join(' ')}`);
      if (cold.length) {
        console.log(`BENCH live.first_frame.p50.gop${gop}s ${q(cold, 0.5).toFixed(3)} s`);
        console.log(`BENCH live.first_frame.p95.gop${gop}s ${q(cold, 0.95).toFixed(3)} s`);
        console.log(`BENCH live.first_frame.warm.p50.gop${gop}s ${q(warm, 0.5).toFixed(3)} s`);
      }
      if (latency.length) console.log(`BENCH live.latency.p50.gop${gop}s ${q(latency, 0.5).toFixed(3)} s`);
      else {
        console.error(`# GOP ${gop} s: no picture's clock could be read`);
        failed = true;
      }
    } finally {
      await sim.stop();
      await block.release();
    }
    if (TILES64_SEC > 0 && gop === GOPS[GOPS.length - 1]) {
      // 64 tiles on one socket: 64 cameras of their own (sub 320x180 15 fps, GOP 1 s), one page, one WebSocket.
      const block = await claimLoopbackBlock();
      const sim = await startSimulator({
        cameras: defaultCameraSpecs(64, { firstIp: block.host(1), seed: 64 }).map((s) => ({
          ...s,
          clockOffsetSec: 0,
          faults: {},
        })),
        clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-bench-live-clips-')),
        discovery: false,
        clipMode: 'shared',
        keyframeIntervalSec: 1,
        onvifPort: 0,
        rtspPort: 0,
        streamOverrides: { sub: { width: 320, height: 180, fps: 15 } },
      });
      try {
        const ids: number[] = [];
        for (const [i, cam] of sim.cameras.entries()) {
          ids.push(
            await registerSimCamera(tech, cam, { name: `六十四${i}`, networkId: 'xueliang', orgUnitId: village }),
          );
        }
        /** Plays every id in the page at once for `seconds`; how far each video advanced per wall second. */
        const runTiles = (seconds: number) =>
          page.evaluate(
            async ({ ids, seconds }) => {
              const B = (window as unknown as Win).B;
              const tiles = ids.map((id) => B.play(id, 30_000));
              await Promise.all(tiles.map((x) => x.firstFrame));
              const start = tiles.map((x) => x.currentTime());
              const t0 = performance.now();
              await new Promise((res) => setTimeout(res, seconds * 1000));
              const wall = (performance.now() - t0) / 1000;
              const progress = tiles.map((x, i) => (100 * (x.currentTime() - start[i]!)) / wall);
              const reasons = tiles.map((x) => x.transport()).filter((x) => x !== 'mse');
              for (const x of tiles) x.stop();
              return { progress, fellBack: reasons.length, reasons: [...new Set(reasons)], wall };
            },
            { ids, seconds },
          );
        // A short run first starts every relay; the measured run then sees steady state.
        await runTiles(5);
        const loadBefore = load();
        const cpu0 = cpuSeconds();
        const ff0 = ffmpegTicks();
        const running = runTiles(TILES64_SEC);
        // Sampled mid-run: how many sockets carry the 64 tiles.
        await new Promise((res) => setTimeout(res, Math.min(10, TILES64_SEC / 2) * 1000));
        const sockets = t.server.live.stats().sockets;
        const run = await running;
        const r = {
          ...run,
          serverCpu: ((cpuSeconds() - cpu0) / run.wall) * 100,
          ffmpegCpu: (ffmpegCpuSince(ff0) / run.wall) * 100,
        };
        console.log(
          `# 64 tiles, one page, ${sockets.length} live socket(s) carrying ${sockets.map((x) => x.tiles).join('+')} tiles, for ${TILES64_SEC} s (64 cameras sub 320x180 15 fps, ` +
            `GOP 1 s), ${r.fellBack} fell back to HLS (${r.reasons.join(', ') || 'none'}); CPU: server process (with this bench and the simulator) ` +
            `${r.serverCpu.toFixed(0)} %, the relays' ffmpeg ${r.ffmpegCpu.toFixed(0)} % of a core; load ${loadBefore} → ${load()}`,
        );
        console.log(`BENCH live.tiles64.progress.min ${Math.min(...r.progress).toFixed(1)} %`);
        if (r.fellBack > 0 || Math.min(...r.progress) <= 0) failed = true;
      } finally {
        await sim.stop();
        await block.release();
      }
    }
  }
} finally {
  await browser.close();
  await t.close();
}
if (failed) {
  console.error('# a tile never played over the live socket');
  process.exit(1);
}
