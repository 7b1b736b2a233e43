/**
 * Shared set-up for the browser tests: Debian's Chromium driven by
 * playwright-core against the real server (in-process, port 0) serving the
 * built client from client/dist.
 *
 * One browser per test file, one context per test. Every context records the
 * requests its pages make, so a test can assert that nothing left the platform.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { readClockBand } from '../../scripts/sim/wallclock.ts';
import type { AlertView } from '../../server/src/api/contract.ts';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const CLIENT_DIR = path.resolve('client/dist');
export const ARTIFACTS = path.resolve('artifacts/browser');

/** The flags every headless run uses (the brief's list); benchmarks add autoplay. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether this file's tests should be skipped: only when Chromium is absent and
 * services are not required. With REQUIRE_SERVICES=1 (CI) the absence makes
 * `startBrowserHarness` throw instead, so the tests fail.
 */
export function skipWithoutChromium(file: string): boolean {
  if (existsSync(CHROMIUM)) return false;
  if (process.env['REQUIRE_SERVICES'] === '1') return false;
  console.warn(
    `${file}: skipped, ${CHROMIUM} is absent (install Debian's chromium; REQUIRE_SERVICES=1 makes this fail)`,
  );
  return true;
}

export interface TracedPage {
  context: BrowserContext;
  page: Page;
  /** Every URL a page of this context requested, in order. */
  requests: string[];
  /** Uncaught exceptions in the page: each test expects none. */
  errors: string[];
}

