/**
 * Video quality diagnosis benchmark (issue 16), on loopback with real ffmpeg and the camera simulator:
 *   npm run bench:diagnosis [-- --points 300 --replicas 3 --relays 16 --skip-accuracy]
 *
 * - diagnosis.accuracy: the simulator's picture-fault set (every kind, `--replicas` cameras each, plus good
 *   and offline ones) through the server's own sweeps: a first sweep takes references, then the faults are
 *   switched on and a second sweep must find exactly each; the confusion matrix is printed. Fails below 95 %.
 * - diagnosis.cpu_per_point: CPU seconds per diagnosed point (the server process and the ffmpeg it reaped),
 *   measured over a sweep of `--points` cameras with `--relays` live relays running.
 * - diagnosis.sweep5000: minutes for 5,000 points at the configured concurrency with the relays running,
 *   EXTRAPOLATED linearly from the `--points` sweep (a 5,000-camera run takes over 20 minutes here); the line
 *   says so. Pass `--points 5000` to measure it for real.
 *   It fails above the 30-minute target. `--limit-minutes` bounds the sweep: one not done by then is stopped,
 *   extrapolated from what it checked, said so, and fails.
 * - diagnosis.relay_gaps: during that sweep, every relay's playlist polled each second; a gap is a restart
 *   (a new discontinuity, counted once), a media-sequence jump, or a relay whose newest segment did not advance
 *   for 4 s. Fails above 0: the sweep must never starve live viewing. diagnosis.relay_gaps_alone is the control:
 *   the same relays polled the same way for `--alone-seconds` before the sweep, to tell what the machine's
 *   own load does to them from what the sweep does.
 * - diagnosis.relay_gaps_alone.gop4s: the same control at a 4 s keyframe interval (real cameras use 2–4 s): as
 *   many relays of another simulator at GOP 4 s, on a server of their own after the sweep, polled alone for
 *   `--alone-seconds`, a stall being 12 s without a new segment (3 GOPs: at GOP 4 s a segment lasts 4 s). It
 *   costs about a minute whatever `--points`. The sweep itself, and so diagnosis.relay_gaps, stays at GOP 1 s
 *   only: a diagnosis sample lasts at least one GOP after the first keyframe, so a sweep at GOP 4 s would be a
 *   second, longer sweep and more than double the run (the 5,000-point one takes over 20 minutes already).
 * The simulators run in a child process so their cost stays apart from the server's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { QualityPointView } from '../server/src/api/contract.ts';
import { defaultCameraSpecs, startSimulator } from './sim/index.ts';
import { client, firstVillage, registerSimCamera, startTestServer, type TestServer } from '../tests/helpers/server.ts';
import { EXPECTED, INJECTED, confusion, simFaultsOf, type Injected } from '../tests/quality/fault-set.ts';

const { values } = parseArgs({
  options: {
    'sim-child': { type: 'string' },
    'clip-dir': { type: 'string' },
    gop: { type: 'string', default: '1' },
    'first-ip': { type: 'string', default: '127.0.120.1' },
    points: { type: 'string', default: '240' },
    replicas: { type: 'string', default: '3' },
    relays: { type: 'string', default: '16' },
    concurrency: { type: 'string', default: '16' },
    'limit-minutes': { type: 'string', default: '40' },
    'alone-seconds': { type: 'string', default: '15' },
    'skip-accuracy': { type: 'boolean', default: false },
  },
  strict: true,
});

const bench = (name: string, v: number, unit: string, note: string) =>
  console.log(`BENCH ${name} ${v.toFixed(unit === 'count' ? 0 : 3)} ${unit}  # ${note}`);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function simChild(count: number, clipDir: string, gop: number, firstIp: string) {
  const sim = await startSimulator({
    cameras: defaultCameraSpecs(count, { firstIp, seed: 16 }).map((s) => ({
      ...s,
      clockOffsetSec: 0,
      faults: {},
    })),
    clipDir,
    discovery: false,
    clipMode: 'shared',
    keyframeIntervalSec: gop,
    streamOverrides: {
      main: { width: 1280, height: 720, fps: 25, bitrateKbps: 2048 },
      sub: { width: 480, height: 270, fps: 15 },
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
  // The simulator's event loop paces every camera's frames: how late it ran, for telling its lag from the server's.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const marks = ['setting up', 'relays alone', 'during the sweep'];
  let mark = 0;
  process.on('SIGUSR2', () => {
    process.stderr.write(`# simulator event-loop delay, ${marks[mark++] ?? 'after'}: ${lagText(lag)}\n`);
    lag.reset();
  });
  const stop = () => void sim.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
}

type Cam = { device: string; main: string; sub: string; username: string; password: string };

function startSimChild(
  count: number,
  clipDir: string,
  gop = 1,
  firstIp = '127.0.120.1',
): Promise<{ proc: ChildProcess; cams: Cam[] }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [
        import.meta.filename,
        ...['--sim-child', String(count), '--clip-dir', clipDir, '--gop', String(gop), '--first-ip', firstIp],
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let buf = '';
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve({ proc, cams: JSON.parse(buf.slice(0, nl)) as Cam[] });
    });
    proc.once('exit', (code) => reject(new Error(`simulator exited ${code}`)));
  });
}

const lagText = (h: ReturnType<typeof monitorEventLoopDelay>) =>
  `p50 ${(h.percentile(50) / 1e6).toFixed(0)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(0)} ms, max ${(h.max / 1e6).toFixed(0)} ms`;

/** CPU seconds of this process and of its reaped children (ffmpeg diagnosis) so far. */
function cpuSeconds(): number {
  const c = cpuParts();
  return c.self + c.children;
}

