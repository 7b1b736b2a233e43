/// <reference lib="dom" />
/**
 * Video wall benchmark in headless Chromium (Debian's /usr/bin/chromium):
 *   npm run bench:wall
 * 1. The map with 50,000 points: from navigation to the first 'idle' render
 *    with clusters (three page loads, the median).
 * 2. 16 tiles for WALL_BENCH_MINUTES (default 10) in one browser: playback
 *    progress per tile as a share of wall time (the worst tile), stalls (a
 *    tile whose picture advanced less than half the time that passed, counted
 *    once per episode) and the worst tile's seconds stalled. A sample credits
 *    at most the time that really passed since the last one (issue 12: with a
 *    1.5 s credit per 1 s sample, the catch-up after a stall repaid it and the
 *    figure hid the stall). WALL_BENCH_ONLY=map or =tiles runs one part.
 * 3. A 4-tile tour over 16 cameras switching every 10 s for
 *    WALL_BENCH_TOUR_MINUTES (default 60): growth of the page's JS heap after
 *    a forced GC, from the end of the first minute to the end.
 * Parts 2 and 3 run at each of the cameras' keyframe intervals (GOP) in
 * WALL_BENCH_GOP, a list, default `1,4` (1 s and 4 s; real cameras use 2–4 s),
 * each with a fresh simulator and server, their figures named `.gop1s` /
 * `.gop4s` (`wall.stalls.gop4s`) as bench:relay's are. The default run thus
 * takes about 2 × (10 + 60) minutes plus the map, nearly two and a half hours;
 * WALL_BENCH_GOP=4 runs one interval.
 * Real server, real relay (ffmpeg), the camera simulator; all on loopback.
 * WALL_BENCH_ONLY=map measures the map alone; WALL_BENCH_PROFILE=1 adds the page's
 * main-thread CPU profile of each map load (top functions by self time).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { WallLayout } from '../server/src/api/contract.ts';
import { createSecretBox } from '../server/src/crypto/secret-box.ts';
import { DEMO_PASSWORD, demoCameraFields } from '../server/src/demo/seed.ts';
import { client, registerSimCamera, startTestServer, type TestServer } from '../tests/helpers/server.ts';
import { claimLoopbackBlock } from './sim/addresses.ts';
import { defaultCameraSpecs, startSimulator } from './sim/index.ts';
import { CHROMIUM_ARGS } from '../tests/browser/harness.ts';

const TILE_MINUTES = Number(process.env['WALL_BENCH_MINUTES'] ?? 10);
const TOUR_MINUTES = Number(process.env['WALL_BENCH_TOUR_MINUTES'] ?? 60);
const MAP_POINTS = Number(process.env['WALL_BENCH_POINTS'] ?? 50_000);
const GOPS = (process.env['WALL_BENCH_GOP'] ?? '1,4').split(',').map(Number);
const CLIENT_DIR = path.resolve(import.meta.dirname, '../client/dist');
const ARGS = [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'];

const bench = (name: string, value: number, unit: string, digits: number, what: string) =>
  console.log(`BENCH ${name} ${value.toFixed(digits)} ${unit}  # ${what}`);
const note = (text: string) => console.log(`# ${text}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function signedIn(browser: Browser, t: TestServer, username: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: t.url, viewport: { width: 1600, height: 900 }, locale: 'zh-CN' });
  const r = await context.request.post('/api/v1/auth/login', { data: { username, password: DEMO_PASSWORD } });
  if (!r.ok()) throw new Error(`login ${username}: ${r.status()}`);
  return context;
}

async function screenWith(t: TestServer, layout: WallLayout): Promise<number> {
  const county = client(t.api, await t.login('county'));
  const s = await county.post('/walls', { name: 'bench', layout });
  if (s.status !== 201) throw new Error(`screen: ${s.status} ${s.text}`);
  return s.json.id as number;
}

// ---------------------------------------------------------------- 1. map with 50,000 points

async function mapFirstRender(browser: Browser): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ccc-wall-bench-db-'));
  const t = await startTestServer({ cameras: 0, clientDir: CLIENT_DIR, sqlitePath: path.join(dir, 'wall.sqlite') });
  try {
    const { orgs, cameras } = t.server.app.repos;
    // The seeded demo county's villages take the 50,000 points; its duty officer watches them.
    const villages = orgs.all().filter((u) => u.level === 'village');
    cameras.insertMany(demoCameraFields(villages, MAP_POINTS, 42, createSecretBox(randomBytes(32))));
    const officer = client(t.api, await t.login('county'));
    const screen = await officer.post('/walls', { name: 'map bench' });
    const points = (await officer.get('/walls/points')).json.points.length as number;
    note(`map: ${points} points in the officer's jurisdiction`);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const context = await signedIn(browser, t, 'county');
      const page = await context.newPage();
      const cdp = process.env['WALL_BENCH_PROFILE'] ? await context.newCDPSession(page) : null;
      if (cdp) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
        await cdp.send('Profiler.start');
      }
      await page.goto(`/wall/${screen.json.id}`);
      const canvas = page.locator('.wall-map__canvas');
      await canvas.waitFor();
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('.wall-map__canvas')?.dataset['mapState'] === 'ready',
        undefined,
        { timeout: 60_000 },
      );
      const readyAt = Number(await canvas.getAttribute('data-ready-at'));
      const phases = await page.evaluate(() => {
        const at = (name: string) => performance.getEntriesByName(name)[0]?.startTime;
        const res = (part: string) =>
          performance.getEntriesByType('resource').find((e) => e.name.includes(part)) as
            PerformanceResourceTiming | undefined;
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
        const r = (x: number | undefined) => (x === undefined ? '-' : Math.round(x));
        return `map style ${r(at('wall-map:loaded'))}, dom ${r(nav?.domContentLoadedEventEnd)} points ${r(res('/walls/points')?.startTime)}→${r(res('/walls/points')?.responseEnd)} geojson ${r(res('points.geojson')?.startTime)}→${r(res('points.geojson')?.responseEnd)} basemap ${r(res('basemap')?.startTime)}→${r(res('basemap')?.responseEnd)} set ${r(at('wall-map:points-start'))}→${r(at('wall-map:points-set'))}`;
      });
      note(`map load ${i + 1}: ${phases}, ready ${readyAt} ms`);
      if (cdp) {
        const { profile } = (await cdp.send('Profiler.stop')) as unknown as {
          profile: {
            nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
            samples: number[];
            timeDeltas: number[];
          };
        };
        const self = new Map<string, number>();
        const byId = new Map(profile.nodes.map((n) => [n.id, n]));
        profile.samples.forEach((id, k) => {
          const n = byId.get(id)!;
          const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`;
          self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[k] ?? 0));
        });
        for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25))
          note(`  ${(us / 1000).toFixed(0)} ms ${k}`);
      }
      const clusters = await canvas.evaluate(
        (el) =>
          (el as unknown as { wallMap: { queryRenderedFeatures(o: object): unknown[] } }).wallMap.queryRenderedFeatures(
            {
              layers: ['wall-clusters'],
            },
          ).length,
      );
      if (clusters === 0) throw new Error('the map drew no clusters');
      times.push(readyAt / 1000);
      await context.close();
    }
    note(`map first render (s), three loads: ${times.map((x) => x.toFixed(3)).join(' ')}`);
    bench(
      'map.first_render50k',
      [...times].sort((a, b) => a - b)[1]!,
      's',
      3,
      `median of ${times.length} page loads, ${points} points in the officer's jurisdiction`,
    );
  } finally {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- 2 and 3: live tiles and tours

/** Installed in the page: samples every front video once a second. */
const SAMPLER = () => {
  const w = window as unknown as {
    __bench: {
      progress: number[];
      stalls: number;
      last: number[];
      stalled: boolean[];
      stalledSec: number[];
      samples: number;
      at: number;
    };
  };
  const videos = () =>
    [...document.querySelectorAll<HTMLElement>('.wall-tile')].map((t) =>
      t.querySelector<HTMLVideoElement>('.wall-layer--front video'),
    );
  const n = videos().length;
  w.__bench = {
    progress: Array.from({ length: n }, () => 0),
    stalls: 0,
    last: videos().map((v) => v?.currentTime ?? 0),
    stalled: Array.from({ length: n }, () => false),
    stalledSec: Array.from({ length: n }, () => 0),
    samples: 0,
    at: performance.now(),
  };
  window.setInterval(() => {
    const b = w.__bench;
    b.samples++;
    const now = performance.now();
    // The time that really passed (a busy page runs this late): no sample credits more than that.
    const elapsed = (now - b.at) / 1000;
    b.at = now;
    videos().forEach((v, i) => {
      const t = v?.currentTime ?? 0;
      const delta = t - b.last[i]!;
      b.last[i] = t;
      // A rebuilt player starts a new clock: count only forward motion, never more than real time, so a
      // catch-up after a stall cannot repay it.
      if (delta > 0) b.progress[i]! += Math.min(delta, elapsed);
      const stalled = !(delta > 0.5 * elapsed);
      if (stalled && !b.stalled[i]) b.stalls++;
      if (stalled) b.stalledSec[i]! += elapsed;
      b.stalled[i] = stalled;
    });
  }, 1000);
};