export interface BrowserHarness {
  server: TestServer;
  browser: Browser;
  /** A fresh context (own cookies and storage) with one page, request recording on. */
  open(): Promise<TracedPage>;
  /** Signs in through the login form and waits for the registry table to have rows. */
  login(page: Page, username: string): Promise<void>;
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

/** Server options on top of the default (60 demo points, the built client), e.g. `{ relay: true }` for live video. */
export type BrowserServerOptions = Omit<NonNullable<Parameters<typeof startTestServer>[0]>, 'clientDir'>;

export async function startBrowserHarness(serverOptions: BrowserServerOptions = {}): Promise<BrowserHarness> {
  if (!existsSync(path.join(CLIENT_DIR, 'index.html'))) {
    throw new Error(
      `${CLIENT_DIR}/index.html is missing: build the client first (npm run build -w client; npm test does it)`,
    );
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is absent and REQUIRE_SERVICES=1: browser tests cannot run`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const server = await startTestServer({ cameras: 60, ...serverOptions, clientDir: CLIENT_DIR });
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (err) {
    await server.close();
    throw err;
  }
  const contexts = new Set<BrowserContext>();

  return {
    server,
    browser,
    async open() {
      const context = await browser.newContext({
        baseURL: server.url,
        viewport: { width: 1600, height: 900 },
        locale: 'zh-CN',
        timezoneId: 'Asia/Shanghai',
      });
      contexts.add(context);
      context.on('close', () => contexts.delete(context));
      const requests: string[] = [];
      const errors: string[] = [];
      context.on('request', (r) => requests.push(r.url()));
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      page.setDefaultTimeout(10_000);
      return { context, page, requests, errors };
    },
    async login(page, username) {
      await signIn(page, username);
      // Leaders land on the dashboard (issue 17); every other role on the registry.
      if (!page.url().includes('/registry')) await page.goto('/registry');
      await page.locator('.data-table--cameras tbody tr').first().waitFor();
    },
    async screenshot(page, name) {
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await server.close();
    },
  };
}

/** URLs that did not go to the test server (data: and blob: URLs stay inside the page). */
export function offOrigin(requests: readonly string[], origin: string): string[] {
  return requests.filter((url) => {
    if (url.startsWith('data:') || url.startsWith('blob:')) return false;
    return new URL(url).origin !== origin;
  });
}

/** A device posts an alert with its key (POST /alerts/ingest); the alert must be stored as new (201). */
export async function ingestAlert(server: TestServer, key: string, body: unknown): Promise<AlertView> {
  const res = await fetch(`${server.api}/alerts/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-device-key': key },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as AlertView;
  if (res.status !== 201) throw new Error(`alert ingest answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Signs in through the login form and waits for the top bar (the page a role lands on, whichever it is). */
export async function signIn(page: Page, username: string): Promise<void> {
  await page.goto('/');
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(DEMO_PASSWORD);
  await page.locator('form.login__card button[type=submit]').click();
  await page.locator('header.topbar').waitFor();
}

/** Chromium for tests that play video: the headless flags plus autoplay without a gesture. */
export function launchPlayingChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
  });
}

/** A fresh context on `baseURL` (zh-CN, 1400×900) with one page whose uncaught exceptions are collected. */
export async function openPage(
  browser: Browser,
  baseURL: string,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1400, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

export { startPlaybackSimulator } from '../helpers/sim.ts';

/** Waits until the <video> of `selector` has a picture and its position has passed `minSec`. */
export async function waitForPosition(page: Page, selector: string, minSec: number, timeout = 20_000): Promise<void> {
  await page.waitForFunction(
    ({ sel, min }) => {
      const v = document.querySelector<HTMLVideoElement>(sel);
      return !!v && v.currentTime > min && v.readyState >= 2;
    },
    { sel: selector, min: minSec },
    { timeout },
  );
}

/**
 * The recorded time the simulator burnt into the picture a <video> shows now (its clock band, read from a
 * canvas), with the video's position; undefined when no band can be read. `nearMs` settles the date.
 */
export async function readVideoClock(
  page: Page,
  selector: string,
  nearMs: number,
): Promise<{ ms: number; text: string; position: number } | undefined> {
  // A picture to read: right after a seek the element may hold none yet (videoWidth 0), though its position moved.
  await page.waitForFunction(
    (sel) => {
      const v = document.querySelector<HTMLVideoElement>(sel);
      return !!v && v.videoWidth > 0 && v.readyState >= 2;
    },
    selector,
    { timeout: 15_000 },
  );
  const frame = await page.evaluate((sel) => {
    const v = document.querySelector<HTMLVideoElement>(sel)!;
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true })!;
    g.drawImage(v, 0, 0);
    const rgba = g.getImageData(0, 0, c.width, c.height).data;
    const luma: number[] = [];
    for (let i = 0; i < rgba.length; i += 4) luma.push(rgba[i + 1]!);
    return { w: c.width, h: c.height, luma, position: v.currentTime };
  }, selector);
  const band = readClockBand(Uint8Array.from(frame.luma), frame.w, frame.h, frame.w, nearMs);
  return band && { ms: band.wallClockMs, text: band.text, position: frame.position };
}

/**
 * Whether the wall map's first picture (client/src/map/firstPicture.ts) showed the map's own clusters: as
 * many as maplibre drew, each within a pixel of where maplibre projects a cluster of the same count. Read
 * once the map is ready (the benchmark and tests/browser/wall.test.ts).
 */
export async function pictureAgrees(
  page: Page,
): Promise<{ ok: boolean; why: string; clusters: number; maxOffset: number }> {
  return page.locator('.wall-map__canvas').evaluate((el) => {
    type Rendered = { properties: Record<string, unknown>; geometry: { coordinates: [number, number] } };
    const host = el as unknown as {
      wallMap: { queryRenderedFeatures(o: object): Rendered[]; project(c: [number, number]): { x: number; y: number } };
      wallPicture?: { clusters: { x: number; y: number; count: number }[] };
    };
    const map = host.wallMap;
    const seen = new Map<number, Rendered>();
    for (const f of map.queryRenderedFeatures({ layers: ['wall-clusters'] }))
      seen.set(Number(f.properties['cluster_id']), f);
    const mapped = [...seen.values()].map((f) => ({
      ...map.project(f.geometry.coordinates),
      count: Number(f.properties['point_count']),
    }));
    const drawn = host.wallPicture?.clusters ?? [];
    let maxOffset = 0;
    for (const c of drawn) {
      const near = mapped
        .filter((m) => m.count === c.count)
        .map((m) => Math.hypot(m.x - c.x, m.y - c.y))
        .sort((a, b) => a - b)[0];
      if (near === undefined)
        return { ok: false, why: `no map cluster of ${c.count}`, clusters: drawn.length, maxOffset };
      maxOffset = Math.max(maxOffset, near);
    }
    const ok = drawn.length > 0 && drawn.length === mapped.length && maxOffset <= 1;
    const why = `${drawn.length} clusters drawn, the map ${mapped.length}; largest offset ${maxOffset.toFixed(2)} px`;
    return { ok, why, clusters: drawn.length, maxOffset };
  });
}
