/**
 * 质量诊断 in the console (issue 16), end to end: simulated cameras over real RTSP and ffmpeg, the server's
 * own sweeps, and the page in Chromium. The fault list shows a faulty camera with its kind and a thumbnail
 * that loads; a technician opens a camera that turned away ('moved'), sees its reference beside today's
 * picture, renews the reference, and the page shows the new one (today's picture) while the point leaves the
 * fault list; a township user sees only its own points and cannot fetch another township's thumbnail.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type { QualityPointDetail } from '../../server/src/api/contract.ts';
import { resolveFfmpeg } from '../../streams/src/index.ts';
import { simFaultsOf, type Injected } from '../quality/fault-set.ts';
import { client, registerSimCamera } from '../helpers/server.ts';
import { skipWithoutChromium, startBrowserHarness, type BrowserHarness, type TracedPage } from './harness.ts';

const ffmpeg = resolveFfmpeg({ env: process.env, exists: (f) => existsSync(f) });
if (!ffmpeg.ok) console.warn(`tests/browser/quality.test.ts: skipped, ${ffmpeg.error}`);
const skip = skipWithoutChromium('tests/browser/quality.test.ts') || !ffmpeg.ok;

/** Township 1 (城关镇): a good camera, one turned away, one covered; township 2 (东湖街道): one good camera. */
const CAMERAS: { name: string; town: 1 | 2; fault: Injected }[] = [
  { name: '质量浏览器正常一', town: 1, fault: 'good' },
  { name: '质量浏览器转向', town: 1, fault: 'moved' },
  { name: '质量浏览器遮挡', town: 1, fault: 'covered' },
  { name: '质量浏览器东湖', town: 2, fault: 'good' },
];
const nameOf = (fault: Injected, town: 1 | 2 = 1) => CAMERAS.find((c) => c.fault === fault && c.town === town)!.name;

/** Whether an <img> has decoded a picture (not a broken image). */
const loaded = (page: Page, selector: string) =>
  page.waitForFunction((sel) => {
    const img = document.querySelector<HTMLImageElement>(sel);
    return !!img && img.complete && img.naturalWidth > 0;
  }, selector);

/** The bytes behind two <img>s of the panel, fetched with the page's own session: equal or not. */
const samePicture = (page: Page) =>
  page.evaluate(async () => {
    const [today, reference] = [...document.querySelectorAll<HTMLImageElement>('.quality__pictures img')];
    if (!today || !reference) throw new Error('the panel shows no two pictures');
    const bytes = async (src: string) => new Uint8Array(await (await fetch(src)).arrayBuffer());
    const [a, b] = [await bytes(today.src), await bytes(reference.src)];
    return a.length > 0 && a.length === b.length && a.every((v, i) => v === b[i]);
  });

