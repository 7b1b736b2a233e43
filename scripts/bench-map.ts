/// <reference lib="dom" />
/**
 * The wall map's first render at scale, in headless Chromium (Debian's /usr/bin/chromium), issue 15:
 *   npm run bench:map
 *
 * For 50,000 and then 200,000 points seeded into a test server's SQLite file
 * (the demo county's villages, a county duty officer watching them all):
 *
 *   map.first_render50k / map.first_render200k (s) — from the navigation's
 *   start (performance.timeOrigin: the officer opens /wall/:id) to the first
 *   maplibre 'idle' event after the first points were handed to the map's
 *   source: the basemap, place names and the view's clusters all drawn.
 *   The page records that instant (`data-ready-at` on the map's canvas, ms on
 *   the page's clock); three page loads in fresh browser contexts, the median.
 *   The same instant counted from the map component's mount is printed beside.
 *
 * Each load prints its phases (feed request, the point worker's read and index, the index
 * reaching the map, points set, ready),
 * the points in the feed and the clusters drawn; the benchmark fails when no
 * cluster is drawn or the feed does not hold every seeded point. A first run
 * with 2,000 points prints the floor (what the page, the basemap and maplibre
 * cost whatever the number of points; MAP_BENCH_FLOOR=0 skips it).
 * MAP_BENCH_SIZES (e.g. "50000") and MAP_BENCH_LOADS change what runs, MAP_BENCH_CLIENT
 * measures another build directory than client/dist, MAP_BENCH_COMPARE
 * runs another build's page beside this one's (see below);
 * MAP_BENCH_PROFILE=1 prints the page's main-thread profile, MAP_BENCH_TIMELINE=1
 * its requests, MAP_BENCH_TRACE=<dir> writes a Chromium performance trace of
 * each load there (every thread of the page, workers included: open it in
 * DevTools' Performance panel). Everything on loopback.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createSecretBox } from '../server/src/crypto/secret-box.ts';
import { DEMO_PASSWORD, demoCameraFields } from '../server/src/demo/seed.ts';
import { client, startTestServer } from '../tests/helpers/server.ts';
import { CHROMIUM_ARGS, pictureAgrees } from '../tests/browser/harness.ts';
import { claimLoopbackBlock } from './sim/addresses.ts';

const SIZES = (process.env['MAP_BENCH_SIZES'] ?? '50000,200000').split(',').map(Number);
const LOADS = Number(process.env['MAP_BENCH_LOADS'] ?? 3);
const FLOOR = process.env['MAP_BENCH_FLOOR'] !== '0';
/** The build whose page is measured: client/dist, or MAP_BENCH_CLIENT (a copy no other `build:client` replaces mid-run). */
const CLIENT_DIR = path.resolve(process.env['MAP_BENCH_CLIENT'] ?? path.join(import.meta.dirname, '../client/dist'));
/**
 * MAP_BENCH_COMPARE=<another client build's dist>: every load is run with that build too, in turn on the same
 * server and data, so the two are compared under the same machine load (printed as notes; the BENCH lines are
 * this build's). E.g. an earlier commit's `vite build` output.
 */
const COMPARE = process.env['MAP_BENCH_COMPARE'];
/** MAP_BENCH_QUIET=0: navigate as soon as the context is open (Chromium's own start for the window included). */
const QUIET = process.env['MAP_BENCH_QUIET'] !== '0';

const note = (text: string) => console.log(`# ${text}`);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const name = (n: number) => (n % 1000 === 0 ? `${n / 1000}k` : String(n));

/**
 * MAP_BENCH_GL=1: counts, in the page, the programs WebGL linked and the distinct pipeline states drawn with
 * (program, blending, depth test and mask, stencil test, primitive) up to the first render. A software GL
 * (SwiftShader here) compiles each such state on its first draw, tens of ms each.
 */
