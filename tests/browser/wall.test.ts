/**
 * The video wall in Debian's Chromium, end to end: the real server and relay
 * (ffmpeg → HLS), eight simulated cameras, hls.js in the page. A 4-tile wall
 * plays live video, a camera is dragged from the tree into a tile, layouts
 * switch and survive a reload, a tour switches without a black tile, the map
 * shows the points and plays one on click (and a box sends several to the
 * wall), a kiosk screen signs in with its token, nothing is requested off the
 * platform, and after the server restarts the wall plays again without a reload.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type { WallLayout, WallPushEvent, WallScreenView } from '../../server/src/api/contract.ts';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { resolveFfmpeg } from '../../streams/src/index.ts';
import { grantRoom } from '../../server/src/realtime/index.ts';
import { client, registerSimCamera, startTestServer, type TestServer } from '../helpers/server.ts';
import { ARTIFACTS, CHROMIUM, CLIENT_DIR, offOrigin, pictureAgrees, skipWithoutChromium } from './harness.ts';

const ffmpeg = resolveFfmpeg({ env: process.env, exists: (f) => existsSync(f) });
if (!ffmpeg.ok) console.warn(`tests/browser/wall.test.ts: skipped, ${ffmpeg.error}`);
const skip = skipWithoutChromium('tests/browser/wall.test.ts') || !ffmpeg.ok;

const CAMERAS = 8;
const NAME = (i: number) => `墙测试${i + 1}`;
/** Where the test cameras stand: a short row, so one map box holds them all. */
const POS = (i: number) => ({ lon: 118.8 + i * 0.0004, lat: 30.95 });

const tile = (page: Page, i: number) => page.locator(`.wall-tile[data-index="${i}"]`);
/** The picture a tile shows (its front player). */
const frontVideo = (page: Page, i: number) => tile(page, i).locator('.wall-layer--front video');
const currentTime = (page: Page, i: number) =>
  frontVideo(page, i).evaluate((v) => (v as unknown as { currentTime: number }).currentTime);