async function waitAllLive(page: Page, tiles: number, timeoutMs: number): Promise<void> {
  await page.waitForFunction(
    (n) =>
      [...document.querySelectorAll('.wall-tile .wall-layer--front .live-tile')].filter(
        (e) => (e as HTMLElement).dataset['state'] === 'live',
      ).length >= n,
    tiles,
    { timeout: timeoutMs, polling: 500 },
  );
}

async function liveTiles(browser: Browser, t: TestServer, ids: number[], gop: number): Promise<void> {
  const screen = await screenWith(t, { grid: '16', tiles: ids.slice(0, 16), tour: null });
  const context = await signedIn(browser, t, 'county');
  const page = await context.newPage();
  await page.goto(`/wall/${screen}`);
  await waitAllLive(page, 16, 120_000);
  await page.evaluate(SAMPLER);
  const t0 = Date.now();
  await sleep(TILE_MINUTES * 60_000);
  const wallSec = (Date.now() - t0) / 1000;
  const b = await page.evaluate(
    () =>
      (
        window as unknown as {
          __bench: { progress: number[]; stalls: number; samples: number; stalledSec: number[] };
        }
      ).__bench,
  );
  const pct = b.progress.map((p) => (p / wallSec) * 100);
  note(
    `16 tiles for ${wallSec.toFixed(0)} s, GOP ${gop} s, ${b.samples} samples: progress per tile (%) ${pct.map((p) => p.toFixed(1)).join(' ')}; stalled s per tile ${b.stalledSec.map((x) => x.toFixed(0)).join(' ')}`,
  );
  const what = `${pct.length} tiles for ${wallSec.toFixed(0)} s, ${b.samples} samples, GOP ${gop} s`;
  bench(`wall.tile_progress.min.gop${gop}s`, Math.min(...pct), '%', 1, what);
  bench(`wall.stalls.gop${gop}s`, b.stalls, 'count', 0, what);
  bench(`wall.stall_seconds.max.gop${gop}s`, Math.max(...b.stalledSec), 's', 1, what);
  await context.close();
}

