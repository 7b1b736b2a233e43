/**
 * The live panel's PTZ pad and frame-rate badge in Chromium (issue 17, items
 * 9 and 12), against simulated cameras through the real relay: the pad turns
 * and zooms the dome, stores and deletes a preset on it, and its patrol
 * visits every preset; a 15 fps camera's badge reads 15 and a 25 fps
 * camera's 25 (measured on the picture, not on arrival).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type SimCameraInfo, type Simulator } from '../../scripts/sim/index.ts';
import { resolveFfmpeg } from '../../streams/src/index.ts';
import { client, firstVillage, registerSimCamera } from '../helpers/server.ts';
import {
  offOrigin,
  skipWithoutChromium,
  startBrowserHarness,
  type BrowserHarness,
  type TracedPage,
} from './harness.ts';

const ffmpeg = resolveFfmpeg({ env: process.env, exists: (f) => existsSync(f) });
if (!ffmpeg.ok) console.warn(`tests/browser/live-pad.test.ts: skipped, ${ffmpeg.error}`);
const skip = skipWithoutChromium('tests/browser/live-pad.test.ts') || !ffmpeg.ok;

const DOME = '控制盘测试球机15帧';
const FIXED = '帧率测试枪机25帧';

/** One PTZ-service call to the simulator (HTTP Basic is accepted instead of a WS-Security token). */
async function ptzCall(cam: SimCameraInfo, op: string): Promise<string> {
  const res = await fetch(cam.ptzServiceUrl!, {
    method: 'POST',
    headers: {
      'content-type': 'application/soap+xml; charset=utf-8',
      authorization: `Basic ${Buffer.from(`${cam.username}:${cam.password}`).toString('base64')}`,
    },
    body:
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>' +
      `<${op} xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>Profile_1</ProfileToken></${op}>` +
      '</s:Body></s:Envelope>',
  });
  return res.text();
}

async function position(cam: SimCameraInfo): Promise<{ pan: number; tilt: number; zoom: number }> {
  const xml = await ptzCall(cam, 'GetStatus');
  const pt = /<tt:PanTilt x="([-\d.]+)" y="([-\d.]+)"/.exec(xml);
  const z = /<tt:Zoom x="([-\d.]+)"/.exec(xml);
  if (!pt || !z) throw new Error(`GetStatus: ${xml.slice(0, 200)}`);
  return { pan: Number(pt[1]), tilt: Number(pt[2]), zoom: Number(z[1]) };
}

async function presetsOf(cam: SimCameraInfo): Promise<Map<string, { pan: number; tilt: number; zoom: number }>> {
  const xml = await ptzCall(cam, 'GetPresets');
  const out = new Map<string, { pan: number; tilt: number; zoom: number }>();
  for (const m of xml.matchAll(
    /<tptz:Preset token="([^"]+)">.*?<tt:PanTilt x="([-\d.]+)" y="([-\d.]+)".*?<tt:Zoom x="([-\d.]+)"/g,
  ))
    out.set(m[1]!, { pan: Number(m[2]), tilt: Number(m[3]), zoom: Number(m[4]) });
  return out;
}

const near = (a: { pan: number; tilt: number; zoom: number }, b: { pan: number; tilt: number; zoom: number }) =>
  Math.abs(a.pan - b.pan) < 0.01 && Math.abs(a.tilt - b.tilt) < 0.01 && Math.abs(a.zoom - b.zoom) < 0.01;

