/**
 * 录像回放 in Chromium (issue 14): a recorded point's timeline shows its spans, the page plays from the
 * moment in the URL (what the alert page's 回放 opens), the picture advances, a click on the timeline seeks,
 * and the speed goes to 4×; two points play in sync; a wall tile plays back in place while the wall stays live.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import type { Simulator } from '../../scripts/sim/index.ts';
import { killLeftovers } from '../../streams/src/test-support.ts';
import { client, firstVillage, registerSimCamera } from '../helpers/server.ts';
import { startRecordingServer, type RecordingServer } from '../recording/support.ts';
import {
  ARTIFACTS,
  CLIENT_DIR,
  launchPlayingChromium,
  openPage,
  readVideoClock,
  signIn,
  skipWithoutChromium,
  startPlaybackSimulator,
  waitForPosition,
} from './harness.ts';

const skip = skipWithoutChromium('playback.test.ts');
let base = '';
let block: LoopbackBlock;
let silent: LoopbackBlock;
let sim: Simulator;
let rs: RecordingServer;
let browser: Browser;
let cam = 0;
let cam2 = 0;
let cam3 = 0;
let t0 = 0;
let admin: ReturnType<typeof client>;

/** The first recorded moment of a point and how many seconds it has recorded since t0. */
async function recordedOf(id: number): Promise<{ first: number; secs: number }> {
  const r = await admin.get(
    `/recording/cameras/${id}/spans?from=${new Date(t0).toISOString()}&to=${new Date().toISOString()}`,
  );
  const spans = (r.json.spans as Array<{ start: string; end: string }>).map((x) => ({
    start: Date.parse(x.start),
    end: Date.parse(x.end),
  }));
  return {
    first: Math.min(...spans.map((x) => x.start)),
    secs: spans.reduce((n, x) => n + (x.end - x.start) / 1000, 0),
  };
}

async function waitRecorded(id: number, secs: number, withinMs: number): Promise<number> {
  const until = Date.now() + withinMs;
  for (;;) {
    const r = await recordedOf(id);
    if (r.secs >= secs) return r.first;
    if (Date.now() > until) throw new Error(`${r.secs} s recorded, not ${secs}`);
    await new Promise((r2) => setTimeout(r2, 500));
  }
}

