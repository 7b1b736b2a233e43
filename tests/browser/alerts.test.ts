/**
 * Alerts in the browser, end to end: a device key ingests a red alarm through
 * the real API (Node fetch), the county officer's console shows it live in the
 * alert list with its level colour and pops it up with the linked cameras,
 * acknowledging it (with a note) changes its status; a yellow alert is handled
 * from the list; a township-2 operator never sees an alert placed in township 1.
 * An alert's own page shows its stored snapshot, history and links (issue 17);
 * the list filters and exports; "close the alert" and "close the window" read apart.
 */
import type { AlertView, CameraPointView, OrgUnitView } from '../../server/src/api/contract.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { client } from '../helpers/server.ts';
import {
  offOrigin,
  skipWithoutChromium,
  startBrowserHarness,
  type BrowserHarness,
  type TracedPage,
  ingestAlert,
} from './harness.ts';

const skip = skipWithoutChromium('tests/browser/alerts.test.ts');

describe.skipIf(skip)('alerts in the browser console', () => {
  let h: BrowserHarness;
  let key: string;
  let camera: CameraPointView;
  const opened: TracedPage[] = [];

  const open = async () => {
    const traced = await h.open();
    opened.push(traced);
    return traced;
  };

  const ingest = (body: unknown): Promise<AlertView> => ingestAlert(h.server, key, body);

  const goToAlerts = async (traced: TracedPage) => {
    await traced.page.locator('a.topbar__nav-item[href="/alerts"]').click();
    await traced.page.locator('.data-table--alerts').waitFor();
  };

  beforeAll(async () => {
    h = await startBrowserHarness();
    const admin = client(h.server.api, await h.server.login('admin'));
    const county = ((await admin.get('/org-units')).json as OrgUnitView[]).find((u) => u.parentId === null)!;
    const source = await admin.post('/alert-sources', { name: '浏览器测试报警柱', orgUnitId: county.id });
    expect(source.status, source.text).toBe(201);
    key = source.json.key as string;
    // A point in township 1: the alert takes its org unit from the camera.
    const township1 = client(h.server.api, await h.server.login('township1'));
    const cams = await township1.get('/cameras?limit=1');
    expect(cams.status).toBe(200);
    camera = (cams.json as { items: CameraPointView[] }).items[0]!;
    expect(camera).toBeDefined();
  });

  afterEach(() => {
    for (const traced of opened.splice(0)) {
      expect(traced.errors, 'uncaught errors in the page').toEqual([]);
      expect(offOrigin(traced.requests, h.server.url)).toEqual([]);
    }
  });

  afterAll(async () => {
    await h?.close();
  });

  it('shows a new red alert live, pops it up with its cameras, and acknowledges it', async () => {
    const officer = await open();
    const other = await open();
    await h.login(officer.page, 'county');
    await h.login(other.page, 'township2');
    await goToAlerts(officer);
    await goToAlerts(other);
    const { page } = officer;

    const red = await ingest({
      type: 'alarm_button',
      level: 'red',
      cameraId: camera.id,
      title: '浏览器测试一键报警',
      description: '学校门口一键报警柱被按下',
    });

    // Live in the list, with its level colour.
    const row = page.locator(`tr[data-alert-id="${red.id}"]`);
    await row.waitFor();
    await expect(row.getAttribute('data-level')).resolves.toBe('red');
    await expect(row.locator('.alert-level').evaluate((el) => getComputedStyle(el).backgroundColor)).resolves.toBe(
      'rgb(239, 68, 68)',
    );
    await expect(row.locator('[data-status]').getAttribute('data-status')).resolves.toBe('new');
    await expect(row.textContent()).resolves.toContain(red.orgUnitName);
    await expect(page.locator('.nav-count').textContent()).resolves.toBe('1');

    // The pop-up opens the linked cameras (sub stream) as live tiles.
    const popup = page.locator(`.alert-popup[data-alert-id="${red.id}"]`);
    await popup.waitFor();
    await expect(popup.locator('.alert-popup__title').textContent()).resolves.toBe('浏览器测试一键报警');
    await expect
      .poll(() => popup.locator('.live-tile').count(), { timeout: 10_000 })
      .toBe(Math.min(red.linkedCameraIds.length, 4));
    await h.screenshot(page, 'alerts-popup');

    // Acknowledge from the pop-up with a note.
    await popup.locator('input[name="alert-note"]').fill('已通知民警到场');
    await popup.locator('button[data-action="ack"]').click();
    await popup.waitFor({ state: 'detached' });
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status')).toBe('acknowledged');
    await expect(row.locator('[data-status]').textContent()).resolves.toBe('已确认');
    const county = client(h.server.api, await h.server.login('county'));
    const detail = await county.get(`/alerts/${red.id}`);
    expect(detail.json.status).toBe('acknowledged');
    expect(detail.json.history).toEqual(
      expect.arrayContaining([expect.objectContaining({ actor: 'county', note: '已通知民警到场' })]),
    );

    // A yellow alert: no pop-up, handled from the list.
    const yellow = await ingest({
      type: 'intrusion',
      level: 'yellow',
      position: camera.position,
      title: '浏览器测试区域入侵',
    });
    const yellowRow = page.locator(`tr[data-alert-id="${yellow.id}"]`);
    await yellowRow.waitFor();
    await expect(yellowRow.getAttribute('data-level')).resolves.toBe('yellow');
    await expect(page.locator('.alert-popup').count()).resolves.toBe(0);
    await h.screenshot(page, 'alerts-list');
    await yellowRow.locator('button[data-action="false-alarm"]').click();
    // Open filter: a false alarm leaves the list; "all" shows it with its status.
    await yellowRow.waitFor({ state: 'detached' });
    await page.locator('select[name="alert-filter"]').selectOption('all');
    await expect.poll(() => yellowRow.locator('[data-status]').getAttribute('data-status')).toBe('false_alarm');

    // Township 2 saw neither alert, live or after a reload (replay is scoped too).
    await expect(other.page.locator('tr[data-alert-id]').count()).resolves.toBe(0);
    await other.page.reload();
    await other.page.locator('.data-table--alerts').waitFor();
    await other.page.locator('select[name="alert-filter"]').selectOption('all');
    // Wait for the replay to finish: the empty state shows only once loading is over.
    await other.page.locator('.alerts-page .empty').waitFor();
    await expect(other.page.locator('tr[data-alert-id]').count()).resolves.toBe(0);
    await h.screenshot(other.page, 'alerts-township2');

    // The acknowledged red alert is a marker on the registry map.
    await page.locator('a.topbar__nav-item[href="/registry"]').click();
    await page.locator('.data-table--cameras tbody tr').first().waitFor();
    await page.locator('.map-root canvas').waitFor();
    await h.screenshot(page, 'alerts-map');
  });

  it('opens an alert on its own page: the stored snapshot, facts, history, and links to its order and the alert it repeats', async () => {
    const officer = await open();
    await h.login(officer.page, 'county');
    const { page } = officer;
    const county = client(h.server.api, await h.server.login('county'));
    // A repeat of a closed alert at the same place is a new alert that names the old one (previousAlertId).
    const first = await ingest({ type: 'crowd', level: 'orange', cameraId: camera.id, title: '详情页测试人员聚集' });
    expect((await county.post(`/alerts/${first.id}/close`, { note: '人群已散' })).status).toBe(200);
    const again = await ingest({ type: 'crowd', level: 'orange', cameraId: camera.id, title: '详情页测试人员聚集' });
    expect(again.previousAlertId).toBe(first.id);
    // The JPEG stored with the alert: one the test made (64×48, pure green), so the page's picture can be checked.
    const jpeg = await page.evaluate(() => {
      const c = document.createElement('canvas');
      c.width = 64;
      c.height = 48;
      const g = c.getContext('2d')!;
      g.fillStyle = '#00ff00';
      g.fillRect(0, 0, 64, 48);
      return c.toDataURL('image/jpeg', 0.95).split(',')[1]!;
    });
    await h.server.store.run('INSERT INTO alert_snapshots (alert_id, jpeg, taken_at, camera_id) VALUES (?, ?, ?, ?)', [
      again.id,
      Buffer.from(jpeg, 'base64'),
      new Date().toISOString(),
      camera.id,
    ]);
    const order = await county.post('/orders', { alertId: again.id });
    expect(order.status, order.text).toBe(201);

    // From the list: filter by level and text, then open it.
    await goToAlerts(officer);
    await page.locator('select[name="alert-filter"]').selectOption('all');
    await page.locator('select[name="alert-level"]').selectOption('orange');
    await page.locator('input[name="alert-q"]').fill('详情页测试');
    await expect
      .poll(() =>
        page.locator('tr[data-alert-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-alert-id'))),
      )
      .toEqual([String(again.id), String(first.id)]);
    // The export link carries the same selection; the CSV holds exactly those rows.
    const href = (await page.locator('a[data-action="export"]').getAttribute('href'))!;
    expect(href).toContain('level=orange');
    const csv = await page.evaluate((u) => fetch(u).then((r) => r.text()), href);
    expect(csv.trim().split('\r\n')).toHaveLength(3);
    await h.screenshot(page, 'alerts-filtered');

    await page.locator(`tr[data-alert-id="${again.id}"] a.alert-row__link`).click();
    await page.waitForURL(new RegExp(`/alerts/${again.id}$`));
    const detail = page.locator(`.alert-detail[data-alert-id="${again.id}"]`);
    await detail.waitFor();
    await expect(detail.locator('.alert-detail__title').textContent()).resolves.toBe('详情页测试人员聚集');
    // The snapshot is the stored JPEG, drawn: its size and its colour.
    const img = detail.locator('img.alert-detail__image');
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(64);
    const rgb = await img.evaluate((el) => {
      const c = document.createElement('canvas');
      c.width = 64;
      c.height = 48;
      const g = c.getContext('2d')!;
      g.drawImage(el as HTMLImageElement, 0, 0);
      return [...g.getImageData(32, 24, 1, 1).data.slice(0, 3)];
    });
    expect(rgb[0]).toBeLessThan(40);
    expect(rgb[1]).toBeGreaterThan(215);
    expect(rgb[2]).toBeLessThan(40);
    expect(officer.requests).toContain(`${h.server.url}/api/v1/alerts/${again.id}/snapshot.jpg`);
    // Linked cameras as live tiles, the place on the map, the history.
    await expect
      .poll(() => detail.locator('.alert-detail__live .live-tile').count(), { timeout: 10_000 })
      .toBe(Math.min(4, new Set([camera.id, ...again.linkedCameraIds]).size));
    await detail.locator('.alert-detail__map canvas').waitFor();
    await expect(detail.locator('.alert-detail__history tr[data-action="created"]').textContent()).resolves.toContain(
      `同一地点的告警 ${first.id}（已办结）再次发生`,
    );
    await expect(detail.locator('a.alert-detail__order').getAttribute('href')).resolves.toBe(
      `/orders/${order.json.id}`,
    );
    await h.screenshot(page, 'alerts-detail');

    // The alert it repeats, one click away, with its own history.
    await detail.locator('a.alert-detail__previous').click();
    await page.waitForURL(new RegExp(`/alerts/${first.id}$`));
    const previous = page.locator(`.alert-detail[data-alert-id="${first.id}"]`);
    await expect
      .poll(() => previous.locator('.alert-detail__history tr[data-action="closed"]').textContent())
      .toContain('人群已散');
    await expect(previous.locator('img.alert-detail__image').count()).resolves.toBe(0);
    await expect(previous.locator('.alert-detail__snapshot').textContent()).resolves.toContain('没有抓拍图片');
    // Another township's operator is told it does not exist.
    const other = await open();
    await h.login(other.page, 'township2');
    await other.page.goto(`/alerts/${again.id}`);
    await other.page.locator('.alert-detail .notice--error').waitFor();
    await expect(other.page.locator('.alert-detail__title').count()).resolves.toBe(0);
  }, 60_000);

  it('names "close the alert" and "close the window" apart, in English too (issue 17 item 8)', async () => {
    const officer = await open();
    await h.login(officer.page, 'county');
    const { page } = officer;
    await page.getByRole('button', { name: 'English' }).click();
    const red = await ingest({ type: 'line_crossing', level: 'red', cameraId: camera.id, title: 'Wording check' });
    const popup = page.locator(`.alert-popup[data-alert-id="${red.id}"]`);
    await popup.waitFor();
    const resolve = popup.locator('button[data-action="close"]');
    await expect(resolve.textContent()).resolves.toBe('Resolve');
    const dismiss = page.locator('.modal__header .icon-button');
    await expect(dismiss.getAttribute('aria-label')).resolves.toBe('Close window');
    await h.screenshot(page, 'alerts-popup-en');
    // The window's × only hides the pop-up; the alert stays new.
    await dismiss.click();
    await popup.waitFor({ state: 'detached' });
    const county = client(h.server.api, await h.server.login('county'));
    expect((await county.get(`/alerts/${red.id}`)).json.status).toBe('new');
  }, 60_000);

  it('catches up on alerts missed while the socket was down', async () => {
    const officer = await open();
    await h.login(officer.page, 'county');
    await goToAlerts(officer);
    const { page } = officer;
    // Cut the socket.io connection from inside the page, ingest, and let it reconnect.
    await page.context().setOffline(true);
    await expect.poll(() => page.locator('.live-dot--on').count(), { timeout: 30_000 }).toBe(0);
    const missed = await ingest({ type: 'fire', level: 'blue', position: camera.position, title: '断线期间的告警' });
    await page.context().setOffline(false);
    await page.locator(`tr[data-alert-id="${missed.id}"]`).waitFor({ timeout: 30_000 });
    await expect(page.locator(`tr[data-alert-id="${missed.id}"]`).getAttribute('data-level')).resolves.toBe('blue');
  });
});
