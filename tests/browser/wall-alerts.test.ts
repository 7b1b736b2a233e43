/**
 * The unattended wall and alerts, and the wall read from 5 m (issue 17), in
 * Debian's Chromium against the real server (no video needed: tiles show
 * their cameras' names and states whatever the relay does).
 *
 * - A red alert in township 1 makes township 1's kiosk screen pop it up,
 *   show a banner, sound, mark the tile of its camera, and put a linked
 *   camera into the tile the screen's rule allows; township 2's kiosk shows
 *   none of it (and does show its own township's alert).
 * - An alert below the screen's minimum level shows nothing.
 * - The operator changes the rule on the wall; the kiosk follows.
 * - At 1920×1080 with 16 tiles every tile name is whole (measured), under the
 *   picture rather than over it; a name too long for two lines scrolls.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type {
  AlertView,
  CameraPointView,
  OrgUnitView,
  WallLayout,
  WallScreenSettings,
  WallScreenView,
} from '../../server/src/api/contract.ts';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { client } from '../helpers/server.ts';
import { ingestAlert, offOrigin, skipWithoutChromium, startBrowserHarness, type BrowserHarness } from './harness.ts';

const skip = skipWithoutChromium('tests/browser/wall-alerts.test.ts');

/** Long names as counties write them: unit, place, side, number, kind. */
const NAME = (i: number) => `城关镇王庄村学校门口东侧${i + 1}号高清球机`;
const LONGEST = '城关镇王庄村村委会至学校门口主干道东侧路口人行横道北侧治安监控高清球机八号机位';

