/**
 * Work orders (三级调度) in the browser, end to end: a red alert placed in
 * township 1 pops up at the county, which turns it into a work order (转工单)
 * (red: the county's own matter, so it is signed there) and reassigns it to
 * 城关镇 from the order page; the township operator sees it
 * in the order list with a running sign countdown, signs it and feeds back
 * with a note and a photo; the county closes it; township 2 never sees it,
 * live or over the API. The leader dashboard shows the same figures as the
 * statistics API. Every action goes through the UI; the API only sets up the
 * alert source and checks the results.
 */
import type {
  AlertView,
  CameraPointView,
  OrderStatsView,
  OrgUnitView,
  SessionUser,
  WorkOrderView,
} from '../../server/src/api/contract.ts';
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

const skip = skipWithoutChromium('tests/browser/orders.test.ts');

/** A 1×1 PNG: the feedback's photo evidence. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

describe.skipIf(skip)('work orders in the browser console', () => {
  let h: BrowserHarness;
  let key: string;
  let camera: CameraPointView;
  let township1: SessionUser;
  let countyUnit: OrgUnitView;
  const opened: TracedPage[] = [];

  const open = async () => {
    const traced = await h.open();
    opened.push(traced);
    return traced;
  };

  const ingest = (body: unknown): Promise<AlertView> => ingestAlert(h.server, key, body);

  const goTo = async (traced: TracedPage, href: string, ready: string) => {
    await traced.page.locator(`a.topbar__nav-item[href="${href}"]`).click();
    await traced.page.locator(ready).waitFor();
  };

  beforeAll(async () => {
    h = await startBrowserHarness();
    const admin = client(h.server.api, await h.server.login('admin'));
    countyUnit = ((await admin.get('/org-units')).json as OrgUnitView[]).find((u) => u.parentId === null)!;
    const source = await admin.post('/alert-sources', { name: '工单测试报警柱', orgUnitId: countyUnit.id });
    expect(source.status, source.text).toBe(201);
    key = source.json.key as string;
    const t1 = client(h.server.api, await h.server.login('township1'));
    township1 = (await t1.get('/auth/me')).json as SessionUser;
    const cams = await t1.get('/cameras?limit=1');
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

  it('runs the closed loop county → township → county through the UI', async () => {
    const county = await open();
    const town1 = await open();
    const town2 = await open();
    await h.login(county.page, 'county');
    await h.login(town1.page, 'township1');
    await h.login(town2.page, 'township2');
    await goTo(county, '/alerts', '.data-table--alerts');
    await goTo(town1, '/orders', '.data-table--orders');
    await goTo(town2, '/orders', '.data-table--orders');

    // 发现 → 上报: a red alarm in township 1 pops up at the county; 转工单 from the pop-up.
    const alert = await ingest({
      type: 'alarm_button',
      level: 'red',
      cameraId: camera.id,
      title: '工单测试一键报警',
      description: '村口一键报警柱被按下',
    });
    const popup = county.page.locator(`.alert-popup[data-alert-id="${alert.id}"]`);
    await popup.waitFor();
    await popup.locator('button[data-action="to-order"]').click();
    // The alert becomes "dispatched", which takes the pop-up away; the order page opens.
    await popup.waitFor({ state: 'detached' });
    const detail = county.page.locator('.order-detail[data-order-id]');
    await detail.waitFor();
    const orderId = Number(await detail.getAttribute('data-order-id'));
    expect(orderId).toBeGreaterThan(0);
    expect(county.page.url()).toContain(`/orders/${orderId}`);
    // Red is the county's own matter (四事分办): it takes it on at once (signed, handling).
    await expect(detail.getAttribute('data-state')).resolves.toBe('signed');
    await expect(detail.locator('.order-detail__title').textContent()).resolves.toContain('工单测试一键报警');
    await expect(detail.locator('.countdown').getAttribute('data-deadline-kind')).resolves.toBe('handle');
    await expect
      .poll(() => detail.locator('.order-cameras li').count(), { timeout: 10_000 })
      .toBe(alert.linkedCameraIds.length);
    // A linked camera opens as a live tile on the order page.
    await detail.locator('.order-cameras button[data-action="open-live"]').first().click();
    await detail.locator('.live-panel .live-tile').waitFor();
    await h.screenshot(county.page, 'orders-county-reported');
    await detail.locator('.live-panel button.icon-button').click();
    await detail.locator('.live-panel').waitFor({ state: 'detached' });

    // 转派 to 城关镇: the target list holds only units below the county that own the place.
    await detail.locator('.order-actions button[data-action="reassign"]').click();
    const target = detail.locator('select[name="order-target"]');
    // The units come from the page's own fetch; wait for the list rather than read it mid-load.
    await target.locator('option:not([value=""])').first().waitFor({ state: 'attached' });
    const targetIds = await target
      .locator('option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value).filter(Boolean));
    expect(targetIds).toContain(String(township1.orgUnitId));
    await target.selectOption(String(township1.orgUnitId));
    await detail.locator('textarea[name="order-note"]').fill('请城关镇立即核实处置');
    await detail.locator('button[data-submit="reassign"]').click();
    await expect.poll(() => detail.getAttribute('data-state')).toBe('assigned');
    await expect(detail.locator('[data-field="holder"]').textContent()).resolves.toBe(township1.orgUnitName);
    // The county has no step left on it while township 1 holds it.
    await expect(detail.locator('.order-actions button[data-action="sign"]').count()).resolves.toBe(0);

    // 视频调度: push the order's cameras to 城关镇's wall.
    await detail.locator('button[data-action="push-wall"]').click();
    const push = county.page.locator('form.order-push');
    await push.locator('select[name="push-target"]').selectOption(String(township1.orgUnitId));
    await expect
      .poll(() => push.locator('input[name="push-camera"]:checked').count(), { timeout: 10_000 })
      .toBe(alert.linkedCameraIds.length);
    await push.locator('input[name="push-note"]').fill('请在大屏上跟踪现场');
    await push.locator('button[type="submit"]').click();
    await push.locator('.notice--success').waitFor();
    const pushes = (await client(h.server.api, await h.server.login('township1')).get('/wall-pushes')).json as {
      orderId: number | null;
      note: string | null;
    }[];
    expect(pushes).toEqual(expect.arrayContaining([expect.objectContaining({ orderId, note: '请在大屏上跟踪现场' })]));
    await push.locator('button', { hasText: '关闭' }).click();
    await push.waitFor({ state: 'detached' });

    // Township 1 sees it live in its list, with a running (not overdue) sign countdown.
    const row = town1.page.locator(`tr[data-order-id="${orderId}"]`);
    await row.waitFor();
    await expect.poll(() => row.getAttribute('data-state')).toBe('assigned');
    const countdown = row.locator('.countdown');
    await expect(countdown.getAttribute('data-deadline-kind')).resolves.toBe('sign');
    await expect(countdown.getAttribute('data-overdue')).resolves.toBe('false');
    await expect(countdown.locator('.countdown__time').textContent()).resolves.toMatch(/\d{2}:\d{2}:\d{2}/);
    await expect(town1.page.locator('.order-tabs [data-tab="assigned"] .count').textContent()).resolves.toBe('1');
    // "With my unit" keeps it: township 1 holds it.
    await town1.page.locator('input[name="order-mine"]').check();
    await row.waitFor();
    await h.screenshot(town1.page, 'orders-township1-list');

    // Township 2 saw nothing, live or after a reload, and the API answers like a missing order.
    await expect(town2.page.locator('tr[data-order-id]').count()).resolves.toBe(0);
    await town2.page.reload();
    await town2.page.locator('.data-table--orders').waitFor();
    await town2.page.locator('.orders-page .empty').waitFor();
    await expect(town2.page.locator('tr[data-order-id]').count()).resolves.toBe(0);
    const t2 = client(h.server.api, await h.server.login('township2'));
    expect((await t2.get(`/orders/${orderId}`)).status).toBe(404);
    expect(((await t2.get('/orders')).json as { items: WorkOrderView[] }).items.map((o) => o.id)).not.toContain(
      orderId,
    );

    // 签收 from the order page.
    await row.locator('.order-row__title a').click();
    const tDetail = town1.page.locator(`.order-detail[data-order-id="${orderId}"]`);
    await tDetail.waitFor();
    await tDetail.locator('.order-actions button[data-action="sign"]').click();
    await tDetail.locator('button[data-submit="sign"]').click();
    await expect.poll(() => tDetail.getAttribute('data-state')).toBe('signed');
    await expect(tDetail.locator('.countdown').getAttribute('data-deadline-kind')).resolves.toBe('handle');

    // 反馈: a note is required; with a note and a photo it goes back to the county.
    await tDetail.locator('.order-actions button[data-action="feedback"]').click();
    await tDetail.locator('button[data-submit="feedback"]').click();
    await tDetail.locator('.order-step .field__error').waitFor();
    await tDetail.locator('textarea[name="order-note"]').fill('已到场处置，系误触报警柱，已恢复');
    await tDetail
      .locator('input[name="order-images"]')
      .setInputFiles({ name: 'scene.png', mimeType: 'image/png', buffer: PNG });
    await tDetail.locator('button[data-submit="feedback"]').click();
    await expect.poll(() => tDetail.getAttribute('data-state')).toBe('fed_back');
    const fed = tDetail.locator('.order-timeline__item[data-action="feedback"]');
    await expect(fed.locator('.order-timeline__note').textContent()).resolves.toBe('已到场处置，系误触报警柱，已恢复');
    await expect.poll(() => fed.locator('img').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => fed.locator('img').evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(1);
    await h.screenshot(town1.page, 'orders-township1-fed-back');

    // 办结 at the county: its open order page followed live and now offers close.
    await expect.poll(() => detail.getAttribute('data-state')).toBe('fed_back');
    await detail.locator('.order-actions button[data-action="close"]').click();
    await detail.locator('textarea[name="order-note"]').fill('核实无误，办结');
    await detail.locator('button[data-submit="close"]').click();
    await expect.poll(() => detail.getAttribute('data-state')).toBe('closed');
    await expect(detail.locator('.order-actions').count()).resolves.toBe(0);
    await expect(
      detail.locator('.order-timeline__item').evaluateAll((items) => items.map((i) => i.getAttribute('data-action'))),
    ).resolves.toEqual(expect.arrayContaining(['create', 'reassign', 'sign', 'feedback', 'close']));
    await h.screenshot(county.page, 'orders-county-closed');
    // Township 1's list followed live.
    await town1.page.locator('a.topbar__nav-item[href="/orders"]').click();
    await expect
      .poll(() => town1.page.locator(`tr[data-order-id="${orderId}"]`).getAttribute('data-state'))
      .toBe('closed');

    const countyApi = client(h.server.api, await h.server.login('county'));
    const final = (await countyApi.get(`/orders/${orderId}`)).json as WorkOrderView;
    expect(final.state).toBe('closed');
    const steps = final.history!.map((x) => x.action);
    expect(steps).toEqual(expect.arrayContaining(['create', 'reassign', 'sign', 'feedback', 'close']));
    expect(steps.at(-1)).toBe('close');
    expect(final.history!.find((x) => x.action === 'feedback')!.attachments).toHaveLength(1);
    expect((await countyApi.get(`/alerts/${alert.id}`)).json.status).not.toBe('new');

    // 领导看板: the same figures as the statistics API, per township and in total.
    await goTo(county, '/dashboard', '.data-table--stats');
    const stats = (await countyApi.get(`/orders/stats?orgUnitId=${countyUnit.id}&period=month`)).json as OrderStatsView;
    expect(stats.total.received).toBeGreaterThanOrEqual(1);
    const cell = (unit: string, col: string) =>
      county.page.locator(`.data-table--stats tr[data-unit-id="${unit}"] td[data-col="${col}"]`).textContent();
    await expect(cell('total', 'received')).resolves.toBe(String(stats.total.received));
    await expect(cell('total', 'closed')).resolves.toBe(String(stats.total.closed));
    const row1 = stats.units.find((u) => u.orgUnitId === township1.orgUnitId)!;
    expect(row1).toBeDefined();
    await expect(cell(String(row1.orgUnitId), 'received')).resolves.toBe(String(row1.received));
    await expect(cell(String(row1.orgUnitId), 'closed')).resolves.toBe(String(row1.closed));
    const rate = row1.closed > 0 ? `${((row1.closedOnTime / row1.closed) * 100).toFixed(1)}%` : '—';
    await expect(cell(String(row1.orgUnitId), 'onTimeRate')).resolves.toBe(rate);
    await expect
      .poll(() => county.page.locator('.data-table--stats tbody tr').count(), { timeout: 10_000 })
      .toBe(stats.units.length + 1);
    // Three work-order charts; the online-rate, 完好率 and alert charts (issue 16) sit beside them.
    await expect.poll(() => county.page.locator('.chart svg').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    await expect(county.page.locator('[data-kpi="received"] .kpi__value').textContent()).resolves.toBe(
      String(stats.total.received),
    );
    const csvHref = await county.page.locator('a[data-action="export-csv"]').getAttribute('href');
    expect(csvHref).toContain('/api/v1/orders/stats.csv?');
    const csv = await county.page.evaluate(async (href) => (await fetch(href!)).status, csvHref);
    expect(csv).toBe(200);
    await h.screenshot(county.page, 'orders-dashboard');
  }, 90_000); // three browser pages through the whole loop: the give-up point, not a speed bound

  it('creates an order by hand and assigns it straight to a township', async () => {
    const county = await open();
    await h.login(county.page, 'county');
    await goTo(county, '/orders', '.data-table--orders');
    const { page } = county;
    await page.locator('button[data-action="create-order"]').click();
    const form = page.locator('form.order-create');
    // Title is required, checked before anything is sent.
    await form.locator('button[type="submit"]').click();
    await form.locator('.field__error').first().waitFor();
    await form.locator('input[name="order-title"]').fill('人工建单：道路积水');
    await form.locator('select[name="order-level"]').selectOption('yellow');
    await form.locator('select[name="order-place"]').selectOption(String(township1.orgUnitId));
    await form.locator('textarea[name="order-description"]').fill('网格员电话报告：桥下积水约 30 厘米');
    await form.locator('select[name="order-assign-to"]').selectOption(String(township1.orgUnitId));
    await h.screenshot(page, 'orders-create-form');
    await form.locator('button[type="submit"]').click();
    const detail = page.locator('.order-detail[data-order-id]');
    await detail.waitFor();
    await expect(detail.getAttribute('data-state')).resolves.toBe('assigned');
    await expect(detail.locator('[data-field="holder"]').textContent()).resolves.toBe(township1.orgUnitName);
    const orderId = Number(await detail.getAttribute('data-order-id'));
    const t1 = client(h.server.api, await h.server.login('township1'));
    const seen = (await t1.get(`/orders/${orderId}`)).json as WorkOrderView;
    expect(seen.title).toBe('人工建单：道路积水');
    expect(seen.actions).toEqual(expect.arrayContaining(['sign']));
    // Back to the list: the new order is there under "to sign", in English too.
    await page.locator('.order-detail__back').click();
    await page.locator(`tr[data-order-id="${orderId}"][data-state="assigned"]`).waitFor();
    await page.locator('.topbar button', { hasText: 'English' }).click();
    await expect(page.locator('.order-tabs [data-tab="assigned"]').textContent()).resolves.toContain('To sign');
  });

  it('takes an order’s place from a camera or an alert, never typed; shows it in words; links alert and order both ways', async () => {
    const county = await open();
    await h.login(county.page, 'county');
    await goTo(county, '/orders', '.data-table--orders');
    const { page } = county;
    await page.locator('button[data-action="create-order"]').click();
    const form = page.locator('form.order-create');
    // No longitude or latitude box anywhere in the form.
    await expect(form.locator('input[name="order-lon"], input[name="order-lat"]').count()).resolves.toBe(0);
    await form.locator('input[name="order-title"]').fill('摄像机处路灯损坏');
    await form.locator('[data-place-mode="camera"]').click();
    await form.locator('input[name="place-camera-search"]').fill(camera.name);
    await form.locator(`.place-search__list button[data-camera-id="${camera.id}"]`).click();
    await expect(form.locator('.place-picker').getAttribute('data-place')).resolves.toBe('camera');
    await form.locator('button[type="submit"]').click();
    const detail = page.locator('.order-detail[data-order-id]');
    await detail.waitFor();
    const orderId = Number(await detail.getAttribute('data-order-id'));
    const facts = detail.locator('.order-detail__facts');
    await expect(facts.locator('[data-field="place"]').textContent()).resolves.toContain(camera.orgUnitName);
    await expect(facts.locator('[data-field="address"]').textContent()).resolves.toBe(camera.address);
    await expect(facts.locator('dl').innerText()).resolves.not.toMatch(/\d+\.\d{4,}/);
    await detail.locator('.order-place-map').waitFor();
    await expect
      .poll(() => detail.locator(`.order-cameras li[data-camera-id="${camera.id}"]`).count(), { timeout: 10_000 })
      .toBe(1);
    const made = (await client(h.server.api, await h.server.login('county')).get(`/orders/${orderId}`))
      .json as WorkOrderView;
    expect(made.position).toEqual(camera.position);
    expect(made.cameraIds).toEqual([camera.id]);
    await h.screenshot(page, 'orders-place-from-camera');

    // From an alert: the order is made of it; each links to the other.
    const alert = await ingest({ type: 'crowd', level: 'yellow', cameraId: camera.id, title: '建单位置测试人员聚集' });
    await page.locator('.order-detail__back').click();
    await page.locator('button[data-action="create-order"]').click();
    await form.locator('[data-place-mode="alert"]').click();
    await form.locator('select[name="place-alert"]').selectOption(String(alert.id));
    await form.locator('button[type="submit"]').click();
    await expect.poll(async () => Number(await detail.getAttribute('data-order-id'))).not.toBe(orderId);
    const fromAlert = Number(await detail.getAttribute('data-order-id'));
    await expect(detail.locator('.order-detail__title').textContent()).resolves.toContain('建单位置测试人员聚集');
    await detail.locator('[data-field="alert"]').click();
    expect(new URL(page.url()).pathname).toBe(`/alerts/${alert.id}`);
    const back = page.locator('.alert-detail__order');
    await expect(back.textContent()).resolves.toContain(String(fromAlert));
    await back.click();
    await page.locator(`.order-detail[data-order-id="${fromAlert}"]`).waitFor();
  }, 60_000);
});
