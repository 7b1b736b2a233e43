/**
 * Playback from the camera's own storage in Chromium (issue 14, ONVIF Profile G): the playback page of a
 * simulated camera the platform never recorded shows the camera's spans in their own lane (no platform span),
 * chooses the camera as the source by itself, and a click on the timeline plays the camera's replay from that
 * moment: the picture advances, and the recorded time the simulator burns into each picture is near the moment
 * clicked (read back from a canvas with the simulator's own band reader).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import { readClockBand } from '../../scripts/sim/wallclock.ts';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { client, firstVillage, registerSimCamera, startTestServer, type TestServer } from '../helpers/server.ts';
import { ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, CLIENT_DIR, skipWithoutChromium } from './harness.ts';

const skip = skipWithoutChromium('playback-device.test.ts');
let dir = '';
let block: LoopbackBlock;
let sim: Simulator;
let ts: TestServer;
let browser: Browser;
let cam = 0;

beforeAll(async () => {
  if (skip) return;
  dir = mkdtempSync(path.join(tmpdir(), 'ccc-playback-device-'));
  block = await claimLoopbackBlock();
  sim = await startSimulator({
    cameras: defaultCameraSpecs(1, { firstIp: block.host(1), seed: 43 }).map((s) => ({
      ...s,
      clockOffsetSec: 0,
      faults: {},
    })),
    clipDir: path.join(dir, 'clips'),
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    clipMode: 'shared',
    streamOverrides: { main: { width: 320, height: 180, fps: 10 }, sub: { width: 320, height: 180, fps: 10 } },
    log: () => undefined,
  });
  ts = await startTestServer({ relay: true, cameras: 6, clientDir: CLIENT_DIR });
  const tech1 = client(ts.api, await ts.login('tech1'));
  cam = await registerSimCamera(tech1, sim.cameras[0]!, { name: '前端回放', orgUnitId: await firstVillage(tech1) });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
  });
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
  it('shows the camera’s own spans and plays its recording from a clicked moment', async () => {
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

    const context = await browser.newContext({
      baseURL: ts.url,
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
    await page.waitForFunction(
      () => {
        const v = document.querySelector<HTMLVideoElement>('[data-testid=playback-video]');
        return !!v && v.currentTime > 1.5 && v.readyState >= 2 && !v.paused;
      },
      undefined,
      { timeout: 45_000 },
    );
    // The recorded time burnt into the picture shown is the clicked moment or a little after.
    const frame = await page.evaluate(() => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid=playback-video]')!;
      const c = document.createElement('canvas');
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const g = c.getContext('2d', { willReadFrequently: true })!;
      g.drawImage(v, 0, 0);
      const rgba = g.getImageData(0, 0, c.width, c.height).data;
      const luma: number[] = [];
      for (let i = 0; i < rgba.length; i += 4) luma.push(rgba[i + 1]!);
      return { w: c.width, h: c.height, luma, position: v.currentTime };
    });
    const band = readClockBand(Uint8Array.from(frame.luma), frame.w, frame.h, frame.w, clicked);
    expect(band, 'the clock band of the replayed picture').toBeDefined();
    const after = (band!.wallClockMs - clicked) / 1000;
    expect(after, `recorded ${band!.text}, clicked ${new Date(clicked).toISOString()}`).toBeGreaterThan(-2);
    expect(after).toBeLessThan(frame.position + 30);
    await page.screenshot({ path: path.join(ARTIFACTS, 'playback-device.png') });
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
