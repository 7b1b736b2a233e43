/**
 * The discovery console in a real browser, without devices: the form, a scan
 * of a dead address that ends as "unreachable", the server's field errors,
 * the history of scans, and who gets to see the page at all. The full flow
 * against the camera simulator lives elsewhere.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import {
  offOrigin,
  skipWithoutChromium,
  startBrowserHarness,
  type BrowserHarness,
  type TracedPage,
} from './harness.ts';

const skip = skipWithoutChromium('tests/browser/discovery.test.ts');

describe.skipIf(skip)('discovery console in Chromium', () => {
  let h: BrowserHarness;
  let current: TracedPage | null = null;
  /** Blocks of this run's own where nothing answers: no demo or other run can (issue 12). */
  const silent: LoopbackBlock[] = [];

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
    await Promise.all(silent.map((b) => b.release()));
  });

  const openAs = async (username: string) => {
    current = await h.open();
    await h.login(current.page, username);
    return current;
  };

  it('shows a technician the scan form with its three modes and credential rows', async () => {
    const traced = await openAs('tech');
    const { page } = traced;
    await page.getByRole('link', { name: '设备发现' }).click();
    await page.waitForURL('**/discovery');
    const form = page.getByRole('form', { name: '新建扫描' });
    await expect.poll(() => form.getByRole('tab').allTextContents()).toEqual(['地址段', '本网段组播', '单个地址']);
    await expect(form.getByLabel('地址段', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(form.getByLabel('WS-Discovery 端口').inputValue()).resolves.toBe('3702');

    // Credential rows: add up to five, passwords are password inputs, remove one.
    for (let i = 0; i < 6; i++) {
      const add = form.getByRole('button', { name: '+ 添加一组凭据' });
      if (await add.isDisabled()) break;
      await add.click();
    }
    await expect.poll(() => form.locator('.credential-row').count(), { timeout: 10_000 }).toBe(5);
    await expect(form.getByRole('button', { name: '+ 添加一组凭据' }).isDisabled()).resolves.toBe(true);
    await expect(form.getByLabel('第 3 组密码').getAttribute('type')).resolves.toBe('password');
    await form.getByRole('button', { name: '删除第 5 组凭据' }).click();
    await expect.poll(() => form.locator('.credential-row').count(), { timeout: 10_000 }).toBe(4);

    await form.getByRole('tab', { name: '单个地址' }).click();
    await expect(form.getByLabel('设备地址').isVisible()).resolves.toBe(true);
    await form.getByRole('tab', { name: '本网段组播' }).click();
    await expect(form.getByLabel('本机网卡地址').isVisible()).resolves.toBe(true);
    await h.screenshot(page, 'discovery-form');
    expect(offOrigin(traced.requests, h.server.url)).toEqual([]);
  });

  it('scans a dead address, shows it as unreachable, and keeps the scan in the history', async () => {
    const { page } = await openAs('tech');
    await page.goto('/discovery');
    const form = page.getByRole('form', { name: '新建扫描' });
    await form.getByRole('tab', { name: '单个地址' }).click();
    // Port 1 on loopback refuses at once: a device that is not there.
    await form.getByLabel('设备地址').fill('127.0.0.1:1');
    await form.getByLabel('第 1 组密码').fill('not-a-real-password');
    await form.getByRole('button', { name: '开始扫描' }).click();

    const header = page.locator('.scan-header');
    await header.getByText('127.0.0.1:1').waitFor();
    await header.locator('.badge--scan-done').waitFor();
    const row = page.locator('.data-table--devices tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    await expect(row.locator('.badge').textContent()).resolves.toBe('不可达');
    await expect(row.locator('td').nth(1).textContent()).resolves.toBe('127.0.0.1');
    await expect(row.getByRole('button', { name: '确认登记' }).count()).resolves.toBe(0);
    await expect(page.getByRole('progressbar', { name: '识别设备' }).getAttribute('aria-valuenow')).resolves.toBe('1');
    // The password typed for the scan stays in its masked input: no text on the page shows it.
    await expect(page.locator('body').innerText()).resolves.not.toContain('not-a-real-password');
    await expect(page.getByLabel('第 1 组密码').getAttribute('type')).resolves.toBe('password');
    await h.screenshot(page, 'discovery-unreachable');

    // A fresh page: the scan is in the history and reopens with its device.
    await page.reload();
    const item = page.locator('.scan-item').filter({ hasText: '127.0.0.1:1' }).first();
    await item.click();
    await expect.poll(() => page.locator('.data-table--devices tbody tr .badge').allTextContents()).toEqual(['不可达']);
  });

  it('cancels a running range scan', async () => {
    const { page } = await openAs('tech');
    await page.goto('/discovery');
    const form = page.getByRole('form', { name: '新建扫描' });
    // Thousands of loopback probes nobody answers (16 blocks of this run's own, 4,064 addresses): seconds of
    // work, all of it on this machine.
    silent.push(...(await Promise.all(Array.from({ length: 16 }, () => claimLoopbackBlock()))));
    await form.getByLabel('地址段', { exact: true }).fill(silent.map((b) => b.cidr).join('\n'));
    await form.getByRole('button', { name: '开始扫描' }).click();
    const header = page.locator('.scan-header');
    await header.locator('.badge--scan-running').waitFor();
    await header.getByRole('button', { name: '取消扫描' }).click();
    await header.locator('.badge--scan-cancelled').waitFor();
    await expect(header.getByRole('button', { name: '取消扫描' }).count()).resolves.toBe(0);
    await expect(page.locator('.scan-item--selected .badge').textContent()).resolves.toBe('已取消');
  });

  it('shows the server’s objection to an address range beside the ranges box', async () => {
    const { page } = await openAs('tech');
    await page.goto('/discovery');
    const form = page.getByRole('form', { name: '新建扫描' });
    await form.getByLabel('地址段', { exact: true }).fill('10.0.0.0/8');
    await form.getByRole('button', { name: '开始扫描' }).click();
    const error = form.locator('.field', { hasText: '地址段' }).locator('.field__error');
    await error.waitFor();
    await expect(error.textContent()).resolves.toMatch(/\S/);
    await expect(form.locator('.notice--error').textContent()).resolves.toContain('请修正标出的字段');
    await expect(page.locator('.scan-header').count()).resolves.toBe(0);
    await h.screenshot(page, 'discovery-range-error');
  });

  it('is not offered to a township operator, and its address leads back to the registry', async () => {
    const { page } = await openAs('township1');
    await expect(page.locator('.topbar__nav').textContent()).resolves.not.toContain('设备发现');
    await page.goto('/discovery');
    await page.locator('.data-table--cameras tbody tr').first().waitFor();
    expect(new URL(page.url()).pathname).toBe('/registry');
  });
});