describe.skipIf(skip)('alerts on the unattended wall, and the wall read from 5 m', () => {
  let h: BrowserHarness;
  let browser: Browser;
  let key = '';
  const t1Cams: number[] = [];
  let t2Cam = 0;
  let t1Screen: WallScreenView;
  let t2Screen: WallScreenView;
  let t1Kiosk = '';
  let t2Kiosk = '';
  const opened: { context: BrowserContext; errors: string[]; requests: string[] }[] = [];

  const settings = (patch: Partial<WallScreenSettings> = {}): WallScreenSettings => ({
    large: false,
    alertMinLevel: 'orange',
    alertSound: true,
    alertTiles: [3],
    alertHoldSec: 600,
    ...patch,
  });

  /** A browser window: `kioskUrl` signs an unattended screen in; otherwise a signed-in operator. */
  async function open(viewport = { width: 1600, height: 900 }): Promise<Page> {
    const context = await browser.newContext({
      baseURL: h.server.url,
      viewport,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    const entry = { context, errors: [] as string[], requests: [] as string[] };
    opened.push(entry);
    context.on('request', (r) => entry.requests.push(r.url()));
    // Counts the tones the page plays (WebAudio oscillators): the alarm sound, without speakers.
    await context.addInitScript(() => {
      const w = window as unknown as { __tones: number };
      w.__tones = 0;
      const create = AudioContext.prototype.createOscillator;
      AudioContext.prototype.createOscillator = function (this: AudioContext) {
        w.__tones++;
        return create.call(this);
      };
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => entry.errors.push(e.message));
    page.setDefaultTimeout(15_000);
    return page;
  }

  const login = async (page: Page, username: string) => {
    await page.goto('/');
    await page.locator('input[name=username]').fill(username);
    await page.locator('input[name=password]').fill(DEMO_PASSWORD);
    await page.locator('form.login__card button[type=submit]').click();
    await page.locator('.data-table--cameras tbody tr').first().waitFor();
  };

  const tones = (page: Page) => page.evaluate(() => (window as unknown as { __tones: number }).__tones);
  const tile = (page: Page, i: number) => page.locator(`.wall-tile[data-index="${i}"]`);

  async function saveLayout(username: string, screenId: number, layout: WallLayout) {
    const who = client(h.server.api, await h.server.login(username));
    const screen = (await who.get(`/walls/${screenId}`)).json as WallScreenView;
    const r = await who.put(`/walls/${screenId}/layout`, { version: screen.version, layout });
    expect(r.status, r.text).toBe(200);
  }

  beforeAll(async () => {
    h = await startBrowserHarness();
    browser = h.browser;
    const admin = client(h.server.api, await h.server.login('admin'));
    const tech = client(h.server.api, await h.server.login('tech'));
    const township1 = client(h.server.api, await h.server.login('township1'));
    const township2 = client(h.server.api, await h.server.login('township2'));
    const units = (await admin.get('/org-units')).json as OrgUnitView[];
    const root = units.find((u) => u.parentId === null)!;
    const t1 = ((await township1.get('/auth/me')).json as { orgUnitId: number }).orgUnitId;
    const village = units.find((u) => u.parentId === t1)!;
    key = ((await admin.post('/alert-sources', { name: '大屏告警测试', orgUnitId: root.id })).json as { key: string })
      .key;
    // Sixteen points in a row, 30 m apart: each is linked to its neighbours by an alert.
    for (let i = 0; i < 16; i++) {
      const r = await tech.post('/cameras', {
        name: i === 15 ? LONGEST : NAME(i),
        networkId: 'xueliang',
        orgUnitId: village.id,
        position: { lon: 118.9 + i * 0.0003, lat: 31.1 },
      });
      expect(r.status, r.text).toBe(201);
      t1Cams.push((r.json as CameraPointView).id);
    }
    t2Cam = ((await township2.get('/cameras?limit=1')).json as { items: CameraPointView[] }).items[0]!.id;

    t1Screen = (
      await township1.post('/walls', {
        name: '城关镇值班大屏',
        layout: { grid: '4', tiles: [t1Cams[0]!, t1Cams[5]!, null, null], tour: null, settings: settings() },
      })
    ).json as WallScreenView;
    t2Screen = (
      await township2.post('/walls', {
        name: '东湖街道值班大屏',
        layout: { grid: '4', tiles: [t2Cam, null, null, null], tour: null, settings: settings() },
      })
    ).json as WallScreenView;
    t1Kiosk = ((await township1.post(`/walls/${t1Screen.id}/kiosk-token`)).json as { url: string }).url;
    t2Kiosk = ((await township2.post(`/walls/${t2Screen.id}/kiosk-token`)).json as { url: string }).url;
  });

  afterEach(async () => {
    for (const o of opened.splice(0)) {
      await o.context.close();
      expect(o.errors, 'uncaught errors in the page').toEqual([]);
      expect(offOrigin(o.requests, h.server.url), 'requests off the platform').toEqual([]);
    }
  });

  afterAll(async () => {
    await h?.close();
  }, 90_000);

  it("pops a red alert up on its township's kiosk, with banner, sound, marked tile and a linked camera in the allowed tile; the other township's kiosk shows nothing", async () => {
    const kiosk1 = await open({ width: 1920, height: 1080 });
    const kiosk2 = await open({ width: 1920, height: 1080 });
    await kiosk1.goto(t1Kiosk);
    await kiosk2.goto(t2Kiosk);
    for (const page of [kiosk1, kiosk2]) {
      await page.locator('.wall--kiosk .wall-tile').first().waitFor();
      // Subscribed: the socket is in the unit's room before anything is sent (the page's alert replay ran).
      await expect.poll(() => page.evaluate(() => document.querySelectorAll('.wall-tile').length)).toBe(4);
    }
    await expect.poll(() => tile(kiosk1, 0).getAttribute('data-camera-id')).toBe(String(t1Cams[0]));
    // Give both sockets a moment to join their rooms: a round trip through an ingest nobody shows (blue).
    const blue: AlertView = await ingestAlert(h.server, key, {
      type: 'motion',
      level: 'blue',
      cameraId: t1Cams[5],
      title: '低于大屏级别的移动侦测',
    });
    const red: AlertView = await ingestAlert(h.server, key, {
      type: 'alarm_button',
      level: 'red',
      cameraId: t1Cams[0],
      title: '学校门口一键报警',
      description: '东侧报警柱被按下',
    });
    expect(red.linkedCameraIds.length).toBeGreaterThan(1);

    // Township 1's kiosk: pop-up, banner, sound.
    const popup = kiosk1.locator(`.wall-alert-popup[data-alert-id="${red.id}"]`);
    await popup.waitFor();
    await expect(popup.textContent()).resolves.toContain('学校门口一键报警');
    await expect(popup.locator('button').count()).resolves.toBe(0);
    const banner = kiosk1.locator('.wall-alert-banner');
    await expect(banner.getAttribute('data-alert-id')).resolves.toBe(String(red.id));
    await expect(banner.textContent()).resolves.toContain('学校门口一键报警');
    await expect.poll(() => tones(kiosk1)).toBeGreaterThan(0);
    // The tile of its camera is marked red; the blue alert's camera (tile 1) is not marked.
    await expect.poll(() => tile(kiosk1, 0).getAttribute('data-alert-level')).toBe('red');
    await expect(tile(kiosk1, 1).getAttribute('data-alert-level')).resolves.toBe(
      red.linkedCameraIds.includes(t1Cams[5]!) ? 'red' : '',
    );
    expect(blue.id).not.toBe(red.id);
    await expect(kiosk1.locator(`.wall-alert-popup[data-alert-id="${blue.id}"]`).count()).resolves.toBe(0);
    // The first linked camera not on screen takes tile 3 (the rule allows that one only); tile 2 stays empty.
    const expected = [red.cameraId!, ...red.linkedCameraIds].find((id) => ![t1Cams[0], t1Cams[5]].includes(id))!;
    await expect.poll(() => tile(kiosk1, 3).getAttribute('data-camera-id')).toBe(String(expected));
    await expect(tile(kiosk1, 3).getAttribute('data-taken-by')).resolves.toBe(String(red.id));
    await expect(tile(kiosk1, 3).getAttribute('data-alert-level')).resolves.toBe('red');
    await expect(tile(kiosk1, 2).getAttribute('data-camera-id')).resolves.toBe('');
    await h.screenshot(kiosk1, 'wall-kiosk-red-alert');

    // Township 2's kiosk: nothing of it.
    await expect(kiosk2.locator('.wall-alert-popup, .wall-alert-banner, .wall-tile--alert').count()).resolves.toBe(0);
    await expect(tones(kiosk2)).resolves.toBe(0);
    // …though it is live: its own township's alert does show there, and not on township 1's kiosk.
    const own = await ingestAlert(h.server, key, {
      type: 'fire',
      level: 'orange',
      cameraId: t2Cam,
      title: '东湖街道烟火',
    });
    await kiosk2.locator(`.wall-alert-popup[data-alert-id="${own.id}"]`).waitFor();
    await expect.poll(() => tile(kiosk2, 0).getAttribute('data-alert-level')).toBe('orange');
    await h.screenshot(kiosk2, 'wall-kiosk-township2');
    await expect(kiosk1.locator(`[data-alert-id="${own.id}"]`).count()).resolves.toBe(0);
    await expect(kiosk1.locator('.wall-alert-banner').getAttribute('data-alert-id')).resolves.toBe(String(red.id));

    // Acknowledged at the console: the pop-up and banner go; the cameras stay while the alert is open.
    const officer = client(h.server.api, await h.server.login('township1'));
    expect((await officer.post(`/alerts/${red.id}/ack`, {})).status).toBe(200);
    await kiosk1.locator('.wall-alert-popup').waitFor({ state: 'detached' });
    await kiosk1.locator('.wall-alert-banner').waitFor({ state: 'detached' });
    await expect(tile(kiosk1, 3).getAttribute('data-camera-id')).resolves.toBe(String(expected));
    // Resolved: the taken tile goes back to the layout, the marks go.
    expect((await officer.post(`/alerts/${red.id}/close`, {})).status).toBe(200);
    await expect.poll(() => tile(kiosk1, 3).getAttribute('data-camera-id')).toBe('');
    await expect.poll(() => tile(kiosk1, 0).getAttribute('data-alert-level')).toBe('');
  }, 90_000);

  it('follows the rule the operator sets on the wall: minimum level, tiles that may be taken, large-screen mode, on the kiosk too', async () => {
    await saveLayout('township1', t1Screen.id, {
      grid: '4',
      tiles: [t1Cams[0]!, null, null, null],
      tour: null,
      settings: settings(),
    });
    const kiosk = await open({ width: 1920, height: 1080 });
    await kiosk.goto(t1Kiosk);
    await tile(kiosk, 0).waitFor();
    const operator = await open();
    await login(operator, 'township1');
    await operator.goto(`/wall/${t1Screen.id}`);
    await operator.getByRole('button', { name: '告警与显示' }).click();
    const panel = operator.locator('.wall-settings');
    await panel.locator('select[name="wall-alert-level"]').selectOption('yellow');
    await panel.locator('button[data-tile="1"]').click();
    await panel.locator('button[data-tile="3"]').click();
    await panel.locator('input[name="wall-large"]').check();
    await h.screenshot(operator, 'wall-settings');
    const stored = async () =>
      (
        (await client(h.server.api, await h.server.login('township1')).get(`/walls/${t1Screen.id}`))
          .json as WallScreenView
      ).layout.settings;
    await expect.poll(stored).toEqual(settings({ alertMinLevel: 'yellow', alertTiles: [1], large: true }));
    // The kiosk took the new rule without a reload.
    await kiosk.locator('.wall--kiosk.wall--large').waitFor();
    const yellow = await ingestAlert(h.server, key, {
      type: 'crowd',
      level: 'yellow',
      cameraId: t1Cams[10],
      title: '广场人员聚集',
    });
    await kiosk.locator(`.wall-alert-popup[data-alert-id="${yellow.id}"]`).waitFor();
    await expect.poll(() => tile(kiosk, 1).getAttribute('data-taken-by')).toBe(String(yellow.id));
    await expect(tile(kiosk, 1).getAttribute('data-camera-id')).resolves.toBe(String(t1Cams[10]));
    // The operator's own wall reacts the same way, and can close the pop-up (its window, not the alert).
    const own = operator.locator(`.wall-alert-popup[data-alert-id="${yellow.id}"]`);
    await own.waitFor();
    await own.getByRole('button', { name: '关闭窗口' }).click();
    await own.waitFor({ state: 'detached' });
    await expect(operator.locator('.wall-alert-banner').getAttribute('data-alert-id')).resolves.toBe(String(yellow.id));
    await h.screenshot(kiosk, 'wall-kiosk-large-yellow');
  }, 90_000);

  it('shows every tile name whole on 16 tiles at 1920×1080, below the picture; a name too long for two lines scrolls', async () => {
    const county = client(h.server.api, await h.server.login('county'));
    const screen = (await county.post('/walls', { name: '16 路可读性' })).json as WallScreenView;
    await saveLayout('county', screen.id, { grid: '16', tiles: t1Cams, tour: null });
    const page = await open({ width: 1920, height: 1080 });
    await login(page, 'county');
    await page.goto(`/wall/${screen.id}`);
    await expect.poll(() => page.locator('.wall-tile__name').count()).toBe(16);
    await page.locator('.wall-map__canvas').waitFor();
    await h.screenshot(page, 'wall-16-names');
    const measured = await page.locator('.wall-tile').evaluateAll((tiles) =>
      tiles.map((t) => {
        const name = t.querySelector<HTMLElement>('.wall-tile__name')!;
        const text = name.querySelector<HTMLElement>('.wall-tile__name-text')!;
        const picture = t.querySelector<HTMLElement>('.wall-tile__picture')!.getBoundingClientRect();
        const bar = t.querySelector<HTMLElement>('.wall-tile__bar')!.getBoundingClientRect();
        const box = name.getBoundingClientRect();
        const words = text.getBoundingClientRect();
        return {
          text: text.textContent,
          marquee: name.dataset['marquee'] === 'true',
          shift: Number.parseFloat(getComputedStyle(name).getPropertyValue('--marquee-shift') || '0'),
          clippedX: name.scrollWidth - name.clientWidth,
          clippedY: name.scrollHeight - name.clientHeight,
          inside: words.left >= box.left - 0.5 && words.bottom <= box.bottom + 0.5 && words.top >= box.top - 0.5,
          textWidth: text.scrollWidth,
          boxWidth: name.clientWidth,
          fontPx: Number.parseFloat(getComputedStyle(name).fontSize),
          tileWidth: t.getBoundingClientRect().width,
          barBelowPicture: bar.top >= picture.bottom - 0.5,
        };
      }),
    );
    expect(measured).toHaveLength(16);
    for (const m of measured) {
      expect(m.barBelowPicture, `${m.text}: the name bar sits below the picture`).toBe(true);
      expect(m.fontPx, `${m.text}: legible size`).toBeGreaterThanOrEqual(15);
      if (m.text === LONGEST) {
        // Too long for two lines: one line that scrolls by exactly what does not fit.
        expect(m.marquee).toBe(true);
        expect(Math.abs(-m.shift - (m.textWidth - m.boxWidth))).toBeLessThanOrEqual(2);
      } else {
        expect(m.marquee, `${m.text}: not scrolling`).toBe(false);
        expect(m.clippedX, `${m.text}: nothing cut on the right`).toBeLessThanOrEqual(0);
        expect(m.clippedY, `${m.text}: nothing cut below`).toBeLessThanOrEqual(0);
        expect(m.inside, `${m.text}: drawn inside its box`).toBe(true);
      }
    }
    // The player's own badge (it sat on the camera's clock) is not drawn on the wall.
    await expect(
      page.locator('.wall .live-tile__badge').evaluateAll((els) => els.filter((e) => e.getClientRects().length).length),
    ).resolves.toBe(0);
    // The same screen on its kiosk, tiles twice as wide: the names grow with them.
    const kioskUrl = ((await county.post(`/walls/${screen.id}/kiosk-token`)).json as { url: string }).url;
    const kiosk = await open({ width: 1920, height: 1080 });
    await kiosk.goto(kioskUrl);
    await expect.poll(() => kiosk.locator('.wall-tile__name').count()).toBe(16);
    const kioskFont = await kiosk
      .locator('.wall-tile__name')
      .first()
      .evaluate((e) => Number.parseFloat(getComputedStyle(e).fontSize));
    expect(kioskFont).toBeGreaterThan(measured[0]!.fontPx * 1.4);
    await h.screenshot(kiosk, 'wall-kiosk-16-names');
  }, 90_000);
});
