/**
 * 录像回放 in Chromium (issue 14): a recorded point's timeline shows its spans, the page plays from the
 * moment in the URL (what the alert page's 回放 opens), the picture advances, a click on the timeline seeks,
 * and the speed goes to 4×.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import { readClockBand } from '../../scripts/sim/wallclock.ts';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { killLeftovers } from '../../streams/src/test-support.ts';
import { client, firstVillage, registerSimCamera } from '../helpers/server.ts';
import { startRecordingServer, type RecordingServer } from '../recording/support.ts';
import { ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, CLIENT_DIR, skipWithoutChromium } from './harness.ts';

const skip = skipWithoutChromium('playback.test.ts');
let base = '';
let block: LoopbackBlock;
let silent: LoopbackBlock;
let sim: Simulator;
let rs: RecordingServer;
let browser: Browser;
let cam = 0;
let cam2 = 0;
let t0 = 0;

beforeAll(async () => {
  if (skip) return;
  base = mkdtempSync(path.join(tmpdir(), 'ccc-playback-browser-'));
  block = await claimLoopbackBlock();
  silent = await claimLoopbackBlock();
  sim = await startSimulator({
    cameras: defaultCameraSpecs(2, { firstIp: block.host(1), seed: 41 }).map((s) => ({ ...s, clockOffsetSec: 0 })),
    clipDir: path.join(base, 'clips'),
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    clipMode: 'shared',
    streamOverrides: { main: { width: 320, height: 180, fps: 10 }, sub: { width: 320, height: 180, fps: 10 } },
  });
  rs = await startRecordingServer({
    base,
    secretKey: randomBytes(32),
    tokenKey: randomBytes(32),
    seed: { hostOf: (i) => silent.host(1 + i) },
    clientDir: CLIENT_DIR,
  });
  const tech1 = client(rs.api, await rs.login('tech1'));
  cam = await registerSimCamera(tech1, sim.cameras[0]!, { name: '回放测试', orgUnitId: await firstVillage(tech1) });
  cam2 = await registerSimCamera(tech1, sim.cameras[1]!, { name: '同步测试', orgUnitId: await firstVillage(tech1) });
  const admin = client(rs.api, await rs.login('admin'));
  t0 = Date.now();
  await admin.put('/recording/plans', { cameraId: cam, mode: 'continuous', retentionDays: 1 });
  await admin.put('/recording/plans', { cameraId: cam2, mode: 'continuous', retentionDays: 1 });
  const until = Date.now() + 60_000;
  for (;;) {
    const r = await admin.get(
      `/recording/cameras/${cam}/spans?from=${new Date(t0).toISOString()}&to=${new Date().toISOString()}`,
    );
    const secs = (r.json.spans as Array<{ start: string; end: string }>).reduce(
      (n, s) => n + (Date.parse(s.end) - Date.parse(s.start)) / 1000,
      0,
    );
    if (secs >= 10) break;
    if (Date.now() > until) throw new Error('nothing recorded');
    await new Promise((r2) => setTimeout(r2, 500));
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
  });
}, 120_000);

afterAll(async () => {
  if (skip) return;
  await browser?.close().catch(() => undefined);
  await rs?.close().catch(() => undefined);
  const left = killLeftovers(base);
  await sim?.stop();
  await block?.release();
  await silent?.release();
  rmSync(base, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe.skipIf(skip)('playback page', () => {
  it('plays from the moment asked, seeks by a click on the timeline, and speeds up', async () => {
    const context = await browser.newContext({
      baseURL: rs.url,
      viewport: { width: 1400, height: 900 },
      locale: 'zh-CN',
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/');
    await page.locator('input[name=username]').fill('township1');
    await page.locator('input[name=password]').fill(DEMO_PASSWORD);
    await page.locator('form.login__card button[type=submit]').click();
    await page.locator('header.topbar').waitFor();
    const at = new Date(t0 + 1_000).toISOString();
    await page.goto(`/playback/${cam}?at=${encodeURIComponent(at)}`);
    await page.getByTestId('playback').waitFor();
    await page.getByTestId('span').first().waitFor();
    // The picture plays: its position moves on.
    await page.waitForFunction(
      () => {
        const v = document.querySelector<HTMLVideoElement>('[data-testid=playback-video]');
        return !!v && v.currentTime > 1 && v.readyState >= 2;
      },
      undefined,
      { timeout: 20_000 },
    );
    await page.getByTestId('cursor').waitFor();
    // Zoom to the play position, then click near the right end of the recorded span: the cursor goes there.
    await page.getByRole('button', { name: '放大到播放位置' }).click();
    const span = await page.getByTestId('span').first().boundingBox();
    const before = Number(await page.getByTestId('timeline').getAttribute('aria-valuenow'));
    await page.getByTestId('timeline').click({
      position: {
        x: Math.max(1, span!.x + span!.width - 40 - (await page.getByTestId('timeline').boundingBox())!.x),
        y: 18,
      },
    });
    await page.waitForFunction(
      (b) => Number(document.querySelector('[data-testid=timeline]')?.getAttribute('aria-valuenow')) > b + 2000,
      before,
    );
    await page.getByTestId('speed').selectOption('4');
    expect(
      await page.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid=playback-video]')!.playbackRate),
    ).toBe(4);
    // Frame step: pauses, then one frame on (10 fps here: 0.1 s), whatever the speed.
    await page.waitForTimeout(500);
    const t1 = await page.evaluate(() => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid=playback-video]')!;
      v.pause();
      return v.currentTime;
    });
    await page.getByTestId('frame-step').click();
    await page.waitForFunction(
      () => !document.querySelector<HTMLVideoElement>('[data-testid=playback-video]')!.seeking,
    );
    const stepped = await page.evaluate(() => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid=playback-video]')!;
      return { paused: v.paused, at: v.currentTime };
    });
    expect(stepped.paused).toBe(true);
    expect(stepped.at - t1).toBeGreaterThan(0.05);
    expect(stepped.at - t1).toBeLessThan(0.15);
    await page.screenshot({ path: path.join(ARTIFACTS, 'playback.png') });
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);

  it('plays a second point in sync: the recorded times in both pictures agree', async () => {
    const context = await browser.newContext({
      baseURL: rs.url,
      viewport: { width: 1400, height: 900 },
      locale: 'zh-CN',
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/');
    await page.locator('input[name=username]').fill('township1');
    await page.locator('input[name=password]').fill(DEMO_PASSWORD);
    await page.locator('form.login__card button[type=submit]').click();
    await page.locator('header.topbar').waitFor();
    const at = new Date(t0 + 2_000).toISOString();
    await page.goto(`/playback/${cam}?at=${encodeURIComponent(at)}&cameras=${cam},${cam2}`);
    await page.getByTestId('sync').check();
    await page.getByTestId('sync-tile').first().waitFor();
    expect(await page.getByTestId('sync-tile').getAttribute('data-camera-id')).toBe(String(cam2));
    await page.waitForFunction(
      () =>
        [
          ...document.querySelectorAll<HTMLVideoElement>('[data-testid=playback-video], [data-testid=sync-video]'),
        ].every((v) => v.currentTime > 2 && v.readyState >= 2),
      undefined,
      { timeout: 30_000 },
    );
    // Both pictures at one instant: the simulator's clock band in each (the time each was recorded).
    const pictures = await page.evaluate(() =>
      ['playback-video', 'sync-video'].map((id) => {
        const v = document.querySelector<HTMLVideoElement>(`[data-testid=${id}]`)!;
        const c = document.createElement('canvas');
        c.width = v.videoWidth;
        c.height = v.videoHeight;
        const g = c.getContext('2d', { willReadFrequently: true })!;
        g.drawImage(v, 0, 0);
        const rgba = g.getImageData(0, 0, c.width, c.height).data;
        const luma: number[] = [];
        for (let i = 0; i < rgba.length; i += 4) luma.push(rgba[i + 1]!);
        return { w: c.width, h: c.height, luma };
      }),
    );
    const [main, other] = pictures.map((p) => readClockBand(Uint8Array.from(p.luma), p.w, p.h, p.w, t0));
    expect(main, 'clock band of the main picture').toBeDefined();
    expect(other, 'clock band of the point in sync').toBeDefined();
    expect(Math.abs(main!.wallClockMs - other!.wallClockMs), `${main!.text} vs ${other!.text}`).toBeLessThan(1_000);
    // Pausing the main player pauses the other.
    await page.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid=playback-video]')!.pause());
    await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('[data-testid=sync-video]')!.paused);
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);

  it('switches a wall tile to playback of its point, with the wall’s other points to play in sync', async () => {
    const context = await browser.newContext({
      baseURL: rs.url,
      viewport: { width: 1400, height: 900 },
      locale: 'zh-CN',
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/');
    await page.locator('input[name=username]').fill('township1');
    await page.locator('input[name=password]').fill(DEMO_PASSWORD);
    await page.locator('form.login__card button[type=submit]').click();
    await page.locator('header.topbar').waitFor();
    await page.getByRole('link', { name: '视频墙' }).click();
    await page.locator('.wall-search').fill('测试');
    await page.locator('.wall-cam', { hasText: '回放测试' }).click();
    await page.locator('.wall-cam', { hasText: '同步测试' }).click();
    await page.locator(`.wall-tile[data-camera-id="${cam2}"]`).waitFor();
    const tile = page.locator(`.wall-tile[data-camera-id="${cam}"]`);
    await tile.getByTestId('tile-playback').click();
    await page.getByTestId('playback').waitFor();
    expect(new URL(page.url()).pathname).toBe(`/playback/${cam}`);
    // The wall's other point is offered to play in sync.
    expect(new URL(page.url()).searchParams.get('cameras')).toBe(`${cam},${cam2}`);
    await page.getByTestId('sync').waitFor();
    // It plays the point's last minute at once.
    await page.waitForFunction(
      () => {
        const v = document.querySelector<HTMLVideoElement>('[data-testid=playback-video]');
        return !!v && v.currentTime > 1 && v.readyState >= 2;
      },
      undefined,
      { timeout: 20_000 },
    );
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