describe.skipIf(skip)('the video wall in a real browser', () => {
  let sim: Simulator;
  /** Addresses of this run's own (issue 12): no demo and no other run answers on them. */
  let block: LoopbackBlock;
  let clipDir: string;
  let dbDir: string;
  let server: TestServer;
  let browser: Browser;
  let port = 0;
  const secretKey = randomBytes(32);
  const ids: number[] = [];
  let screenId = 0;
  let current: { context: BrowserContext; page: Page; requests: string[]; errors: string[] } | null = null;

  const start = async () => {
    server = await startTestServer({
      cameras: 20,
      relay: true,
      clientDir: CLIENT_DIR,
      sqlitePath: path.join(dbDir, 'wall.sqlite'),
      secretKey,
      overrides: { server: { port, host: '127.0.0.1' } },
    });
    port = server.server.port;
  };

  const open = async () => {
    const context = await browser.newContext({
      baseURL: server.url,
      viewport: { width: 1600, height: 900 },
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    const requests: string[] = [];
    const errors: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.setDefaultTimeout(15_000);
    current = { context, page, requests, errors };
    return current;
  };

  const login = async (page: Page, username: string) => {
    await page.goto('/');
    await page.locator('input[name=username]').fill(username);
    await page.locator('input[name=password]').fill(DEMO_PASSWORD);
    await page.locator('form.login__card button[type=submit]').click();
    await page.locator('.data-table--cameras tbody tr').first().waitFor();
  };

  const screenshot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });

  /** Every tile with a camera plays it: state live and the picture's clock moving. */
  const expectPlaying = async (page: Page, tiles: number[], timeout = 45_000) => {
    for (const i of tiles) {
      await expect
        .poll(() => tile(page, i).locator('.wall-layer--front .live-tile').getAttribute('data-state'), {
          timeout,
          interval: 500,
        })
        .toBe('live');
    }
    const before = await Promise.all(tiles.map((i) => currentTime(page, i)));
    for (const [k, i] of tiles.entries()) {
      await expect.poll(() => currentTime(page, i), { timeout: 20_000, interval: 500 }).toBeGreaterThan(before[k]! + 1);
    }
  };

  const saveLayout = async (layout: WallLayout) => {
    const county = client(server.api, await server.login('county'));
    const screen = (await county.get(`/walls/${screenId}`)).json as WallScreenView;
    const r = await county.put(`/walls/${screenId}/layout`, { version: screen.version, layout });
    expect(r.status, r.text).toBe(200);
  };

  beforeAll(async () => {
    block = await claimLoopbackBlock();
    mkdirSync(ARTIFACTS, { recursive: true });
    clipDir = mkdtempSync(path.join(tmpdir(), 'ccc-wall-clips-'));
    dbDir = mkdtempSync(path.join(tmpdir(), 'ccc-wall-db-'));
    sim = await startSimulator({
      cameras: defaultCameraSpecs(CAMERAS, { firstIp: block.host(1), seed: 97 }).map((s) => ({
        ...s,
        clockOffsetSec: 0,
        faults: {},
      })),
      clipDir,
      onvifPort: 0,
      rtspPort: 0,
      discovery: false,
      clipMode: 'shared',
      streamOverrides: { main: { width: 640, height: 360, fps: 15 }, sub: { width: 320, height: 180, fps: 15 } },
    });
    await start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'].concat([
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ]),
    });
    const tech = client(server.api, await server.login('tech'));
    const orgs = (await tech.get('/org-units')).json as { id: number; level: string; parentId: number }[];
    const township = orgs.filter((o) => o.level === 'township').sort((a, b) => a.id - b.id)[0]!;
    const village = orgs.find((o) => o.parentId === township.id)!.id;
    for (const [i, cam] of sim.cameras.entries()) {
      ids.push(
        await registerSimCamera(tech, cam, {
          name: NAME(i),
          orgUnitId: village,
          position: POS(i),
          direction: 90,
          fov: 60,
        }),
      );
    }
    const county = client(server.api, await server.login('county'));
    screenId = ((await county.post('/walls', { name: '值班大屏' })).json as WallScreenView).id;
  }, 180_000);

  afterEach(async () => {
    const c = current;
    current = null;
    if (!c) return;
    await c.context.close();
    expect(c.errors, 'uncaught errors in the page').toEqual([]);
    expect(offOrigin(c.requests, server.url), 'requests off the platform').toEqual([]);
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
    await sim?.stop();
    await block?.release();
    for (const d of [clipDir, dbDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('fills a 4-tile wall from the camera tree and plays live video in every tile', async () => {
    const { page } = await open();
    await login(page, 'county');
    await page.getByRole('link', { name: '视频墙' }).click();
    // The county's own screen opens.
    await page.waitForURL(new RegExp(`/wall/${screenId}$`));
    await expect.poll(() => page.locator('.wall').getAttribute('data-grid')).toBe('4');
    await page.locator('.wall-search').fill('墙测试');
    for (let i = 0; i < 4; i++) await page.locator('.wall-cam', { hasText: NAME(i) }).click();
    for (let i = 0; i < 4; i++)
      await expect.poll(() => tile(page, i).getAttribute('data-camera-id')).toBe(String(ids[i]));
    await expectPlaying(page, [0, 1, 2, 3]);
    await screenshot(page, 'wall-4-tiles');
    // The same wall in English.
    await page.getByRole('button', { name: 'English' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Hide map' }).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.getByRole('tab', { name: 'By network' }).count(), { timeout: 10_000 }).toBe(1);
    await expect(page.locator('.wall-rate .wall-panel__title').textContent()).resolves.toContain('Online rate');
  }, 120_000);

  it('takes a camera dragged from the tree, switches layouts by key and button, and keeps them after a reload', async () => {
    const { page } = await open();
    await login(page, 'county');
    await page.goto(`/wall/${screenId}`);
    await page.locator('.wall-search').fill('墙测试');
    await page.locator('.wall-cam', { hasText: NAME(5) }).dragTo(tile(page, 2));
    await expect.poll(() => tile(page, 2).getAttribute('data-camera-id')).toBe(String(ids[5]));
    await expectPlaying(page, [2]);

    await page.locator('.wall-grid').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('3');
    await expect.poll(() => page.locator('.wall').getAttribute('data-grid')).toBe('6');
    await expect.poll(() => page.locator('.wall-tile').count(), { timeout: 10_000 }).toBe(6);
    await page.getByRole('button', { name: '9', exact: true }).click();
    await expect.poll(() => page.locator('.wall-tile').count(), { timeout: 10_000 }).toBe(9);
    await page.keyboard.press('6');
    await expect.poll(() => page.locator('.wall').getAttribute('data-grid')).toBe('1+5');
    await expect.poll(() => page.locator('.wall-tile').count(), { timeout: 10_000 }).toBe(6);
    // The big tile is the first one: wider than the others.
    const big = (await tile(page, 0).boundingBox())!;
    const small = (await tile(page, 1).boundingBox())!;
    expect(big.width).toBeGreaterThan(small.width * 1.5);
    // Keyboard: focus the second tile, full screen on the main stream, and back.
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await expect.poll(() => tile(page, 1).getAttribute('class')).toContain('wall-tile--full');
    await expect
      .poll(() => tile(page, 1).locator('.wall-layer--front .live-tile').getAttribute('data-quality'))
      .toBe('main');
    await expectPlaying(page, [1]);
    await screenshot(page, 'wall-full-main');
    await page.keyboard.press('Escape');
    await expect.poll(() => tile(page, 1).getAttribute('class')).not.toContain('wall-tile--full');
    await screenshot(page, 'wall-1p5');

    // Saved for this screen: a reload shows the same layout.
    const expected = [ids[0], ids[1], ids[5], ids[3], null, null].map((x) => (x === null ? '' : String(x)));
    await expect
      .poll(
        async () =>
          ((await client(server.api, await server.login('county')).get(`/walls/${screenId}`)).json as WallScreenView)
            .layout.grid,
      )
      .toBe('1+5');
    await page.reload();
    await expect.poll(() => page.locator('.wall').getAttribute('data-grid')).toBe('1+5');
    for (const [i, id] of expected.entries())
      await expect(tile(page, i).getAttribute('data-camera-id')).resolves.toBe(id);
  }, 120_000);

  it('runs a tour: the next group is warmed up and no tile is black at the switch', async () => {
    await saveLayout({ grid: '4', tiles: ids.slice(0, 4), tour: { cameraIds: ids, intervalSec: 10 } });
    const { page } = await open();
    await login(page, 'county');
    await page.goto(`/wall/${screenId}`);
    await expect.poll(() => page.locator('.wall').getAttribute('data-touring')).toBe('true');
    await expectPlaying(page, [0, 1, 2, 3]);
    // Sample every tile every 100 ms through two switches: the picture shown must always be a decoded frame with content.
    await page.evaluate(() => {
      const w = window as unknown as {
        __samples: { group: string; warming: number; tiles: { id: string; ready: number; luma: number }[] }[];
      };
      w.__samples = [];
      const canvas = document.createElement('canvas');
      canvas.width = 16;
      canvas.height = 9;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      window.setInterval(() => {
        const tiles = [...document.querySelectorAll<HTMLElement>('.wall-tile')].map((t) => {
          const video = t.querySelector<HTMLVideoElement>('.wall-layer--front video');
          let luma = -1;
          if (video && video.readyState >= 2) {
            ctx.drawImage(video, 0, 0, 16, 9);
            const d = ctx.getImageData(0, 0, 16, 9).data;
            let sum = 0;
            for (let k = 0; k < d.length; k += 4) sum += 0.299 * d[k]! + 0.587 * d[k + 1]! + 0.114 * d[k + 2]!;
            luma = sum / (d.length / 4);
          }
          return { id: t.dataset['cameraId'] ?? '', ready: video?.readyState ?? -1, luma };
        });
        w.__samples.push({
          group: document.querySelector<HTMLElement>('.wall')!.dataset['tourGroup'] ?? '',
          // Players of the next group already running behind the picture.
          warming: document.querySelectorAll('.wall-layer--back video').length,
          tiles,
        });
      }, 100);
    });
    // Two switches (group 0 → 1 → 0) seen by the sampler.
    const switches = () =>
      page.evaluate(() =>
        (window as unknown as { __samples: { group: string }[] }).__samples.reduce(
          (n, s, k, all) => n + (k > 0 && s.group !== all[k - 1]!.group ? 1 : 0),
          0,
        ),
      );
    await expect.poll(switches, { timeout: 60_000, interval: 1000 }).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'wall-tour');
    const samples = await page.evaluate(
      () =>
        (
          window as unknown as {
            __samples: { group: string; warming: number; tiles: { id: string; ready: number; luma: number }[] }[];
          }
        ).__samples,
    );
    // The next group was started before the switch: four players behind the four pictures.
    expect(Math.max(...samples.map((s) => s.warming))).toBe(4);
    // Both groups were on screen…
    const shownIds = new Set(samples.flatMap((s) => s.tiles.map((t) => t.id)));
    for (const id of ids) expect(shownIds.has(String(id)), `camera ${id} shown`).toBe(true);
    // …and around each switch (1 s before to 2 s after) no tile was without a decoded frame or black. Away from
    // the switches a live player may stall for a moment on a loaded machine (other tests cover stalls).
    const switchesAt = samples.flatMap((s, k) => (k > 0 && s.group !== samples[k - 1]!.group ? [k] : []));
    expect(switchesAt.length).toBeGreaterThanOrEqual(2);
    const nearSwitch = (k: number) => switchesAt.some((at) => k >= at - 10 && k <= at + 20);
    const dark = samples.flatMap((s, k) =>
      nearSwitch(k) ? s.tiles.filter((t) => t.ready < 2 || t.luma < 10).map((t) => ({ k, ...t })) : [],
    );
    expect(dark, `black tiles in ${samples.length} samples`).toEqual([]);
  }, 150_000);

  it('shows every point on the map; a click plays one, a box sends several to the wall', async () => {
    await saveLayout({ grid: '4', tiles: [ids[0]!, null, null, null], tour: null });
    const { page } = await open();
    await login(page, 'county');
    await page.goto(`/wall/${screenId}`);
    const canvas = page.locator('.wall-map__canvas');
    await expect.poll(() => canvas.getAttribute('data-map-state'), { timeout: 30_000 }).toBe('ready');
    const drawn = await canvas.evaluate((el) => {
      const map = (el as unknown as { wallMap: { queryRenderedFeatures(o: object): unknown[] } }).wallMap;
      return map.queryRenderedFeatures({ layers: ['wall-clusters', 'wall-points'] }).length;
    });
    expect(drawn).toBeGreaterThan(0);
    await screenshot(page, 'wall-map');
    // The first picture (client/src/map/firstPicture.ts) was on screen before the map's own frame, showed the
    // map's clusters where the map then drew them, and is gone. It needs the basemap from the page's early
    // answers: a loaded machine can answer after the first render, which then goes without it.
    const boot = await page.evaluate(() => document.documentElement.dataset['bootAnswers']);
    if (boot === 'all') {
      const pictureAt = Number(await canvas.getAttribute('data-picture-at'));
      expect(pictureAt).toBeGreaterThan(0);
      expect(pictureAt).toBeLessThanOrEqual(Number(await canvas.getAttribute('data-ready-at')));
      const agrees = await pictureAgrees(page);
      expect(agrees.ok, agrees.why).toBe(true);
      expect(await page.locator('.wall-map__picture').isHidden()).toBe(true);
    } else console.log(`the early answers came after the first render (${boot}): no first picture to check`);

    // Close in on the test cameras: single points with view cones.
    type WallMapHandle = {
      jumpTo(o: object): void;
      once(e: string, f: () => void): void;
      project(p: [number, number]): { x: number; y: number };
    };
    const jump = (center: { lon: number; lat: number }, zoom: number) =>
      canvas.evaluate(
        (el, { center, zoom }) =>
          new Promise<void>((resolve) => {
            const map = (el as unknown as { wallMap: WallMapHandle }).wallMap;
            map.once('idle', () => resolve());
            map.jumpTo({ center: [center.lon, center.lat], zoom });
          }),
        { center, zoom },
      );
    const pixel = (p: { lon: number; lat: number }) =>
      canvas.evaluate((el, p) => (el as unknown as { wallMap: WallMapHandle }).wallMap.project([p.lon, p.lat]), p);
    await jump(POS(6), 18);
    const box = (await canvas.boundingBox())!;
    const at = await pixel(POS(6));
    await page.mouse.click(box.x + at.x, box.y + at.y);
    await expect.poll(() => tile(page, 1).getAttribute('data-camera-id')).toBe(String(ids[6]));
    await expectPlaying(page, [1]);
    await screenshot(page, 'wall-map-click');

    // Hovering a point offers a card to drag onto a tile.
    const atCard = await pixel(POS(7));
    await page.mouse.move(box.x + atCard.x, box.y + atCard.y);
    const card = page.locator('.wall-map__card');
    await expect.poll(() => card.textContent()).toContain(NAME(7));
    await card.dragTo(tile(page, 3));
    await expect.poll(() => tile(page, 3).getAttribute('data-camera-id')).toBe(String(ids[7]));

    await jump(POS(3.5), 16);
    const a = await pixel({ lon: POS(0).lon - 0.0003, lat: 30.9505 });
    const b = await pixel({ lon: POS(7).lon + 0.0003, lat: 30.9495 });
    await page.keyboard.down('Shift');
    await page.mouse.move(box.x + a.x, box.y + a.y);
    await page.mouse.down();
    await page.mouse.move(box.x + (a.x + b.x) / 2, box.y + (a.y + b.y) / 2, { steps: 4 });
    await page.mouse.move(box.x + b.x, box.y + b.y, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    await expect.poll(() => page.locator('.wall').getAttribute('data-grid')).toBe('9');
    const onWall = await page
      .locator('.wall-tile')
      .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset['cameraId']));
    expect(new Set(onWall.filter(Boolean))).toEqual(new Set(ids.map(String)));
    await screenshot(page, 'wall-map-box');
  }, 120_000);

  it('signs a kiosk screen in with its token: no pointer UI, tiles playing', async () => {
    await saveLayout({ grid: '4', tiles: ids.slice(0, 4), tour: null });
    const county = client(server.api, await server.login('county'));
    const issued = await county.post(`/walls/${screenId}/kiosk-token`);
    expect(issued.status).toBe(201);
    const { page } = await open();
    await page.goto(issued.json.url as string);
    await page.waitForURL(new RegExp(`/wall/${screenId}\\?kiosk=1$`));
    await page.locator('.wall--kiosk').waitFor();
    await expectPlaying(page, [0, 1, 2, 3]);
    await expect(page.locator('.wall-bar, .wall-side, .topbar, .wall-map').count()).resolves.toBe(0);
    await expect(page.locator('.wall--kiosk').evaluate((e) => getComputedStyle(e).cursor)).resolves.toBe('none');
    await screenshot(page, 'wall-kiosk');
  }, 120_000);

  it('shows a view pushed from the county at once, with a banner naming who sent it (视频调度)', async () => {
    const { page } = await open();
    await login(page, 'township1');
    await page.getByRole('link', { name: '视频墙' }).click();
    await page.waitForURL(/\/wall\/\d+$/);
    await page.locator('.wall-tile').first().waitFor();
    const me = (await client(server.api, await server.login('township1')).get('/auth/me')).json as {
      orgUnitId: number;
    };
    const event: WallPushEvent = {
      id: 1,
      targetOrgUnitId: me.orgUnitId,
      screenId: null,
      cameraIds: [ids[2]!, ids[3]!],
      layout: null,
      from: { userId: 2, displayName: '县中心值班员', orgUnitId: 1, orgName: '示范县' },
      orderId: null,
      note: '请关注学校门口',
      at: new Date().toISOString(),
    };
    // The page's socket must be in its unit's room before the server emits (the top bar's dot says so).
    await page.locator('.live-dot--on').waitFor();
    // Another unit's push is not for this screen, even if it reached this socket's room.
    server.server.io
      .to(grantRoom('wall.read', me.orgUnitId))
      .emit('wall:push', { ...event, targetOrgUnitId: me.orgUnitId + 1000 });
    server.server.app.bus.emit('wall.push', { event });
    const banner = page.locator('.wall-push');
    await expect.poll(() => banner.textContent()).toContain('上级调度: 示范县 县中心值班员');
    await expect(banner.textContent()).resolves.toContain('请关注学校门口');
    await expect.poll(() => tile(page, 0).getAttribute('data-camera-id')).toBe(String(ids[2]));
    await expect.poll(() => tile(page, 1).getAttribute('data-camera-id')).toBe(String(ids[3]));
    await expectPlaying(page, [0, 1]);
    await screenshot(page, 'wall-push');
  }, 120_000);

  it('recovers by itself after the server restarts, without a reload', async () => {
    await saveLayout({ grid: '4', tiles: ids.slice(0, 4), tour: null });
    const { page } = await open();
    await login(page, 'county');
    await page.goto(`/wall/${screenId}`);
    await expectPlaying(page, [0, 1, 2, 3]);
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

    await server.close();
    await page.locator('.wall-offline').waitFor({ timeout: 30_000 });
    await start();
    // The socket reconnects and every tile asks for a new ticket on its own.
    await page.locator('.wall-offline').waitFor({ state: 'detached', timeout: 60_000 });
    await expectPlaying(page, [0, 1, 2, 3], 90_000);
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await screenshot(page, 'wall-after-restart');
  }, 240_000);
});