beforeAll(async () => {
  if (skip) return;
  base = mkdtempSync(path.join(tmpdir(), 'ccc-playback-browser-'));
  block = await claimLoopbackBlock();
  silent = await claimLoopbackBlock();
  sim = await startPlaybackSimulator({ count: 3, seed: 41, block, dir: base });
  rs = await startRecordingServer({
    base,
    secretKey: randomBytes(32),
    tokenKey: randomBytes(32),
    seed: { hostOf: (i) => silent.host(1 + i) },
    clientDir: CLIENT_DIR,
    live: true,
  });
  const tech1 = client(rs.api, await rs.login('tech1'));
  cam = await registerSimCamera(tech1, sim.cameras[0]!, { name: '回放测试', orgUnitId: await firstVillage(tech1) });
  cam2 = await registerSimCamera(tech1, sim.cameras[1]!, { name: '同步测试', orgUnitId: await firstVillage(tech1) });
  cam3 = await registerSimCamera(tech1, sim.cameras[2]!, { name: '直播测试', orgUnitId: await firstVillage(tech1) });
  admin = client(rs.api, await rs.login('admin'));
  t0 = Date.now();
  await admin.put('/recording/plans', { cameraId: cam, mode: 'continuous', retentionDays: 1 });
  await admin.put('/recording/plans', { cameraId: cam2, mode: 'continuous', retentionDays: 1 });
  await waitRecorded(cam, 10, 60_000);
  browser = await launchPlayingChromium();
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
    const { context, page, errors } = await openPage(browser, rs.url);
    await signIn(page, 'township1');
    const at = new Date(t0 + 1_000).toISOString();
    await page.goto(`/playback/${cam}?at=${encodeURIComponent(at)}`);
    await page.getByTestId('playback').waitFor();
    await page.getByTestId('span').first().waitFor();
    // The picture plays: its position moves on.
    await waitForPosition(page, '[data-testid=playback-video]', 1);
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
    const { context, page, errors } = await openPage(browser, rs.url);
    await signIn(page, 'township1');
    const at = new Date(t0 + 2_000).toISOString();
    await page.goto(`/playback/${cam}?at=${encodeURIComponent(at)}&cameras=${cam},${cam2}`);
    await page.getByTestId('sync').check();
    await page.getByTestId('sync-tile').first().waitFor();
    expect(await page.getByTestId('sync-tile').getAttribute('data-camera-id')).toBe(String(cam2));
    // It recorded that moment on the platform too: it plays the platform's recording, as the main player does.
    await expect.poll(() => page.getByTestId('sync-tile').getAttribute('data-source')).toBe('platform');
    await page.waitForFunction(
      () =>
        [
          ...document.querySelectorAll<HTMLVideoElement>('[data-testid=playback-video], [data-testid=sync-video]'),
        ].every((v) => v.currentTime > 2 && v.readyState >= 2),
      undefined,
      { timeout: 30_000 },
    );
    // Both pictures at one instant: the simulator's clock band in each (the time each was recorded).
    await page.evaluate(() => document.querySelectorAll('video').forEach((v) => v.pause()));
    const main = await readVideoClock(page, '[data-testid=playback-video]', t0);
    const other = await readVideoClock(page, '[data-testid=sync-video]', t0);
    await page.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid=playback-video]')!.play());
    expect(main, 'clock band of the main picture').toBeDefined();
    expect(other, 'clock band of the point in sync').toBeDefined();
    expect(Math.abs(main!.ms - other!.ms), `${main!.text} vs ${other!.text}`).toBeLessThan(1_000);
    // Pausing the main player pauses the other.
    await page.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid=playback-video]')!.pause());
    await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('[data-testid=sync-video]')!.paused);
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);

  it('plays a wall tile back in place, seeks it, and returns it to live while the wall stays live', async () => {
    // A minute and more recorded: the tile opens a minute ago, inside the recording, with room to seek back.
    const first = await waitRecorded(cam, 75, 120_000);
    const { context, page, errors } = await openPage(browser, rs.url);
    await signIn(page, 'township1');
    await page.getByRole('link', { name: '视频墙' }).click();
    await page.locator('.wall-search').fill('测试');
    for (const name of ['回放测试', '同步测试', '直播测试']) await page.locator('.wall-cam', { hasText: name }).click();
    const tile = page.locator(`.wall-tile[data-camera-id="${cam}"]`);
    const others = [cam2, cam3].map((id) => page.locator(`.wall-tile[data-camera-id="${id}"]`));
    const liveTime = (t: typeof tile) =>
      t.locator('.wall-layer--front video').evaluate((v: HTMLVideoElement) => v.currentTime);
    for (const t of [tile, ...others]) await expect.poll(() => liveTime(t), { timeout: 30_000 }).toBeGreaterThan(0.5);
    const othersBefore = await Promise.all(others.map(liveTime));

    // In place: the tile is marked, its video plays a recorded time from before now, nobody left the wall.
    const wallPath = new URL(page.url()).pathname;
    await tile.getByTestId('tile-playback').click();
    expect(await tile.getAttribute('data-mode')).toBe('playback');
    expect(new URL(page.url()).pathname).toBe(wallPath);
    // Marked as playback in its name bar, where the live dot was.
    expect(await tile.locator('.wall-tile__tag--playback').textContent()).toBe('回放');
    expect(await tile.locator('.wall-tile__state').count()).toBe(0);
    await expect.poll(() => tile.getByTestId('tile-pb-mark').textContent()).toMatch(/回放 \d\d:\d\d:\d\d/);
    const video = `.wall-tile[data-camera-id="${cam}"] [data-testid=tile-pb-video]`;
    await waitForPosition(page, video, 1, 30_000);
    const shown = async () => Number(await tile.getByTestId('tile-pb').getAttribute('data-recorded-ms'));
    const p1 = await page.locator(video).evaluate((v: HTMLVideoElement) => v.currentTime);
    await expect
      .poll(() => page.locator(video).evaluate((v: HTMLVideoElement) => v.currentTime))
      .toBeGreaterThan(p1 + 1);
    const before = await shown();
    expect(before).toBeLessThan(Date.now() - 30_000);
    expect(before).toBeGreaterThan(first);
    // The time the tile shows is the one recorded in its picture.
    await page.locator(video).evaluate((v: HTMLVideoElement) => v.pause());
    const band = await readVideoClock(page, video, before);
    expect(band, 'the clock band of the tile’s picture').toBeDefined();
    expect(Math.abs(band!.ms - (await shown())), band!.text).toBeLessThan(1_500);
    await page.locator(video).evaluate((v: HTMLVideoElement) => v.play());

    // Seek: zoom the strip's timeline around a moment well before to a few minutes, then click that moment.
    const target = first + 3_000;
    expect(await shown()).toBeGreaterThan(target + 10_000);
    const track = tile.getByTestId('timeline');
    const at = async (ms: number) => {
      const a = Number(await track.getAttribute('data-view-from'));
      const b = Number(await track.getAttribute('data-view-to'));
      const box = (await track.boundingBox())!;
      return { width: b - a, x: ((ms - a) / (b - a)) * box.width, y: box.height / 2, box };
    };
    await tile.getByRole('button', { name: '放大到播放位置' }).click();
    await expect.poll(async () => (await at(target)).width).toBeLessThanOrEqual(10 * 60_000);
    const p = await at(target);
    await track.click({ position: { x: p.x, y: p.y } });
    await expect.poll(async () => Math.abs((await shown()) - target)).toBeLessThan(3_000);
    await waitForPosition(page, video, 0.2, 30_000);
    await page.locator(video).evaluate((v: HTMLVideoElement) => v.pause());
    const seekBand = await readVideoClock(page, video, target);
    expect(seekBand, 'the clock band after the seek').toBeDefined();
    expect(Math.abs(seekBand!.ms - target), seekBand!.text).toBeLessThan(3_000);

    // The speed choice plays the recording faster.
    await tile.getByTestId('tile-pb-speed').selectOption('4');
    expect(await page.locator(video).evaluate((v: HTMLVideoElement) => v.playbackRate)).toBe(4);
    await page.screenshot({ path: path.join(ARTIFACTS, 'playback-wall-tile.png') });

    // The other tiles played live all along.
    for (const [k, t] of others.entries()) {
      expect(await t.getAttribute('data-mode')).toBe('live');
      expect(await t.locator('.wall-layer--front .live-tile').getAttribute('data-state')).toBe('live');
      await expect.poll(() => liveTime(t)).toBeGreaterThan(othersBefore[k]! + 1);
    }

    // Back to live: the live player again, its picture moving on.
    await tile.getByTestId('tile-pb-live').click();
    expect(await tile.getAttribute('data-mode')).toBe('live');
    expect(await tile.getByTestId('tile-pb').count()).toBe(0);
    await expect.poll(() => liveTime(tile), { timeout: 30_000 }).toBeGreaterThan(1);

    // The full playback page stays one click away, with the wall's other points to play in sync.
    await tile.getByTestId('tile-playback').click();
    await tile.getByTestId('tile-pb-full').click();
    await page.getByTestId('playback').waitFor();
    expect(new URL(page.url()).pathname).toBe(`/playback/${cam}`);
    expect(new URL(page.url()).searchParams.get('cameras')).toBe(`${cam},${cam2},${cam3}`);
    await waitForPosition(page, '[data-testid=playback-video]', 1);
    expect(errors).toEqual([]);
    await context.close();
  }, 240_000);
});