function countGlStates(): void {
  const states = new Set<string>();
  let programs = 0;
  let draws = 0;
  const ids = new WeakMap<object, number>();
  let next = 0;
  for (const C of [WebGLRenderingContext, WebGL2RenderingContext]) {
    const proto = C.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const link = proto['linkProgram']!;
    proto['linkProgram'] = function (this: WebGLRenderingContext, ...a: unknown[]) {
      programs++;
      return link.apply(this, a);
    };
    for (const name of ['drawElements', 'drawArrays']) {
      const draw = proto[name]!;
      proto[name] = function (this: WebGLRenderingContext, ...a: unknown[]) {
        draws++;
        const p = this.getParameter(this.CURRENT_PROGRAM) as object | null;
        if (p && !ids.has(p)) ids.set(p, next++);
        const key = [
          p ? ids.get(p) : 'none',
          this.isEnabled(this.BLEND),
          this.isEnabled(this.DEPTH_TEST),
          this.getParameter(this.DEPTH_WRITEMASK),
          this.isEnabled(this.STENCIL_TEST),
          a[0],
        ].join('/');
        states.add(key);
        return draw.apply(this, a);
      };
    }
  }
  (window as unknown as { __glStates: () => string }).__glStates = () =>
    `${programs} programs linked, ${states.size} pipeline states, ${draws} draws`;
}

/** Busy and total jiffies of every CPU (/proc/stat). */
function cpuTimes(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  // idle and iowait
  return { busy: total - fields[3]! - (fields[4] ?? 0), total };
}

/**
 * Waits until the machine's CPUs are less than 25 % busy over 250 ms (at most 10 s); returns how long it
 * waited and the last busy share.
 */
async function quietCpu(): Promise<{ ms: number; busy: number }> {
  const start = performance.now();
  let busy = 1;
  while (performance.now() - start < 10_000) {
    const a = cpuTimes();
    await new Promise((r) => setTimeout(r, 250));
    const b = cpuTimes();
    busy = (b.busy - a.busy) / Math.max(1, b.total - a.total);
    if (busy < 0.25) break;
  }
  return { ms: performance.now() - start, busy };
}

