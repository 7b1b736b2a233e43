/**
 * The admin pages in the browser (issue 17, items 6, 7 and 13): an admin
 * creates a user and disables it, and the user's open pages are signed out at
 * once; an operator's 新窗口打开（无人值守） opens a viewing-only kiosk session
 * in its own window without touching the operator's; the server's errors read
 * in Chinese (no English word in a zh-CN page for a list of them); and no
 * page load logs a console error (the anonymous check answers 200 null);
 * a leader lands on the dashboard, whose 月 is this month.
 */
import type { OrgUnitView, SessionUser } from '../../server/src/api/contract.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { client } from '../helpers/server.ts';
import {
  offOrigin,
  skipWithoutChromium,
  startBrowserHarness,
  type BrowserHarness,
  type TracedPage,
} from './harness.ts';

const skip = skipWithoutChromium('tests/browser/admin.test.ts');

/** Acronyms a Chinese page legitimately shows. */
const ALLOWED = new Set([
  'CSV',
  'ONVIF',
  'MAC',
  'PTZ',
  'IP',
  'GB',
  'WGS',
  'GCJ',
  'BD',
  'URL',
  'UTF',
  'GBK',
  'HTTP',
  'JPEG',
  'PNG',
]);

/**
 * English words in a text, leaving out what the user wrote (quoted back “…”) and the
 * coordinate-system values a ledger must use (wgs84, gcj02, bd09).
 */
function englishWords(text: string): string[] {
  const said = text.replace(/“[^”]*”/g, '').replace(/\b(wgs84|gcj02|bd09)\b/g, '');
  return (said.match(/[A-Za-z][A-Za-z_.-]*[A-Za-z]/g) ?? []).filter((w) => !ALLOWED.has(w));
}