/** The same, apart: this process (server, source proxy, measures) and its reaped children (ffmpeg). */
function cpuParts(): { self: number; children: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { self: (Number(f[11]) + Number(f[12])) / 100, children: (Number(f[13]) + Number(f[14])) / 100 };
}

async function villageOf(t: TestServer): Promise<number> {
  return firstVillage(client(t.api, await t.login('tech')));
}

/** Registers the simulator's cameras as points of one village, named `<prefix><i>`; their ids in order. */
async function registerCams(t: TestServer, cams: Cam[], prefix: string): Promise<number[]> {
  const tech = client(t.api, await t.login('tech'));
  const village = await villageOf(t);
  const ids: number[] = [];
  for (const [i, c] of cams.entries()) {
    const r = await tech.post('/cameras', {
      name: `${prefix}${i}`,
      networkId: 'xueliang',
      orgUnitId: village,
      position: { lon: 118.7, lat: 31 },
      mainStreamUri: c.main,
      subStreamUri: c.sub,
      credentials: { username: c.username, password: c.password },
    });
    ids.push(r.json.id as number);
  }
  return ids;
}

/** Part A: the fault set through two sweeps; returns the accuracy (0–1). */
async function accuracy(replicas: number): Promise<number> {
  const work = mkdtempSync(path.join(tmpdir(), 'ccc-bench-diag-'));
  const set: Injected[] = [];
  for (let r = 0; r < replicas; r++) set.push(...INJECTED);
  const sim = await startSimulator({
    cameras: defaultCameraSpecs(set.length, { firstIp: '127.0.121.1', seed: 17 }).map((s) => ({
      ...s,
      clockOffsetSec: 0,
      faults: {},
    })),
    clipDir: path.join(work, 'clips'),
    discovery: false,
    streamOverrides: { main: { width: 320, height: 180, fps: 10 }, sub: { width: 480, height: 270, fps: 15 } },
    prewarm: { stream: 'sub' },
  });
  const t = await startTestServer({ cameras: 0, diagnosis: true, overrides: { quality: { concurrency: 4 } } });
  try {
    const tech = client(t.api, await t.login('tech'));
    const village = await villageOf(t);
    const ids: number[] = [];
    // The sub stream only: the one a sweep samples.
    for (const [i, c] of sim.cameras.entries())
      ids.push(
        await registerSimCamera(tech, c, {
          name: `准确率${i}`,
          orgUnitId: village,
          mainStreamUri: undefined,
          ptz: undefined,
        }),
      );
    while (sim.stats().prewarmQueued + sim.stats().prewarmRunning + sim.stats().ffmpegRunning)
      await new Promise((r) => setTimeout(r, 200));
    await tech.post('/quality/sweeps', {});
    await t.server.app.quality.settled();
    for (const [i, injected] of set.entries()) await sim.setFaults(sim.cameras[i]!.code, simFaultsOf(injected));
    await sim.prepareClips(
      sim.cameras.map((c) => c.code),
      'sub',
    );
    await t.server.app.health.sweep();
    const started = performance.now();
    await tech.post('/quality/sweeps', {});
    await t.server.app.quality.settled();
    const secs = (performance.now() - started) / 1000;
    const points = (await tech.get('/quality/points?limit=500')).json as { items: QualityPointView[] };
    const byId = new Map(points.items.map((p) => [p.cameraId, p.kinds]));
    const outcomes = set.map((injected, i) => ({ injected, kinds: byId.get(ids[i]!) ?? [] }));
    const m = confusion(outcomes);
    console.log(`# confusion matrix (rows: injected, columns: main fault found)\n${m.table.replace(/^/gm, '# ')}`);
    bench(
      'diagnosis.accuracy',
      m.accuracy * 100,
      '%',
      `${set.length} simulated cameras (${replicas} of each of ${Object.keys(EXPECTED).length} cases: good, 9 picture faults, offline), sub 480x270@15 H.264, GOP 1 s, concurrency 4, second sweep ${secs.toFixed(0)} s; load ${load()}`,
    );
    return m.accuracy;
  } finally {
    await t.close();
    await sim.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

type Gaps = { restarts: number; jumps: number; stalls: number };
const noGaps = (): Gaps => ({ restarts: 0, jumps: 0, stalls: 0 });
const total = (g: Gaps) => g.restarts + g.jumps + g.stalls;
/** A relay stalls when its newest segment does not advance for 4 s at GOP 1 s, for 3 GOPs at longer ones. */
const stallMsAt = (gop: number) => Math.max(4, 3 * gop) * 1000;
const per = (g: Gaps, gop: number) =>
  `${g.restarts} restarts, ${g.jumps} sequence jumps, ${g.stalls} stalls of ${stallMsAt(gop) / 1000} s`;

/**
 * Polls every relay's playlist each second until `stop()`, counting gaps into the current `phase`: a restart (a
 * new discontinuity, counted once), a media-sequence jump, or a newest segment that did not advance for `stallMs`.
 */
function pollRelays(urls: Map<number, string>, asViewer: RequestInit, stallMs: number) {
  const last = new Map<number, { newest: number; since: number }>();
  /** Per relay, the segments a discontinuity (a restart of its ffmpeg) was seen before: each counted once. */
  const restartsSeen = new Map<number, Set<number>>();
  const state = {
    // Gaps while the relays play alone (the control: what the machine's own load does to them) and during the sweep.
    phases: { alone: noGaps(), sweep: noGaps() },
    phase: 'alone' as 'alone' | 'sweep',
    polls: 0,
    pollErrors: 0,
    stop: async () => {
      polling = false;
      await poller;
    },
  };
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const now = performance.now();
      await Promise.all(
        [...urls].map(async ([id, url]) => {
          let text: string;
          try {
            const res = await fetch(url, { ...asViewer, signal: AbortSignal.timeout(5000) });
            text = await res.text();
            if (res.status !== 200) throw new Error(`playlist ${res.status}`);
          } catch {
            // A refused poll is the poller's problem (a loaded machine), not a relay's: count it apart.
            state.pollErrors++;
            return;
          }
          state.polls++;
          const g = state.phases[state.phase];
          const seq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? NaN);
          let n = seq;
          let marked = false;
          const seen = restartsSeen.get(id) ?? new Set<number>();
          restartsSeen.set(id, seen);
          for (const line of text.split('\n')) {
            if (line.startsWith('#EXT-X-DISCONTINUITY')) marked = true;
            else if (/\.ts(\?|$)/.test(line)) {
              if (marked && !seen.has(n)) {
                seen.add(n);
                g.restarts++;
              }
              marked = false;
              n++;
            }
          }
          const newest = n - 1;
          const prev = last.get(id);
          if (prev && seq > prev.newest + 1) g.jumps++;
          if (!prev || newest > prev.newest) last.set(id, { newest, since: now });
          else if (now - prev.since > stallMs) {
            g.stalls++;
            prev.since = now;
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return state;
}

/** Part B: a sweep of `points` cameras with `relays` live relays; cost, extrapolated 5,000 and relay gaps. */
async function sweepWithRelays(
  points: number,
  relays: number,
  concurrency: number,
): Promise<{ gaps: number; sweep5000: number; finished: boolean }> {
  const work = mkdtempSync(path.join(tmpdir(), 'ccc-bench-diag-'));
  const sim = await startSimChild(points, path.join(work, 'clips'));
  // Whatever happens to this process, its simulator child goes with it.
  const killChild = () => sim.proc.kill('SIGTERM');
  process.once('exit', killChild);
  const t = await startTestServer({
    cameras: 0,
    relay: true,
    diagnosis: true,
    overrides: {
      // Stream tickets outlive the sweep: with the default 10 minutes every poll after that was refused and counted
      // as a stalled relay (the first two 5,000-point runs).
      relay: { idleTimeoutSeconds: 3600, startTimeoutMs: 20_000, ticketTtlSeconds: 7200 },
      quality: { concurrency, timeoutMs: 15_000 },
    },
  });
  try {
    const tech = client(t.api, await t.login('tech'));
    const ids = await registerCams(t, sim.cams, '扫描');
    const token = await t.login('county');
    const viewer = client(t.api, token);
    const asViewer = { headers: { authorization: `Bearer ${token}` } };
    const urls = new Map<number, string>();
    for (const id of ids.slice(0, relays)) {
      const r = await viewer.post(`/cameras/${id}/stream`, { quality: 'main' });
      if (r.status !== 200) throw new Error(`stream ${id}: ${r.status} ${r.text}`);
      urls.set(id, t.url + (r.json.playlistUrl as string));
    }
    // POST /stream answered once each relay's playlist listed a segment: every relay is live here.
    const poll = pollRelays(urls, asViewer, stallMsAt(1));
    const phases = poll.phases;
    process.stderr.write(`# ${urls.size} relays live; sweeping ${ids.length} points\n`);
    // The server's own cost of the relays (its source proxy carries their media): measured before the sweep
    // and taken off, so cpu_per_point is the diagnosis alone. The same time is the relays' control for gaps.
    const serverLag = monitorEventLoopDelay({ resolution: 10 });
    serverLag.enable();
    sim.proc.kill('SIGUSR2');
    const base0 = cpuSeconds();
    const baseT = performance.now();
    await new Promise((r) => setTimeout(r, Number(values['alone-seconds']) * 1000));
    const aloneSecs = (performance.now() - baseT) / 1000;
    poll.phase = 'sweep';
    console.log(`# server event-loop delay, relays alone: ${lagText(serverLag)}`);
    sim.proc.kill('SIGUSR2');
    serverLag.reset();
    const relayCpuPerSec = (cpuSeconds() - base0) / ((performance.now() - baseT) / 1000);
    const loadBefore = load();
    const cpu0 = cpuSeconds();
    const parts0 = cpuParts();
    const started = performance.now();
    const res = await tech.post('/quality/sweeps', {});
    if (res.status !== 202) throw new Error(`sweep: ${res.status} ${res.text}`);
    const progress = setInterval(() => {
      const s = t.server.app.quality.liveRelays();
      void tech.get('/quality/sweeps').then((r) => {
        const w = (r.json as { checked: number; total: number; status: string }[])[0];
        process.stderr.write(`# sweep ${w?.status} ${w?.checked}/${w?.total}, ${s} relays counted live\n`);
      });
    }, 10_000);
    const limitMs = Number(values['limit-minutes']) * 60_000;
    let limitTimer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      t.server.app.quality.settled().then(() => true),
      new Promise<boolean>((r) => (limitTimer = setTimeout(() => r(false), limitMs))),
    ]);
    clearTimeout(limitTimer);
    clearInterval(progress);
    const secs = (performance.now() - started) / 1000;
    const cpu = cpuSeconds() - cpu0 - relayCpuPerSec * secs;
    const parts1 = cpuParts();
    const ffmpegCpu = parts1.children - parts0.children;
    const serverCpu = parts1.self - parts0.self - relayCpuPerSec * secs;
    console.log(`# server event-loop delay, during the sweep: ${lagText(serverLag)}`);
    sim.proc.kill('SIGUSR2');
    serverLag.disable();
    process.stderr.write('# sweep done; stopping the poller\n');
    await poll.stop();
    const { polls, pollErrors } = poll;
    const sweep = ((await tech.get('/quality/sweeps')).json as { checked: number; good: number; faulty: number }[])[0]!;
    const pts: QualityPointView[] = [];
    for (let cursor = 0; ;) {
      const page = (await tech.get(`/quality/points?limit=500${cursor ? `&cursor=${cursor}` : ''}`)).json as {
        items: QualityPointView[];
      };
      pts.push(...page.items);
      if (page.items.length < 500) break;
      cursor = page.items.at(-1)!.cameraId;
    }
    const reasons = new Map<string, number>();
    for (const p of pts)
      if (p.quality !== 'good')
        reasons.set(
          `${p.quality}:${p.reason ?? p.kinds.join('+')}`,
          (reasons.get(`${p.quality}:${p.reason ?? p.kinds.join('+')}`) ?? 0) + 1,
        );
    console.log(
      `# not good: ${[...reasons].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}; server CPU for the relays alone ${(relayCpuPerSec * 100).toFixed(0)} % of a core (taken off)`,
    );
    if (!finished)
      console.log(
        `# sweep NOT finished within ${values['limit-minutes']} min: ${sweep.checked} of ${ids.length} checked`,
      );
    const what = `${sweep.checked} points (${sweep.good} good, ${sweep.faulty} faulty), ${relays} live 720p25 relays (copy) polled every second, concurrency ${concurrency} (one slot fewer per 8 relays), nice 19, simulator in a child process (shared clips, GOP 1 s), 2 cores; load ${loadBefore} → ${load()}`;
    console.log(
      `# CPU per point: diagnosis ffmpeg ${(ffmpegCpu / Math.max(1, sweep.checked)).toFixed(3)} s, server process ${(serverCpu / Math.max(1, sweep.checked)).toFixed(3)} s (relays' own server cost taken off)`,
    );
    console.log(
      `# sweep of ${sweep.checked} points took ${secs.toFixed(1)} s; ${polls} playlist polls (${pollErrors} failed to connect)`,
    );
    bench(
      'diagnosis.cpu_per_point',
      cpu / Math.max(1, sweep.checked),
      's',
      `server process + its diagnosis ffmpeg; ${what}`,
    );
    const sweep5000 = ((secs / Math.max(1, sweep.checked)) * 5000) / 60;
    bench(
      'diagnosis.sweep5000',
      sweep5000,
      'min',
      finished && sweep.checked >= 5000
        ? `measured (${secs.toFixed(0)} s for ${sweep.checked} points, scaled to 5,000); ${what}`
        : `EXTRAPOLATED linearly from ${sweep.checked} points to 5,000; ${what}`,
    );
    const gaps = total(phases.sweep);
    bench(
      'diagnosis.relay_gaps',
      gaps,
      'count',
      `${per(phases.sweep, 1)} over ${relays} relays during the ${(secs / 60).toFixed(1)}-minute sweep (each restart counted once), GOP 1 s`,
    );
    bench(
      'diagnosis.relay_gaps_alone',
      total(phases.alone),
      'count',
      `control: ${per(phases.alone, 1)} over the same relays playing alone for ${aloneSecs.toFixed(0)} s before the sweep, GOP 1 s`,
    );
    return { gaps, sweep5000, finished };
  } finally {
    await t.close();
    sim.proc.removeAllListeners('exit');
    sim.proc.kill('SIGTERM');
    await new Promise((r) => sim.proc.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The relay-gap control at another keyframe interval: `relays` relays of a simulator at `gop` s on a server of their
 * own (no sweep), polled alone for `seconds`.
 */
async function controlAt(gop: number, relays: number, seconds: number): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'ccc-bench-diag-'));
  const sim = await startSimChild(relays, path.join(work, 'clips'), gop, '127.0.122.1');
  const killChild = () => sim.proc.kill('SIGTERM');
  process.once('exit', killChild);
  const t = await startTestServer({
    cameras: 0,
    relay: true,
    overrides: { relay: { idleTimeoutSeconds: 3600, startTimeoutMs: 20_000 } },
  });
  try {
    const token = await t.login('county');
    const viewer = client(t.api, token);
    const urls = new Map<number, string>();
    for (const id of await registerCams(t, sim.cams, '对照')) {
      const s = await viewer.post(`/cameras/${id}/stream`, { quality: 'main' });
      if (s.status !== 200) throw new Error(`stream ${id} (GOP ${gop} s): ${s.status} ${s.text}`);
      urls.set(id, t.url + (s.json.playlistUrl as string));
    }
    const poll = pollRelays(urls, { headers: { authorization: `Bearer ${token}` } }, stallMsAt(gop));
    const started = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const secs = (performance.now() - started) / 1000;
    await poll.stop();
    bench(
      `diagnosis.relay_gaps_alone.gop${gop}s`,
      total(poll.phases.alone),
      'count',
      `control: ${per(poll.phases.alone, gop)} over ${urls.size} live 720p25 relays (copy) of a simulator at GOP ${gop} s playing alone for ${secs.toFixed(0)} s (no sweep), ${poll.polls} playlist polls (${poll.pollErrors} failed to connect); load ${load()}`,
    );
  } finally {
    await t.close();
    process.removeListener('exit', killChild);
    sim.proc.removeAllListeners('exit');
    sim.proc.kill('SIGTERM');
    await new Promise((r) => sim.proc.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

async function main() {
  let failed = false;
  if (!values['skip-accuracy']) {
    const acc = await accuracy(Number(values.replicas));
    if (acc < 0.95) {
      console.error('diagnosis.accuracy below the 95 % target');
      failed = true;
    }
  }
  const { gaps, sweep5000, finished } = await sweepWithRelays(
    Number(values.points),
    Number(values.relays),
    Number(values.concurrency),
  );
  // The control at a 4 s keyframe interval (the sweep's relays run at 1 s): informative, like the one at 1 s.
  await controlAt(4, Number(values.relays), Number(values['alone-seconds']));
  if (gaps > 0) {
    console.error('relays showed gaps during the sweep');
    failed = true;
  }
  if (!finished) {
    console.error(`the sweep did not finish within ${values['limit-minutes']} minutes`);
    failed = true;
  }
  if (sweep5000 > 30) {
    console.error('diagnosis.sweep5000 above the 30-minute target');
    failed = true;
  }
  process.exit(failed ? 1 : 0);
}

if (values['sim-child'])
  await simChild(Number(values['sim-child']), values['clip-dir']!, Number(values.gop), values['first-ip']);
else await main();
