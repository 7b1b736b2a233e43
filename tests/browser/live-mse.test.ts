/**
 * The low-latency live path in Debian's Chromium (issue 15): a 16-tile wall plays every tile over ONE
 * WebSocket (fMP4 → MediaSource), no HLS request at all, every video's currentTime advancing; with that
 * socket blocked, every tile falls back to HLS by itself and plays; an H.265 camera, which this Chromium
 * cannot decode (MediaSource.isTypeSupported says no), plays over HLS (re-encoded) in its tile. Real server,
 * real relay (ffmpeg), sixteen simulated cameras and an HTTP MPEG-TS H.265 source.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type { WallScreenView } from '../../server/src/api/contract.ts';
import { LIVE_PATH } from '../../server/src/api/live.ts';
import { resolveFfmpeg } from '../../streams/src/index.ts';
import { client, registerSimCamera } from '../helpers/server.ts';
import {
  offOrigin,
  skipWithoutChromium,
  startBrowserHarness,
  type BrowserHarness,
  type TracedPage,
} from './harness.ts';

const ffmpeg = resolveFfmpeg({ env: process.env, exists: (f) => existsSync(f) });
if (!ffmpeg.ok) console.warn(`tests/browser/live-mse.test.ts: skipped, ${ffmpeg.error}`);
const skip = skipWithoutChromium('tests/browser/live-mse.test.ts') || !ffmpeg.ok;

const TILES = 16;
const tile = (page: Page, i: number) => page.locator(`.wall-tile[data-index="${i}"] .wall-layer--front .live-tile`);
const times = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLVideoElement>('.wall-layer--front video')].map((v) => v.currentTime),
  );

describe.skipIf(skip)('low-latency tiles over one WebSocket', () => {
  let h: BrowserHarness;
  let sim: Simulator;
  let block: LoopbackBlock;
  let clipDir: string;
  let screenId = 0;
  let ids: number[] = [];
  let current: TracedPage | null = null;
  /** An H.265 camera: MPEG-TS over HTTP at its own pace. */
  let hevc: http.Server | undefined;
  let hevcUrl = '';

  beforeAll(async () => {
    block = await claimLoopbackBlock();
    clipDir = mkdtempSync(path.join(tmpdir(), 'ccc-mse-clips-'));
    sim = await startSimulator({
      cameras: defaultCameraSpecs(TILES, { firstIp: block.host(1), seed: 151 }).map((s) => ({
        ...s,
        clockOffsetSec: 0,
        faults: {},
      })),
      clipDir,
      onvifPort: 0,
      rtspPort: 0,
      discovery: false,
      clipMode: 'shared',
      streamOverrides: { main: { width: 640, height: 360, fps: 10 }, sub: { width: 320, height: 180, fps: 10 } },
    });
    h = await startBrowserHarness({ cameras: 0, relay: true });
    const tech = client(h.server.api, await h.server.login('tech'));
    const orgs = (await tech.get('/org-units')).json as { id: number; level: string }[];
    const village = orgs.find((o) => o.level === 'village')!.id;
    ids = [];
    for (const [i, cam] of sim.cameras.entries()) {
      ids.push(await registerSimCamera(tech, cam, { name: `低延时墙${i}`, orgUnitId: village }));
    }
    const county = client(h.server.api, await h.server.login('county'));
    const screen = (await county.post('/walls', { name: '低延时大屏' })).json as WallScreenView;
    screenId = screen.id;
    const r = await county.put(`/walls/${screenId}/layout`, {
      version: screen.version,
      layout: { grid: '16', tiles: ids, tour: null },
    });
    expect(r.status, r.text).toBe(200);
  }, 180_000);

  afterEach(async () => {
    const c = current;
    current = null;
    if (!c) return;
    await c.context.close();
    expect(c.errors, 'uncaught errors in the page').toEqual([]);
    expect(offOrigin(c.requests, h.server.url), 'requests off the platform').toEqual([]);
  });

  afterAll(async () => {
    hevc?.closeAllConnections();
    hevc?.close();
    await h?.close();
    await sim?.stop();
    await block?.release();
    if (clipDir) rmSync(clipDir, { recursive: true, force: true });
  });

  const openWall = async (before?: (page: Page) => Promise<void>, grid = '16') => {
    current = await h.open();
    const { page } = current;
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(new URL(ws.url()).pathname));
    await before?.(page);
    await h.login(page, 'county');
    await page.goto(`/wall/${screenId}`);
    await expect.poll(() => page.locator('.wall').getAttribute('data-grid')).toBe(grid);
    return { page, sockets };
  };

  /** Every tile live on `transport`, and every video's clock moving. */
  const expectAllPlaying = async (page: Page, transport: 'mse' | 'hls') => {
    await page
      .locator('.wall-layer--front .live-tile')
      .nth(TILES - 1)
      .waitFor({ timeout: 30_000 });
    for (let i = 0; i < TILES; i++) {
      await expect
        .poll(
          async () => [
            await tile(page, i).getAttribute('data-transport'),
            await tile(page, i).getAttribute('data-state'),
          ],
          {
            timeout: 60_000,
            interval: 500,
          },
        )
        .toEqual([transport, 'live']);
    }
    const before = await times(page);
    expect(before).toHaveLength(TILES);
    await expect
      .poll(async () => (await times(page)).every((t, k) => t > before[k]! + 1), { timeout: 30_000, interval: 500 })
      .toBe(true);
  };

  it('plays 16 tiles over one WebSocket, no HLS requested, every currentTime advancing', async () => {
    const { page, sockets } = await openWall();
    await expectAllPlaying(page, 'mse');
    expect(sockets.filter((p) => p === LIVE_PATH)).toHaveLength(1);
    expect(current!.requests.filter((u) => new URL(u).pathname.startsWith('/streams/'))).toEqual([]);
    // The server sees one socket carrying sixteen tiles.
    expect(h.server.server.live.stats().sockets.map((s) => s.tiles)).toEqual([TILES]);
    await page.screenshot({ path: path.resolve('artifacts/browser/live-mse-16.png') });
  }, 180_000);

  it('a tile that leaves the screen stays subscribed for a grace period (warm), then lets go', async () => {
    const { page } = await openWall();
    await expectAllPlaying(page, 'mse');
    const tiles = () => h.server.server.live.stats().sockets.reduce((n, x) => n + x.tiles, 0);
    expect(tiles()).toBe(TILES);
    // Every state tile 0 takes from now on.
    await tile(page, 0).evaluate((el) => {
      const w = window as unknown as { states: string[] };
      w.states = [];
      new MutationObserver(() => w.states.push(el.getAttribute('data-state') ?? '')).observe(el, {
        attributes: true,
        attributeFilter: ['data-state'],
      });
    });
    const move = (x: string) =>
      page.locator('.wall-tile[data-index="0"]').evaluate((el, x) => ((el as HTMLElement).style.transform = x), x);
    // Off screen and back within the grace period: still subscribed, still playing, never reloaded.
    await move('translateX(-5000px)');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(tiles()).toBe(TILES);
    await move('');
    const before = (await times(page))[0]!;
    await expect.poll(async () => (await times(page))[0]! > before + 0.5, { timeout: 10_000 }).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { states: string[] }).states)).toEqual([]);
    // Off screen for good: after the grace period it unsubscribes.
    await move('translateX(-5000px)');
    await expect.poll(tiles, { timeout: 45_000, interval: 500 }).toBe(TILES - 1);
  }, 180_000);

  it('with the WebSocket blocked, every tile falls back to HLS by itself and plays', async () => {
    let blocked = 0;
    const { page } = await openWall(async (p) => {
      // The upgrade never reaches the server: the page sees its socket close at once.
      await p.routeWebSocket(`**${LIVE_PATH}`, (ws) => {
        blocked++;
        return ws.close({ code: 1011, reason: 'blocked by the test' });
      });
    });
    await expectAllPlaying(page, 'hls');
    // The page tried the socket once; after that failure new tiles go to HLS without trying again.
    expect(blocked).toBe(1);
    expect(current!.requests.some((u) => new URL(u).pathname.startsWith('/streams/'))).toBe(true);
    expect(h.server.server.live.stats().sockets).toEqual([]);
  }, 180_000);

  it('an H.265 camera this browser cannot decode plays over HLS (re-encoded) in its tile, by itself', async () => {
    const clip = path.join(clipDir, 'hevc.ts');
    // prettier-ignore
    execFileSync('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=10:duration=60',
      '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=10:min-keyint=10:log-level=error',
      '-f', 'mpegts', clip,
    ]);
    const data = readFileSync(clip);
    const perTick = Math.ceil(data.length / 600 / 188) * 188; // real-time pace: a tenth of a second per 100 ms
    hevc = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      let off = 0;
      const timer = setInterval(() => {
        if (off >= data.length) off = 0;
        res.write(data.subarray(off, off + perTick));
        off += perTick;
      }, 100);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((r) => hevc!.listen(0, block.host(200), r));
    hevcUrl = `http://${block.host(200)}:${(hevc.address() as AddressInfo).port}/live.ts`;
    const tech = client(h.server.api, await h.server.login('tech'));
    const orgs = (await tech.get('/org-units')).json as { id: number; level: string }[];
    const created = await tech.post('/cameras', {
      name: '低延时墙H265',
      networkId: 'xueliang',
      orgUnitId: orgs.find((o) => o.level === 'village')!.id,
      position: { lon: 118.7, lat: 31 },
      mainStreamUri: hevcUrl,
      subStreamUri: hevcUrl,
    });
    expect(created.status, created.text).toBe(201);
    const county = client(h.server.api, await h.server.login('county'));
    const screen = (await county.get(`/walls/${screenId}`)).json as WallScreenView;
    const r = await county.put(`/walls/${screenId}/layout`, {
      version: screen.version,
      layout: { grid: '4', tiles: [created.json.id as number, ids[0]!, null, null], tour: null },
    });
    expect(r.status, r.text).toBe(200);
    const { page } = await openWall(undefined, '4');
    await expect
      .poll(
        async () => [
          await tile(page, 0).getAttribute('data-transport'),
          await tile(page, 0).getAttribute('data-state'),
        ],
        {
          timeout: 60_000,
          interval: 500,
        },
      )
      .toEqual(['hls', 'live']);
    // Its neighbour, H.264, stays on the socket.
    await expect.poll(() => tile(page, 1).getAttribute('data-transport'), { timeout: 30_000 }).toBe('mse');
  }, 180_000);
});