describe.skipIf(skip)('admin pages in the browser console', () => {
  let h: BrowserHarness;
  let township1: SessionUser;
  const opened: TracedPage[] = [];
  const consoleErrors: string[] = [];

  const open = async (watchConsole = false) => {
    const traced = await h.open();
    // Sessions ended on purpose (a disabled user, a revoked kiosk) may see a 401 on the way out:
    // the console is watched where nothing of the kind happens.
    if (watchConsole)
      traced.page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(`${traced.page.url()}: ${m.text()}`);
      });
    opened.push(traced);
    return traced;
  };

  const goTo = async (page: Page, href: string, ready: string) => {
    await page.locator(`a.topbar__nav-item[href="${href}"]`).click();
    await page.locator(ready).first().waitFor();
  };

  beforeAll(async () => {
    h = await startBrowserHarness();
    township1 = (await client(h.server.api, await h.server.login('township1')).get('/auth/me')).json as SessionUser;
  });

  afterEach(() => {
    for (const traced of opened.splice(0)) {
      expect(traced.errors, 'uncaught errors in the page').toEqual([]);
      expect(offOrigin(traced.requests, h.server.url)).toEqual([]);
    }
    expect(consoleErrors.splice(0), 'console errors').toEqual([]);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('loads the sign-in page without a console error, and a leader lands on the dashboard', async () => {
    const { page } = await open(true);
    const probe = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/session'));
    await page.goto('/');
    expect((await probe).status()).toBe(200);
    await page.locator('form.login__card').waitFor();
    await page.locator('input[name=username]').fill('viewer');
    await page.locator('input[name=password]').fill(DEMO_PASSWORD);
    await page.locator('form.login__card button[type=submit]').click();
    await page.locator('.dashboard').waitFor();
    expect(new URL(page.url()).pathname).toBe('/dashboard');
    // A reload keeps the leader there, still without an error.
    await page.goto('/');
    await page.locator('.dashboard').waitFor();
    // 月 is this month (not the last twelve): from the 1st to today, in one month; 季 starts its quarter.
    const range = async () => ((await page.locator('[data-range]').textContent()) ?? '').split(' ~ ');
    await page.locator('.dashboard [data-period="month"]').click();
    await expect.poll(async () => (await range())[0]?.endsWith('-01')).toBe(true);
    const [from, to] = await range();
    expect(from!.slice(0, 7)).toBe(to!.slice(0, 7));
    await page.locator('.dashboard [data-period="quarter"]').click();
    await expect.poll(async () => /^\d{4}-(01|04|07|10)-01$/.test((await range())[0] ?? '')).toBe(true);
    await page.locator('.dashboard [data-period="month"]').click();
    await h.screenshot(page, 'admin-leader-lands-on-dashboard');
  }, 60_000);

  it('creates and disables a user in the UI; the user’s open pages are signed out at once', async () => {
    const admin = await open();
    await h.login(admin.page, 'admin');
    await goTo(admin.page, '/admin', '.admin[data-section="users"]');
    await admin.page.locator('[data-action="new-user"]').click();
    const form = admin.page.locator('form[data-form="user"]');
    await form.locator('input[name=username]').fill('ui-operator');
    await form.locator('input[name=displayName]').fill('界面测试操作员');
    await form.locator('input[name=password]').fill(DEMO_PASSWORD);
    await form.locator('select[name=role]').selectOption('township_operator');
    await form.locator('select[name=orgUnitId]').selectOption(String(township1.orgUnitId));
    await form.locator('button[type=submit]').click();
    const row = admin.page.locator('tr[data-username="ui-operator"]');
    await row.waitFor();
    await expect(row.getAttribute('data-disabled')).resolves.toBe('false');

    // The new operator works in two windows of the same browser.
    const user = await open();
    await h.login(user.page, 'ui-operator');
    const second = await user.context.newPage();
    second.on('pageerror', (e) => user.errors.push(e.message));
    await second.goto('/orders');
    await second.locator('.data-table--orders').waitFor();

    admin.page.once('dialog', (d) => void d.accept());
    await row.locator('[data-action="disable"]').click();
    await expect.poll(() => row.getAttribute('data-disabled')).toBe('true');
    for (const page of [user.page, second]) {
      await page.locator('form.login__card').waitFor();
      await expect(page.locator('.login__card .notice').textContent()).resolves.toContain('账号已被停用');
    }
    await h.screenshot(user.page, 'admin-disabled-user-signed-out');
    await h.screenshot(admin.page, 'admin-users');

    // The account cannot sign in again; both changes are in the audit log, in words.
    await user.page.locator('input[name=username]').fill('ui-operator');
    await user.page.locator('input[name=password]').fill(DEMO_PASSWORD);
    await user.page.locator('form.login__card button[type=submit]').click();
    await user.page.locator('.login__card .notice--error').waitFor();
    await goTo(admin.page, '/audit', '.data-table--audit tbody tr');
    const actions = await admin.page.locator('.data-table--audit tbody tr td:nth-child(3)').allTextContents();
    expect(actions).toEqual(expect.arrayContaining(['新建用户', '修改用户']));
    expect(actions.filter((a) => /[a-z]+\.[a-z]+/.test(a))).toEqual([]);
  }, 60_000);

  it('opens an unattended screen with a viewing-only session of its own, keeping the operator’s', async () => {
    const operator = await open();
    await h.login(operator.page, 'township1');
    await operator.page.goto('/wall');
    await operator.page.locator('.wall[data-screen-id]').waitFor();
    const screenId = Number(await operator.page.locator('.wall[data-screen-id]').getAttribute('data-screen-id'));
    // Only the kiosk window sends a bearer token: the operator's pages go by the cookie.
    const authorised: string[] = [];
    operator.context.on('request', (r) => {
      if (r.url().includes('/api/v1/') && r.headers()['authorization']?.startsWith('Bearer ')) authorised.push(r.url());
    });
    const popup = operator.context.waitForEvent('page');
    await operator.page.locator('[data-action="open-kiosk"]').click();
    const kiosk = await popup;
    kiosk.on('pageerror', (e) => operator.errors.push(e.message));
    await kiosk.locator('.wall.wall--kiosk').waitFor();
    const url = new URL(kiosk.url());
    expect(url.pathname).toBe(`/wall/${screenId}`);
    expect(url.searchParams.get('kiosk')).toBe('1');
    expect(url.hash).toMatch(/^#kiosk-token=[A-Za-z0-9_-]{20,}$/);
    await expect.poll(() => authorised.some((u) => u.includes(`/walls/${screenId}`))).toBe(true);
    await h.screenshot(kiosk, 'admin-kiosk-window');

    // The kiosk window is the screen's kiosk account; the operator's cookie still speaks for the operator.
    const log = client(h.server.api, await h.server.login('admin'));
    const logins = (await log.get(`/audit?action=wall.kiosk.login&targetId=${screenId}`)).json.items as {
      outcome: string;
    }[];
    expect(logins.map((e) => e.outcome)).toContain('ok');
    const me = await operator.page.evaluate(async () => (await (await fetch('/api/v1/auth/me')).json()) as SessionUser);
    expect(me.username).toBe('township1');
    // Revoking the screen's tokens (screens page) signs the kiosk window out.
    await log.del(`/walls/${screenId}/kiosk-token`);
    await kiosk.locator('form.login__card').waitFor();
    await kiosk.close();
  }, 60_000);

  it('says the server’s errors in Chinese: no English word in the page for any of them (forms)', async () => {
    const { page } = await open();
    await h.login(page, 'admin');
    const shown: string[] = [];
    const collect = async (selector: string) => {
      const texts = await page.locator(selector).allInnerTexts();
      expect(texts.length, selector).toBeGreaterThan(0);
      shown.push(...texts);
    };

    // A user with every field wrong, then a taken username.
    await goTo(page, '/admin', '.admin[data-section="users"]');
    await page.locator('[data-action="new-user"]').click();
    const form = page.locator('form[data-form="user"]');
    await form.locator('input[name=username]').fill('a b');
    await form.locator('input[name=displayName]').fill('   ');
    await form.locator('input[name=password]').fill('short');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => form.locator('.field__error').count()).toBeGreaterThanOrEqual(4);
    await collect('form[data-form="user"] .field__error');
    await form.locator('input[name=username]').fill('county');
    await form.locator('input[name=displayName]').fill('重名');
    await form.locator('input[name=password]').fill(DEMO_PASSWORD);
    await form.locator('select[name=orgUnitId]').selectOption(String(township1.orgUnitId));
    await form.locator('button[type=submit]').click();
    await expect.poll(() => form.locator('.field__error').allInnerTexts()).toEqual(['已被占用']);
    await h.screenshot(page, 'admin-user-errors-zh');
    await page.keyboard.press('Escape');

    // A network with a bad id and no name.
    await page.locator('[data-admin-tab="networks"]').click();
    await page.locator('[data-action="new-network"]').click();
    const net = page.locator('form[data-form="network"]');
    await net.locator('input[name=id]').fill('Bad Id!');
    await net.locator('input[name=nameEn]').fill('x');
    await net.locator('button[type=submit]').click();
    await expect.poll(() => net.locator('.field__error').count()).toBe(2);
    await collect('form[data-form="network"] .field__error');
    await page.keyboard.press('Escape');

    // The own password, with a wrong current one.
    await page.locator('[data-action="change-password"]').click();
    const pw = page.locator('form[data-form="password"]');
    await pw.locator('input[name=currentPassword]').fill('not-my-password');
    await pw.locator('input[name=newPassword]').fill('Another@2026');
    await pw.locator('input[name=repeatPassword]').fill('Another@2026');
    await pw.locator('button[type=submit]').click();
    await expect.poll(() => pw.locator('.field__error').allInnerTexts()).toEqual(['密码错误']);
    await page.keyboard.press('Escape');
    expect(shown.flatMap(englishWords), `English in: ${shown.join(' | ')}`).toEqual([]);
  }, 60_000);

  it('says import problems and discovery reasons in Chinese too', async () => {
    const { page } = await open();
    await h.login(page, 'admin');
    const shown: string[] = [];
    const collect = async (selector: string) => {
      const texts = await page.locator(selector).allInnerTexts();
      expect(texts.length, selector).toBeGreaterThan(0);
      shown.push(...texts);
    };

    // A broken CSV ledger: every row's column and problem.
    await goTo(page, '/registry', '.data-table--cameras tbody tr');
    await page.getByRole('button', { name: '导入 CSV' }).click();
    await page.locator('.import input[type=file]').setInputFiles(path.resolve('tests/fixtures/ledger-bad.csv'));
    await page.locator('.modal__footer .button--primary').click();
    await page.locator('.import__errors tbody tr').first().waitFor();
    await collect('.import__errors tbody td:nth-child(2)');
    await collect('.import__errors tbody td:nth-child(3)');
    await h.screenshot(page, 'admin-import-errors-zh');
    await page.keyboard.press('Escape');

    // A scan whose devices refused, were registered, or were not ONVIF (rows as a scan writes them).
    const store = h.server.store;
    const county = (
      (await client(h.server.api, await h.server.login('admin')).get('/org-units')).json as OrgUnitView[]
    ).find((u) => u.parentId === null)!;
    const orgPath = (await store.get<{ path: string }>('SELECT path FROM org_units WHERE id = ?', [county.id]))!.path;
    const now = new Date().toISOString();
    const scanId = await store.insert(
      "INSERT INTO scan_jobs (org_unit_id, org_path, created_by, mode, spec, status, total, probed, found, interrogated, error, started_at, finished_at) VALUES (?, ?, 1, 'unicast', '10.9.9.0/29', 'failed', 6, 6, 5, 5, 'the server restarted during the scan', ?, ?)",
      [county.id, orgPath, now, now],
    );
    const devices: [string, string][] = [
      ['auth_failed', 'not authorised: Sender not Authorized'],
      ['registered', 'already registered as "王庄村学校门口"'],
      ['registered', 'already registered'],
      ['not_onvif', 'HTTP 404 text/html: not an ONVIF service'],
      ['unreachable', 'connect ECONNREFUSED 10.9.9.5:80'],
      ['new', 'MAC unknown (fault: Action Not Supported); no snapshot URI (reply lacks a snapshot URI)'],
    ];
    for (const [i, [status, reason]] of devices.entries())
      await store.run(
        'INSERT INTO discovered_devices (scan_id, xaddr, host, status, reason, found_at) VALUES (?, ?, ?, ?, ?, ?)',
        [scanId, `http://10.9.9.${i + 1}/onvif/device_service`, `10.9.9.${i + 1}`, status, reason, now],
      );
    // Discovery is the technician's page.
    const tech = (await open()).page;
    await h.login(tech, 'tech');
    await tech.goto(`/discovery/scans/${scanId}`);
    await expect.poll(() => tech.locator('.data-table--devices tbody tr').count()).toBe(devices.length);
    shown.push(...(await tech.locator('.data-table--devices .cell-reason').allInnerTexts()));
    shown.push(...(await tech.locator('.discovery .notice--error').allInnerTexts()));
    await h.screenshot(tech, 'admin-discovery-reasons-zh');

    const english = shown.flatMap(englishWords);
    expect(english, `English in: ${shown.join(' | ')}`).toEqual([]);
    // And each said something (not an empty cell).
    expect(shown.every((s) => s.trim().length > 0)).toBe(true);
  }, 60_000);
});
