/**
 * Playback from the camera's own storage in Chromium (issue 14, ONVIF Profile G): the playback page of a
 * simulated camera the platform never recorded shows the camera's spans in their own lane (no platform span),
 * chooses the camera as the source by itself, and a click on the timeline plays the camera's replay from that
 * moment: the picture advances, and the recorded time the simulator burns into each picture is near the moment
 * clicked (read back from a canvas with the simulator's own band reader). In sync (同步回放), a second camera plays
 * its own recording of the same moment, and a third that holds none there says so in its tile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import type { Simulator } from '../../scripts/sim/index.ts';
import { client, firstVillage, registerSimCamera, startTestServer, type TestServer } from '../helpers/server.ts';
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

const skip = skipWithoutChromium('playback-device.test.ts');
let dir = '';
let block: LoopbackBlock;
let sim: Simulator;
let ts: TestServer;
let browser: Browser;
let cam = 0;
let cam2 = 0;
let cam3 = 0;

beforeAll(async () => {
  if (skip) return;
  dir = mkdtempSync(path.join(tmpdir(), 'ccc-playback-device-'));
  block = await claimLoopbackBlock();
  // The third camera has kept only its last hour: older moments are on the others alone.
  sim = await startPlaybackSimulator({
    count: 3,
    seed: 43,
    block,
    dir,
    spec: (s, i) => ({ ...s, faults: {}, ...(i === 2 ? { recording: { hours: 1, gaps: [] } } : {}) }),
  });
  ts = await startTestServer({ relay: true, cameras: 6, clientDir: CLIENT_DIR });
  const tech1 = client(ts.api, await ts.login('tech1'));
  const village = await firstVillage(tech1);
  cam = await registerSimCamera(tech1, sim.cameras[0]!, { name: '前端回放', orgUnitId: village });
  cam2 = await registerSimCamera(tech1, sim.cameras[1]!, { name: '前端同步', orgUnitId: village });
  cam3 = await registerSimCamera(tech1, sim.cameras[2]!, { name: '前端一小时', orgUnitId: village });
  browser = await launchPlayingChromium();
}, 60_000);

afterAll(async () => {
  if (skip) return;
  await browser?.close().catch(() => undefined);
  await ts?.close();
  await sim?.stop();
  await block?.release();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip)('device playback page', () => {
  it('shows the camera’s own spans and plays its recording from a clicked moment, at 1× and at 4×', async () => {
    const t1 = client(ts.api, await ts.login('township1'));
    const now = Date.now();
    const r = await t1.get(
      `/recording/cameras/${cam}/spans?from=${new Date(now - 86_400_000).toISOString()}&to=${new Date(now).toISOString()}`,
    );
    expect(r.status, r.text).toBe(200);
    const longest = (r.json.deviceSpans as Array<{ start: string; end: string }>)
      .map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }))
      .sort((a, b) => b.end - b.start - (a.end - a.start))[0]!;
    expect(longest.end - longest.start).toBeGreaterThan(3_600_000);

    const { context, page, errors } = await openPage(browser, ts.url);
    // Replays the page ends (a new speed is a new replay; the old one must not be left to idle out), by ticket.
    const ended: string[] = [];
    page.on('request', (req) => {
      const m = /\/recordings\/([^/?]+)$/.exec(new URL(req.url()).pathname);
      if (req.method() === 'DELETE' && m) ended.push(m[1]!);
    });
    const played: string[] = [];
    page.on('request', (req) => {
      const m = /\/recordings\/([^/]+)\/index\.m3u8$/.exec(new URL(req.url()).pathname);
      if (m && !played.includes(m[1]!)) played.push(m[1]!);
    });
    await signIn(page, 'township1');
    await page.goto(`/playback/${cam}`);
    await page.getByTestId('playback').waitFor();
    // The camera's lane: its spans, the platform's lane empty, the camera chosen as the source.
    await page.getByTestId('device-span').first().waitFor();
    expect(await page.getByTestId('device-span').count()).toBeGreaterThanOrEqual(2); // the simulator's two gaps
    expect(await page.getByTestId('span').count()).toBe(0);
    expect(await page.getByTestId('source').inputValue()).toBe('device');

    // Click the middle of the camera's longest span (a pixel is about a minute on 24 h).
    const track = page.getByTestId('timeline');
    const box = (await track.boundingBox())!;
    const min = Number(await track.getAttribute('aria-valuemin'));
    const max = Number(await track.getAttribute('aria-valuemax'));
    const mid = (longest.start + longest.end) / 2;
    await track.click({ position: { x: ((mid - min) / (max - min)) * box.width, y: box.height / 2 } });
    const clicked = Number(await track.getAttribute('aria-valuenow'));
    expect(Math.abs(clicked - mid)).toBeLessThan(120_000);

    // The replay plays: its position moves on.
    await waitForPosition(page, '[data-testid=playback-video]', 1.5, 45_000);
    expect(await page.getByTestId('playback-video').evaluate((v: HTMLVideoElement) => v.paused)).toBe(false);
    // The recorded time burnt into the picture shown is the clicked moment or a little after.
    const band = await readVideoClock(page, '[data-testid=playback-video]', clicked);
    expect(band, 'the clock band of the replayed picture').toBeDefined();
    const after = (band!.ms - clicked) / 1000;
    expect(after, `recorded ${band!.text}, clicked ${new Date(clicked).toISOString()}`).toBeGreaterThan(-2);
    expect(after).toBeLessThan(band!.position + 30);

    // 4×: the camera replays from where the picture is, four recorded seconds per second of video. Read the
    // burnt-in recorded time at two moments of the playing video until their ratio says 4× (1× says 1).
    await page.getByTestId('speed').selectOption('4');
    // (No picture for a moment while the new replay starts: a read then gives nothing.)
    const clockNow = () => readVideoClock(page, '[data-testid=playback-video]', clicked).catch(() => undefined);
    let rate = 0;
    for (let tries = 0; tries < 20 && !(rate > 2.5 && rate < 5.5); tries++) {
      const a = await clockNow();
      await page.waitForTimeout(1_500);
      const b = await clockNow();
      if (a && b && b.position - a.position > 0.5) rate = (b.ms - a.ms) / 1000 / (b.position - a.position);
    }
    expect(rate, 'recorded seconds per second of video at 4×').toBeGreaterThan(2.5);
    expect(rate).toBeLessThan(5.5);
    // The 1× replay was ended when the 4× one replaced it; the one playing was not.
    expect(played.length).toBeGreaterThanOrEqual(2);
    await expect.poll(() => ended).toContain(played[0]);
    expect(ended).not.toContain(played[played.length - 1]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'playback-device.png') });
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('plays the other cameras’ own recordings in sync, and says which holds none at that moment', async () => {
    const { context, page, errors } = await openPage(browser, ts.url);
    await signIn(page, 'township1');
    await page.goto(`/playback/${cam}?cameras=${cam},${cam2},${cam3}`);
    await page.getByTestId('device-span').first().waitFor();
    expect(await page.getByTestId('source').inputValue()).toBe('device');
    await page.getByTestId('sync').check();
    // Two hours ago: inside the default recordings (gaps 3 h and 50 min ago), before the third's last hour.
    const track = page.getByTestId('timeline');
    const box = (await track.boundingBox())!;
    const min = Number(await track.getAttribute('aria-valuemin'));
    const max = Number(await track.getAttribute('aria-valuemax'));
    const moment = max - 2 * 3_600_000;
    await track.click({ position: { x: ((moment - min) / (max - min)) * box.width, y: box.height / 2 } });
    const clicked = Number(await track.getAttribute('aria-valuenow'));

    const other = page.locator(`[data-testid=sync-tile][data-camera-id="${cam2}"]`);
    const none = page.locator(`[data-testid=sync-tile][data-camera-id="${cam3}"]`);
    // The camera without a recording there says so, and plays nothing.
    await expect.poll(() => none.getByTestId('sync-note').textContent()).toContain('该时刻没有录像');
    expect(await none.getAttribute('data-source')).toBe('');
    // The other plays its own recording of the clicked moment.
    expect(await other.getAttribute('data-source')).toBe('device');
    const otherVideo = `[data-testid=sync-tile][data-camera-id="${cam2}"] video`;
    await waitForPosition(page, otherVideo, 1.5, 45_000);
    await waitForPosition(page, '[data-testid=playback-video]', 1.5, 45_000);
    const main = await readVideoClock(page, '[data-testid=playback-video]', clicked);
    const band = await readVideoClock(page, otherVideo, clicked);
    expect(main, 'the clock band of the main replay').toBeDefined();
    expect(band, 'the clock band of the replay in sync').toBeDefined();
    const after = (band!.ms - clicked) / 1000;
    expect(after, `recorded ${band!.text}, clicked ${new Date(clicked).toISOString()}`).toBeGreaterThan(-2);
    expect(after).toBeLessThan(band!.position + 30);
    // Both pictures show about the same recorded moment (a replay starts when its camera answers).
    expect(Math.abs(band!.ms - main!.ms), `${band!.text} vs ${main!.text}`).toBeLessThan(5_000);
    await page.screenshot({ path: path.join(ARTIFACTS, 'playback-device-sync.png') });
    expect(errors).toEqual([]);
    await context.close();
  }, 150_000);
});