async function tourMemory(browser: Browser, t: TestServer, ids: number[], gop: number): Promise<void> {
  const screen = await screenWith(t, { grid: '4', tiles: ids.slice(0, 4), tour: { cameraIds: ids, intervalSec: 10 } });
  const context = await signedIn(browser, t, 'county');
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.enable');
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    const dom = await cdp.send('Memory.getDOMCounters');
    return { used: usedSize, nodes: dom.nodes, listeners: dom.jsEventListeners };
  };
  await page.goto(`/wall/${screen}`);
  await waitAllLive(page, 4, 120_000);
  // The first minute loads code, players and map tiles: growth is measured from there.
  await sleep(60_000);
  const base = await heap();
  const end = Date.now() + Math.max(0, TOUR_MINUTES - 1) * 60_000;
  while (Date.now() < end) await sleep(Math.min(60_000, end - Date.now()));
  const last = await heap();
  const group = await page.locator('.wall').getAttribute('data-tour-group');
  note(
    `tour ${TOUR_MINUTES} min (10 s interval, 4 groups; now group ${group}), GOP ${gop} s: JS heap ${(base.used / 1e6).toFixed(1)} → ${(last.used / 1e6).toFixed(1)} MB, DOM nodes ${base.nodes} → ${last.nodes}, listeners ${base.listeners} → ${last.listeners}`,
  );
  bench(
    `wall.memory_growth.gop${gop}s`,
    ((last.used - base.used) / base.used) * 100,
    '%',
    1,
    `JS heap after GC over a ${TOUR_MINUTES}-minute tour of ${ids.length} cameras on 4 tiles, from its first minute; GOP ${gop} s`,
  );
  await context.close();
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
try {
  note(
    `durations: tiles ${TILE_MINUTES} min, tour ${TOUR_MINUTES} min, map ${MAP_POINTS} points; cameras' GOP ${GOPS.join(' and ')} s`,
  );
  const only = process.env['WALL_BENCH_ONLY'];
  if (only !== 'tiles') await mapFirstRender(browser);
  if (only === 'map') process.exit(0);

  const block = await claimLoopbackBlock();
  for (const gop of GOPS) {
    const clipDir = mkdtempSync(path.join(tmpdir(), 'ccc-wall-bench-clips-'));
    const sim = await startSimulator({
      cameras: defaultCameraSpecs(16, { firstIp: block.host(1), seed: 98 }).map((s) => ({
        ...s,
        clockOffsetSec: 0,
        faults: {},
      })),
      clipDir,
      discovery: false,
      clipMode: 'shared',
      onvifPort: 0,
      rtspPort: 0,
      keyframeIntervalSec: gop,
      streamOverrides: { sub: { width: 320, height: 180, fps: 15 } },
    });
    const t = await startTestServer({ cameras: 0, relay: true, clientDir: CLIENT_DIR });
    try {
      const tech = client(t.api, await t.login('tech'));
      const village = ((await tech.get('/org-units')).json as { id: number; level: string }[]).find(
        (o) => o.level === 'village',
      )!.id;
      const ids: number[] = [];
      for (const [i, c] of sim.cameras.entries()) {
        ids.push(
          await registerSimCamera(tech, c, {
            name: `墙基准${i + 1}`,
            orgUnitId: village,
            position: { lon: 118.8 + i * 0.001, lat: 30.95 },
            onvifUrl: null,
          }),
        );
      }
      await liveTiles(browser, t, ids, gop);
      if (only !== 'tiles') await tourMemory(browser, t, ids, gop);
    } finally {
      await t.close();
      await sim.stop();
      rmSync(clipDir, { recursive: true, force: true });
    }
  }
} finally {
  await browser.close();
}