async function firstRender(browser: Browser, points: number): Promise<{ first: number; interactive: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ccc-map-bench-'));
  const block = await claimLoopbackBlock();
  // The server serves the build through a link, which MAP_BENCH_COMPARE turns to the other build between loads.
  const served = path.join(dir, 'client');
  const serve = (build: string) => {
    rmSync(served, { force: true });
    symlinkSync(build, served);
  };
  serve(CLIENT_DIR);
  const t = await startTestServer({ cameras: 0, clientDir: served, sqlitePath: path.join(dir, 'map.sqlite') });
  try {
    const { orgs, cameras } = t.server.app.repos;
    const villages = orgs.all().filter((u) => u.level === 'village');
    const t0 = performance.now();
    cameras.insertMany(
      demoCameraFields(villages, points, 42, createSecretBox(randomBytes(32)), 0, (i) => block.host(1 + (i % 250))),
    );
    note(`${points} points seeded into SQLite in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const officer = client(t.api, await t.login('county'));
    const feedSources = async () => {
      const values = (await t.server.app.metrics.pointFeeds.get()).values;
      const of = (source: string) => values.find((v) => v.labels['source'] === source)?.value ?? 0;
      return { cache: of('cache'), read: of('read') };
    };
    const screen = (await officer.post('/walls', { name: 'map bench' })).json as { id: number };
    const times: number[] = [];
    /** The same instant from the map component's mount (the page's own start, session and configuration left out). */
    const fromMount: number[] = [];
    const compared: number[] = [];
    /** maplibre's own first frame with the points (the map answers the officer's hand from then on). */
    const interactive: number[] = [];
    const builds = COMPARE ? [CLIENT_DIR, COMPARE] : [CLIENT_DIR];
    for (let k = 0; k < LOADS * builds.length; k++) {
      // In turn, starting with each build as often as the other.
      const build = builds[(k + Math.floor(k / 2)) % builds.length]!;
      const other = build !== CLIENT_DIR;
      const i = Math.floor(k / builds.length);
      serve(build);
      const context = await browser.newContext({
        baseURL: t.url,
        viewport: { width: 1600, height: 900 },
        locale: 'zh-CN',
      });
      const login = await context.request.post('/api/v1/auth/login', {
        data: { username: 'county', password: DEMO_PASSWORD },
      });
      if (!login.ok()) throw new Error(`login: ${login.status()}`);
      const page = await context.newPage();
      // A new context opens a new browser window, and Chromium loads its own pages for it (a trace showed the
      // omnibox popup's WebUI renderer busy for ~1.3 s of the first 1.35 s, on this 2-core machine). A wall
      // PC's browser is open already: the load starts once the machine is quiet again, as page-load tools do.
      const quiet = QUIET ? await quietCpu() : { ms: 0, busy: NaN };
      const feedsBefore = await feedSources();
      if (process.env['MAP_BENCH_GL']) await page.addInitScript(countGlStates);
      const cdp = process.env['MAP_BENCH_PROFILE'] ? await context.newCDPSession(page) : null;
      if (cdp) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
        await cdp.send('Profiler.start');
      }
      const trace = process.env['MAP_BENCH_TRACE'];
      if (trace)
        await browser.startTracing(page, {
          path: path.join(trace, `map-${name(points)}-${i + 1}${other ? '-compared' : ''}.json`),
        });
      // What the page said, printed when it never gets ready.
      const said: string[] = [];
      page.on('console', (m) => said.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => said.push(`error: ${e.message}`));
      await page.goto(`/wall/${screen.id}`);
      const canvas = page.locator('.wall-map__canvas');
      await page
        .waitForFunction(
          () => document.querySelector<HTMLElement>('.wall-map__canvas')?.dataset['mapState'] === 'ready',
          undefined,
          { timeout: 60_000 },
        )
        .catch(async (err: unknown) => {
          const text = await page
            .evaluate(() => {
              const c = document.querySelector<HTMLElement>('.wall-map__canvas');
              const marks = performance
                .getEntriesByType('mark')
                .map((m) => `${m.name}@${Math.round(m.startTime)}`)
                .join(' ');
              return `map ${c ? JSON.stringify({ ...c.dataset }) : 'absent'}; marks ${marks}`;
            })
            .catch(() => '?');
          note(`the map never got ready; the page says: ${JSON.stringify(text)}; its console: ${said.join(' | ')}`);
          throw err;
        });
      if (trace) await browser.stopTracing();
      const readyAt = Number(await canvas.getAttribute('data-ready-at'));
      const mountAt = await page.evaluate(() => performance.getEntriesByName('wall-map:mount')[0]?.startTime ?? NaN);
      const inFeed = Number(await canvas.getAttribute('data-points'));
      const pictureAt = Number((await canvas.getAttribute('data-picture-at')) ?? NaN);
      const feedsAfter = await feedSources();
      // Where the server took this load's feed: read from the database, or the kept one (server/src/wall/feed-cache.ts).
      const feedFrom =
        feedsAfter.read > feedsBefore.read ? 'read' : feedsAfter.cache > feedsBefore.cache ? 'kept' : '?';
      const drawn = await canvas.evaluate((el) => {
        type Rendered = { properties: Record<string, unknown> };
        const map = (el as unknown as { wallMap: { queryRenderedFeatures(o: object): Rendered[] } }).wallMap;
        const clusters = map.queryRenderedFeatures({ layers: ['wall-clusters'] });
        const ids = new Set(clusters.map((f) => Number(f.properties['cluster_id'])));
        const singles = map.queryRenderedFeatures({ layers: ['wall-points'] }).length;
        return { clusters: ids.size, singles };
      });
      // The first picture (client/src/map/firstPicture.ts) must have shown the map's own clusters, where the
      // map drew them: else its instant is not a first render.
      const picture = Number.isFinite(pictureAt) ? await pictureAgrees(page) : null;
      if (picture && !picture.ok)
        throw new Error(`${name(points)}: the first picture differs from the map: ${picture.why}`);
      const phases = await page.evaluate(() => {
        const at = (n: string) => Math.round(performance.getEntriesByName(n)[0]?.startTime ?? NaN);
        const span = (n: string) => {
          const m = performance.getEntriesByName(n)[0];
          return m ? `${Math.round(m.startTime)}→${Math.round(m.startTime + m.duration)}` : '-';
        };
        const feed = performance.getEntriesByType('resource').find((e) => e.name.includes('/walls/points.bin')) as
          PerformanceResourceTiming | undefined;
        // point-feed:*: the point worker reading the feed's body and indexing it (client/src/map/pointLoader.ts).
        return `feed ${Math.round(feed?.requestStart ?? NaN)}→${Math.round(feed?.responseEnd ?? NaN)} ms (${((feed?.encodedBodySize ?? 0) / 1e6).toFixed(2)} MB), worker read ${span('point-feed:read')} ms, worker index ${span('point-feed:index')} ms, map mounted ${at('wall-map:mount')} ms, map style ${at('wall-map:loaded')} ms, index in the map ${at('wall-map:indexed')} ms, points set ${at('wall-map:points-set')} ms, clusters first drawn ${at('wall-map:clusters-drawn')} ms, basemap drawn ${at('wall-map:basemap')} ms`;
      });
      if (process.env['MAP_BENCH_TIMELINE']) {
        const timeline = await page.evaluate(() =>
          performance.getEntriesByType('resource').map((e) => {
            const r = e as PerformanceResourceTiming;
            return `${Math.round(r.startTime)}→${Math.round(r.responseEnd)} ${r.name.replace(location.origin, '')}`;
          }),
        );
        for (const line of timeline) note(`  ${line}`);
      }
      note(
        `${name(points)} load ${i + 1}${other ? ' (compared build)' : ''}: ${phases} (${feedFrom}), first picture ${picture ? `${pictureAt} ms (${picture.clusters} clusters, each within ${picture.maxOffset.toFixed(2)} px of the map's)` : 'none'}, map ready ${readyAt} ms; started after ${(quiet.ms / 1000).toFixed(1)} s for the CPUs to be quiet (${Math.round(quiet.busy * 100)} % busy); feed ${inFeed} points, ${drawn.clusters} clusters and ${drawn.singles} single points drawn; load average ${load()}`,
      );
      if (process.env['MAP_BENCH_GL'])
        note(`  WebGL: ${await page.evaluate(() => (window as unknown as { __glStates: () => string }).__glStates())}`);
      if (cdp) {
        // The page's main thread by function, self time (MAP_BENCH_PROFILE=1).
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
        for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20))
          note(`  ${(us / 1000).toFixed(0)} ms ${k}`);
      }
      if (drawn.clusters === 0) throw new Error(`${name(points)}: the map drew no clusters`);
      if (inFeed !== points) throw new Error(`${name(points)}: the feed held ${inFeed} of ${points} points`);
      await context.close();
      // The first render is the earlier of the two frames with the view's clusters: the picture's or the map's.
      const first = Math.min(readyAt, picture ? pictureAt : Infinity);
      if (other) {
        compared.push(first / 1000);
        continue;
      }
      times.push(first / 1000);
      interactive.push(readyAt / 1000);
      fromMount.push((first - mountAt) / 1000);
    }
    const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const median = medianOf(times);
    if (COMPARE)
      note(
        `${name(points)} compared build ${COMPARE}: first render (s) ${compared.map((x) => x.toFixed(3)).join(' ')}, median ${medianOf(compared).toFixed(3)} (this build: ${median.toFixed(3)})`,
      );
    note(`${name(points)} first render (s), ${LOADS} loads: ${times.map((x) => x.toFixed(3)).join(' ')}`);
    note(`${name(points)} the map's own frame (s): ${interactive.map((x) => x.toFixed(3)).join(' ')}`);
    note(
      `${name(points)} from the map's mount (s): ${fromMount.map((x) => x.toFixed(3)).join(' ')} (the page's start, session and map configuration before it)`,
    );
    return { first: median, interactive: medianOf(interactive) };
  } finally {
    await t.close();
    await block.release();
    rmSync(dir, { recursive: true, force: true });
  }
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  note(
    `wall map first render, viewport 1600×900, ${LOADS} loads a size, median; 2 cores shared; load average ${load()}`,
  );
  // The floor: the same page with 2,000 points, what the page and maplibre cost whatever the county's size.
  if (FLOOR) {
    const floor = await firstRender(browser, 2000);
    note(
      `floor: first render with 2000 points ${floor.first.toFixed(3)} s (the map's own frame ${floor.interactive.toFixed(3)} s)`,
    );
  }
  for (const n of SIZES) {
    const s = await firstRender(browser, n);
    console.log(`BENCH map.first_render${name(n)} ${s.first.toFixed(3)} s`);
    console.log(`BENCH map.interactive${name(n)} ${s.interactive.toFixed(3)} s`);
  }
} finally {
  await browser.close();
}
