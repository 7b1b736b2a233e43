/**
 * The registry console in a real browser: sign-in, tree and table, search,
 * editing a point, township jurisdiction, language switch, CSV import report,
 * and that the page never reaches outside the platform.
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  offOrigin,
  skipWithoutChromium,
  startBrowserHarness,
  type BrowserHarness,
  type TracedPage,
} from './harness.ts';

const skip = skipWithoutChromium('tests/browser/registry.test.ts');

describe.skipIf(skip)('registry console in Chromium', () => {
  let h: BrowserHarness;
  let current: TracedPage | null = null;

  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterEach(async () => {
    const errors = current?.errors ?? [];
    await current?.context.close();
    current = null;
    expect(errors, 'uncaught errors in the page').toEqual([]);
  });
  afterAll(async () => {
    await h?.close();
  });

  const open = async () => {
    current = await h.open();
    return current;
  };

  it('signs a technician in and shows the org tree and a table of points', async () => {
    const { page } = await open();
    await page.goto('/');
    await expect(page.locator('.login__card h2').textContent()).resolves.toBe('登录');
    await page.locator('input[name=username]').fill('tech');
    await page.locator('input[name=password]').fill('wrong password');
    await page.locator('form.login__card button[type=submit]').click();
    await expect(page.locator('.login__card .notice--error').textContent()).resolves.toContain('用户名或密码错误');

    await h.login(page, 'tech');
    await expect(page.locator('.topbar__user-name').textContent()).resolves.toBe('县运维技术员');
    const tree = page.locator('.tree');
    for (const township of ['城关镇', '东湖街道', '青山镇']) {
      await expect.poll(() => tree.getByText(township, { exact: true }).count(), { timeout: 10_000 }).toBe(1);
    }
    const rows = page.locator('.data-table--cameras tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBeGreaterThan(10);
    await expect.poll(() => page.locator('.result-count').textContent()).toBe('已显示 50 / 60');
    await h.screenshot(page, 'registry-tech');
  });

  it('filters the table as the user types a search', async () => {
    const { page } = await open();
    await h.login(page, 'tech');
    await page.locator('.toolbar__search').fill('李家村');
    // Fewer than a page of matches: the count switches from "已显示 50 / 60" to "共 N 个点位".
    await page
      .locator('.result-count')
      .filter({ hasText: /^共 \d+ 个点位$/ })
      .waitFor();
    const names = await page.locator('.data-table--cameras tbody tr td.cell-name').allTextContents();
    expect(names.length).toBeGreaterThan(0);
    expect(names.length).toBeLessThan(60);
    for (const name of names) expect(name).toContain('李家村');
    await h.screenshot(page, 'registry-search');
  });

  it('edits a point’s address and shows the new address in the table', async () => {
    const { page } = await open();
    await h.login(page, 'tech');
    const row = page.locator('.data-table--cameras tbody tr').first();
    const id = await row.getAttribute('data-camera-id');
    await row.getByRole('button', { name: '编辑' }).click();
    const form = page.locator('form.camera-form');
    await form.waitFor();
    const address = form.locator('.field', { hasText: '安装地址' }).locator('input');
    await address.fill('示范县城关镇人民路 88 号（浏览器测试）');
    await page.locator('button[type=submit][form=camera-form]').click();
    await form.waitFor({ state: 'detached' });
    const cell = page.locator(`tr[data-camera-id="${id}"] td.cell-address`);
    await cell.filter({ hasText: '人民路 88 号' }).waitFor();
    await expect(cell.textContent()).resolves.toBe('示范县城关镇人民路 88 号（浏览器测试）');
  });

  it('shows a township operator only its own township', async () => {
    const { page } = await open();
    await h.login(page, 'township1');
    const tree = page.locator('.tree');
    await expect.poll(() => tree.getByText('城关镇', { exact: true }).count(), { timeout: 10_000 }).toBe(1);
    await expect(tree.getByText('东湖街道').count()).resolves.toBe(0);
    await expect(tree.getByText('青山镇').count()).resolves.toBe(0);
    const cells = page.locator('.data-table--cameras tbody tr td:nth-child(4)');
    await cells.first().waitFor();
    const orgs = new Set(await cells.allTextContents());
    expect(orgs.size).toBeGreaterThan(0);
    for (const org of orgs) expect(['李家村', '王庄村']).toContain(org);
    await h.screenshot(page, 'registry-township1');
  });

  it('switches the interface to English', async () => {
    const { page } = await open();
    await h.login(page, 'tech');
    await page.getByRole('button', { name: 'English' }).click();
    await expect(page.locator('.topbar__nav').textContent()).resolves.toContain('Registry');
    const headers = await page.locator('.data-table--cameras thead th').allTextContents();
    expect(headers).toEqual(expect.arrayContaining(['Name', 'Code', 'Network', 'Org unit', 'Status']));
    await expect.poll(() => page.locator('.result-count').textContent()).toBe('Showing 50 of 60');
    await expect.poll(() => page.getByRole('button', { name: 'Log out' }).count(), { timeout: 10_000 }).toBe(1);
    await h.screenshot(page, 'registry-en');
  });

  it('reports every bad row of a broken CSV and imports nothing', async () => {
    const { page } = await open();
    await h.login(page, 'tech');
    await page.getByRole('button', { name: '导入 CSV' }).click();
    await page.locator('.import input[type=file]').setInputFiles(path.resolve('tests/fixtures/ledger-bad.csv'));
    await page.locator('.modal__footer .button--primary').click();
    await expect(page.locator('.import .notice--error').textContent()).resolves.toMatch(
      /发现 \d+ 处错误，未导入任何点位/,
    );
    const lines = await page.locator('.import__errors tbody tr td:first-child').allTextContents();
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines).toEqual(expect.arrayContaining(['3', '4']));
    await h.screenshot(page, 'import-bad-rows');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('.result-count').textContent()).toBe('已显示 50 / 60');
  });

  it('shows health-check results live: badges, the online rate and the reason in the form', async () => {
    const { page, context } = await open();
    await h.login(page, 'tech');
    const summary = page.locator('.online-rate__summary');
    await expect.poll(() => summary.textContent()).toBe('在线 0 / 共 60 · 异常 0 · 离线 0 · 未知 60');
    const badges = page.locator('.data-table--cameras tbody tr td:nth-child(5) .badge');
    expect(new Set(await badges.allTextContents())).toEqual(new Set(['未知']));

    // A real sweep: no device answers on the demo's loopback addresses here.
    await h.server.server.app.health.sweep();
    const rate = (await (await context.request.get('/api/v1/health/online-rate')).json()).overall;
    expect(rate.unknown).toBe(0);
    await expect.poll(async () => new Set(await badges.allTextContents()).has('未知'), { timeout: 5_000 }).toBe(false);
    await expect
      .poll(() => summary.textContent(), { timeout: 8_000 })
      .toBe(`在线 ${rate.online} / 共 ${rate.total} · 异常 ${rate.degraded} · 离线 ${rate.offline} · 未知 0`);
    await expect.poll(() => page.locator('.online-rate__group').count(), { timeout: 10_000 }).toBe(2);
    await expect
      .poll(() => page.locator('.online-rate__group', { hasText: '按乡镇' }).locator('.rate-row').count(), {
        timeout: 10_000,
      })
      .toBe(3);
    await h.screenshot(page, 'registry-online-rate');

    const first = page.locator('.data-table--cameras tbody tr').first();
    const id = Number(await first.getAttribute('data-camera-id'));
    const point = await (await context.request.get(`/api/v1/cameras/${id}`)).json();
    await first.getByRole('button', { name: '编辑' }).click();
    const health = page.locator('.point-health');
    await health.waitFor();
    await expect(health.locator('.badge').textContent()).resolves.toBe(
      { online: '在线', offline: '离线', degraded: '异常', unknown: '未知' }[point.status as string],
    );
    await expect(health.textContent()).resolves.toContain(point.statusReason);
    await expect(health.textContent()).resolves.toContain('最后检测');
    await h.screenshot(page, 'registry-form-health');
  });

  it('opens a point’s form from its own address (/registry/cameras/:id)', async () => {
    const { page, context } = await open();
    await h.login(page, 'tech');
    const list = await (await context.request.get('/api/v1/cameras?limit=1&q=王庄村')).json();
    const point = list.items[0];
    await page.goto(`/registry/cameras/${point.id}`);
    const form = page.locator('form.camera-form');
    await form.waitFor();
    await expect(form.locator('.field', { hasText: '点位名称' }).locator('input').inputValue()).resolves.toBe(
      point.name,
    );
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'detached' });
    expect(new URL(page.url()).pathname).toBe('/registry');
  });

  it('makes every request to the platform itself, nothing off-site', async () => {
    const traced = await open();
    const { page } = traced;
    await h.login(page, 'tech');
    // The map draws its generated basemap; give it a moment to request what it would.
    await page.locator('.registry__map canvas').waitFor();
    await page.locator('.data-table--cameras tbody tr').first().getByRole('button', { name: '编辑' }).click();
    await page.locator('.picker canvas').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'English' }).click();
    await page.waitForLoadState('networkidle');
    expect(traced.requests.length).toBeGreaterThan(3);
    expect(offOrigin(traced.requests, h.server.url)).toEqual([]);
  });
});