describe.skipIf(skip)('the 质量诊断 page', () => {
  let h: BrowserHarness;
  let sim: Simulator;
  let block: LoopbackBlock;
  let clipDir: string;
  const ids = new Map<string, number>();
  let current: TracedPage | null = null;

  beforeAll(async () => {
    block = await claimLoopbackBlock();
    clipDir = mkdtempSync(path.join(tmpdir(), 'ccc-quality-browser-clips-'));
    sim = await startSimulator({
      cameras: defaultCameraSpecs(CAMERAS.length, { firstIp: block.host(1), seed: 61 }).map((s) => ({
        ...s,
        clockOffsetSec: 0,
        faults: {},
      })),
      clipDir,
      onvifPort: 0,
      rtspPort: 0,
      discovery: false,
      streamOverrides: { main: { width: 320, height: 180, fps: 10 }, sub: { width: 480, height: 270, fps: 15 } },
      prewarm: { stream: 'sub' },
    });
    h = await startBrowserHarness({
      cameras: 0,
      diagnosis: true,
      overrides: { quality: { concurrency: 4, timeoutMs: 12_000 } },
    });
    const t = h.server;
    const tech = client(t.api, await t.login('tech'));
    const units = (await tech.get('/org-units')).json as { id: number; parentId: number | null }[];
    const townOf = async (user: string) =>
      (await client(t.api, await t.login(user)).get('/auth/me')).json.orgUnitId as number;
    const towns = { 1: await townOf('township1'), 2: await townOf('township2') };
    for (const [i, cam] of CAMERAS.entries()) {
      const village = units.find((u) => u.parentId === towns[cam.town])!.id;
      ids.set(cam.name, await registerSimCamera(tech, sim.cameras[i]!, { name: cam.name, orgUnitId: village }));
    }
    for (const end = Date.now() + 90_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
      const s = sim.stats();
      if (s.prewarmQueued + s.prewarmRunning + s.ffmpegRunning === 0) break;
    }
    // First sweep: every camera good, its picture the reference. Then the faults, and a second sweep.
    expect((await tech.post('/quality/sweeps', {})).status).toBe(202);
    await t.server.app.quality.settled();
    for (const [i, cam] of CAMERAS.entries()) await sim.setFaults(sim.cameras[i]!.code, simFaultsOf(cam.fault));
    await sim.prepareClips(
      sim.cameras.map((c) => c.code),
      'sub',
    );
    expect((await tech.post('/quality/sweeps', {})).status).toBe(202);
    await t.server.app.quality.settled();
    const moved = (await tech.get(`/quality/points/${ids.get(nameOf('moved'))}`)).json as QualityPointDetail;
    expect(moved.kinds, 'the simulator turned the camera away before the page is opened').toEqual(['scene_change']);
  }, 240_000);

  afterEach(async () => {
    if (current) {
      expect(current.errors).toEqual([]);
      await current.context.close();
      current = null;
    }
  });

  afterAll(async () => {
    await h?.close();
    await sim?.stop();
    await block?.release();
    if (clipDir) rmSync(clipDir, { recursive: true, force: true });
  });

  const openAs = async (user: string) => {
    current = await h.open();
    await h.login(current.page, user);
    await current.page.goto('/quality');
    await current.page.locator('[data-table="quality"]').waitFor();
    return current.page;
  };
  const row = (page: Page, name: string) =>
    page.locator(`[data-table="quality"] tbody tr[data-camera-id="${ids.get(name)}"]`);

  it('lists the faulty cameras with their kind and a thumbnail, not the good ones', async () => {
    const page = await openAs('tech1');
    const covered = row(page, nameOf('covered'));
    await covered.waitFor();
    await expect.poll(() => covered.locator('[data-kinds]').getAttribute('data-kinds')).toBe('occlusion');
    expect(await covered.locator('.quality-kinds').textContent()).toContain('遮挡');
    expect(await covered.locator('[data-quality]').getAttribute('data-quality')).toBe('faulty');
    await loaded(page, `tr[data-camera-id="${ids.get(nameOf('covered'))}"] img.quality__thumb`);
    const moved = row(page, nameOf('moved'));
    expect(await moved.locator('[data-kinds]').getAttribute('data-kinds')).toBe('scene_change');
    expect(await moved.locator('.quality-kinds').textContent()).toContain('场景变化');
    await loaded(page, `tr[data-camera-id="${ids.get(nameOf('moved'))}"] img.quality__thumb`);
    // The list is of faults: the good camera is not in it.
    expect(await row(page, nameOf('good')).count()).toBe(0);
    await h.screenshot(page, 'quality-faults');
  }, 60_000);

  it("a technician renews a turned camera's reference and the page shows the new one", async () => {
    const page = await openAs('tech1');
    const moved = row(page, nameOf('moved'));
    await moved.click();
    const panel = page.locator('[data-panel="quality-point"]');
    await panel.waitFor();
    expect(await panel.locator('h2').textContent()).toBe(nameOf('moved'));
    await loaded(page, '.quality__pictures figure:nth-child(1) img');
    await loaded(page, '.quality__pictures figure:nth-child(2) img');
    const before = await panel.locator('.quality__pictures figure:nth-child(2) img').getAttribute('src');
    // Turned away: the reference is the old scene, not today's picture.
    expect(await samePicture(page)).toBe(false);
    await h.screenshot(page, 'quality-moved-before');
    await panel.locator('[data-action="renew-reference"]').click();
    const reference = panel.locator('.quality__pictures figure:nth-child(2) img');
    await expect.poll(() => reference.getAttribute('src')).not.toBe(before);
    await loaded(page, '.quality__pictures figure:nth-child(2) img');
    expect(await samePicture(page)).toBe(true);
    // Good again, so it leaves the fault list.
    await expect.poll(() => moved.count()).toBe(0);
    await h.screenshot(page, 'quality-moved-renewed');
    const after = (
      await client(h.server.api, await h.server.login('tech1')).get(`/quality/points/${ids.get(nameOf('moved'))}`)
    ).json as QualityPointDetail;
    expect(after.referenceBy).toBe('tech1');
    expect(after.quality).toBe('good');
  }, 60_000);

  it('a township user sees only its own points', async () => {
    const page = await openAs('township2');
    await page.locator('select[name="quality-status"]').selectOption('');
    const own = row(page, nameOf('good', 2));
    await own.waitFor();
    await loaded(page, `tr[data-camera-id="${ids.get(nameOf('good', 2))}"] img.quality__thumb`);
    const shown = await page
      .locator('[data-table="quality"] tbody tr[data-camera-id]')
      .evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset['cameraId'])));
    expect(shown).toEqual([ids.get(nameOf('good', 2))]);
    // Its unit choices are its own township (and below), never township 1.
    const units = await page.locator('select[name="quality-unit"] option').allTextContents();
    expect(units).not.toContain('城关镇');
    expect(await page.locator('body').textContent()).not.toContain(nameOf('covered'));
    // Township 1's thumbnail and point, asked for by id from this page's session: as if they did not exist.
    const tech = client(h.server.api, await h.server.login('tech'));
    const covered = (await tech.get(`/quality/points/${ids.get(nameOf('covered'))}`)).json as QualityPointDetail;
    const statuses = await page.evaluate(
      async ([checkId, cameraId]) => [
        (await fetch(`/api/v1/quality/checks/${checkId}/thumbnail.jpg`)).status,
        (await fetch(`/api/v1/quality/points/${cameraId}`)).status,
      ],
      [covered.lastCheckId, covered.cameraId] as const,
    );
    expect(statuses).toEqual([404, 404]);
    await h.screenshot(page, 'quality-township2');
  }, 60_000);
});