describe.skipIf(skip)('the PTZ pad and the frame-rate badge', () => {
  let h: BrowserHarness;
  const sims: Simulator[] = [];
  let block: LoopbackBlock;
  const clipDirs: string[] = [];
  let dome: SimCameraInfo;
  let current: TracedPage | null = null;

  /** A simulator of one camera at `fps`, its clips encoded before the tests (until then it sends no video). */
  async function simAt(firstIp: string, fps: number, ptz: boolean): Promise<SimCameraInfo> {
    const clipDir = mkdtempSync(path.join(tmpdir(), 'ccc-pad-clips-'));
    clipDirs.push(clipDir);
    const sim = await startSimulator({
      cameras: defaultCameraSpecs(1, { firstIp, seed: fps }).map((s) => ({ ...s, ptz, clockOffsetSec: 0 })),
      clipDir,
      onvifPort: 0,
      rtspPort: 0,
      discovery: false,
      streamOverrides: { main: { width: 320, height: 180, fps }, sub: { width: 320, height: 180, fps } },
      prewarm: true,
    });
    sims.push(sim);
    for (const end = Date.now() + 60_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
      const s = sim.stats();
      if (s.prewarmQueued + s.prewarmRunning + s.ffmpegRunning === 0) break;
    }
    return sim.cameras[0]!;
  }

  beforeAll(async () => {
    block = await claimLoopbackBlock();
    dome = await simAt(block.host(1), 15, true);
    const fixed = await simAt(block.host(2), 25, false);
    h = await startBrowserHarness({ cameras: 10, relay: true });
    const tech = client(h.server.api, await h.server.login('tech'));
    const village = await firstVillage(tech);
    await registerSimCamera(tech, dome, { name: DOME, orgUnitId: village, ptz: true });
    await registerSimCamera(tech, fixed, { name: FIXED, orgUnitId: village, ptz: false });
  }, 180_000);

  afterEach(async () => {
    const errors = current?.errors ?? [];
    const requests = current?.requests ?? [];
    await current?.context.close();
    current = null;
    expect(errors, 'uncaught errors in the page').toEqual([]);
    expect(offOrigin(requests, h.server.url)).toEqual([]);
  });

  afterAll(async () => {
    await h?.close();
    for (const sim of sims) await sim.stop();
    await block?.release();
    for (const dir of clipDirs) rmSync(dir, { recursive: true, force: true });
  });

  async function openAndPlay(name: string) {
    current = await h.open();
    const { page } = current;
    await h.login(page, 'tech');
    await page.locator('.toolbar__search').fill(name);
    await page.locator('.result-count').filter({ hasText: '共 1 个点位' }).waitFor();
    await page
      .locator('.data-table--cameras tbody tr', { hasText: name })
      .getByRole('button', { name: '播放' })
      .click();
    const tile = page.locator('.live-panel .live-tile');
    await expect.poll(() => tile.getAttribute('data-state'), { timeout: 30_000 }).toBe('live');
    return { page, tile };
  }

  const fpsOn = async (tile: ReturnType<TracedPage['page']['locator']>) =>
    Number(
      /(\d+) fps/.exec(
        (await tile
          .locator('.live-tile__stats')
          .textContent()
          .catch(() => '')) ?? '',
      )?.[1],
    );

  it('reads 15 fps for a 15 fps camera and 25 for a 25 fps one', async () => {
    const first = await openAndPlay(DOME);
    await expect.poll(() => fpsOn(first.tile), { timeout: 30_000 }).toBe(15);
    await h.screenshot(first.page, 'live-pad-fps-15');
    await current!.context.close();
    current = null;
    const second = await openAndPlay(FIXED);
    await expect.poll(() => fpsOn(second.tile), { timeout: 30_000 }).toBe(25);
    await h.screenshot(second.page, 'live-pad-fps-25');
  }, 120_000);

  it('turns and zooms the dome, stores and deletes a preset, and patrols every preset', async () => {
    const { page } = await openAndPlay(DOME);
    const pad = page.locator('.ptz-pad');
    await pad.waitFor();
    await expect.poll(() => pad.locator('[data-preset-token]').count()).toBeGreaterThan(1);

    // Hold → : the dome pans right while held and stops on release.
    const start = await position(dome);
    const right = pad.locator('[data-dir="right"]');
    await right.hover();
    await page.mouse.down();
    await expect.poll(async () => (await position(dome)).pan).not.toBe(start.pan);
    await page.mouse.up();
    await expect
      .poll(async () => {
        const a = await position(dome);
        await new Promise((r) => setTimeout(r, 300));
        return near(a, await position(dome));
      })
      .toBe(true);
    // Hold 放大: zoom in.
    const zoomBefore = (await position(dome)).zoom;
    await pad.locator('[data-action="zoom-plus"]').hover();
    await page.mouse.down();
    await expect.poll(async () => (await position(dome)).zoom).toBeGreaterThan(zoomBefore);
    await page.mouse.up();

    // Store where it looks as a preset, then delete it again.
    const before = await presetsOf(dome);
    await pad.locator('input[name="ptz-preset-name"]').fill('测试新预置位');
    await pad.locator('[data-action="save-preset"]').click();
    await expect.poll(async () => (await presetsOf(dome)).size).toBe(before.size + 1);
    const added = [...(await presetsOf(dome)).keys()].find((k) => !before.has(k))!;
    const row = pad.locator(`[data-preset-token="${added}"]`);
    await expect(row.textContent()).resolves.toContain('测试新预置位');
    page.once('dialog', (d) => void d.accept());
    await row.locator('[data-action="remove-preset"]').click();
    await expect.poll(async () => (await presetsOf(dome)).has(added)).toBe(false);
    await expect.poll(() => row.count()).toBe(0);

    // 巡航: every preset in turn; the dome is where each says while it is on it.
    const presets = await presetsOf(dome);
    await pad.locator('input[name="ptz-dwell"]').fill('2');
    await pad.locator('[data-action="patrol-start"]').click();
    const visited = new Set<string>();
    while (visited.size < presets.size) {
      let at = '';
      await expect
        .poll(
          async () => {
            at = (await pad.getAttribute('data-patrol-at')) ?? '';
            return at !== '' && !visited.has(at);
          },
          { timeout: 20_000 },
        )
        .toBe(true);
      await expect.poll(async () => near(await position(dome), presets.get(at)!)).toBe(true);
      visited.add(at);
    }
    expect([...visited].sort()).toEqual([...presets.keys()].sort());
    await h.screenshot(page, 'live-pad-patrol');
    await pad.locator('[data-action="patrol-stop"]').click();
    await expect(pad.getAttribute('data-patrol')).resolves.toBe('stopped');
  }, 120_000);
});
