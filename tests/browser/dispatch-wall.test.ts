/**
 * The dispatch side of the township's wall in Debian's Chromium: a work order
 * the county assigns appears on the township's wall at once with a countdown
 * (and nowhere on another township's wall), and a view the county pushes
 * (视频调度) replaces the township wall's tiles at once with a banner saying
 * who sent it. Orders and pushes are made over the API as the county would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrgUnit } from '../../server/src/org/repo.ts';
import { client } from '../helpers/server.ts';
import { offOrigin, skipWithoutChromium, startBrowserHarness, type BrowserHarness } from './harness.ts';

const skip = skipWithoutChromium('tests/browser/dispatch-wall.test.ts');

describe.skipIf(skip)('orders and pushes on a township wall', () => {
  let h: BrowserHarness;
  let t1: OrgUnit;
  let village: OrgUnit;
  beforeAll(async () => {
    h = await startBrowserHarness({ townships: 2, villages: 2, cameras: 24 });
    const all = h.server.server.app.repos.orgs.all();
    t1 = all.filter((u) => u.level === 'township').sort((a, b) => a.id - b.id)[0]!;
    village = all.find((u) => u.parentId === t1.id)!;
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('shows a new order with a countdown on township 1 only, and a pushed view at once', async () => {
    const w1 = await h.open();
    const w2 = await h.open();
    await h.login(w1.page, 'township1');
    await h.login(w2.page, 'township2');
    for (const w of [w1, w2]) {
      await w.page.goto('/wall');
      await w.page.locator('.wall-orders').waitFor();
      await expect.poll(() => w.page.url()).toMatch(/\/wall\/\d+$/);
      await w.page.locator('.live-dot--on').waitFor();
    }
    const county = client(h.server.api, await h.server.login('county'));
    const created = await county.post('/orders', { title: '墙上工单测试', level: 'orange', orgUnitId: village.id });
    expect(created.status).toBe(201);
    const id = created.json.id as number;

    const item = w1.page.locator(`.wall-orders [data-order-id="${id}"]`);
    await item.waitFor();
    await expect.poll(() => item.locator('.countdown').getAttribute('data-deadline-kind')).toBe('sign');
    await expect.poll(() => item.locator('.countdown').getAttribute('data-overdue')).toBe('false');
    await expect.poll(() => item.getAttribute('class')).toContain('wall-order--new');
    // Signing it takes it off the "to sign" countdown and onto the handling one.
    expect((await client(h.server.api, await h.server.login('township1')).post(`/orders/${id}/sign`)).status).toBe(200);
    await expect.poll(() => item.locator('.countdown').getAttribute('data-deadline-kind')).toBe('handle');
    await h.screenshot(w1.page, 'dispatch-wall-order');
    expect(await w2.page.locator(`.wall-orders [data-order-id="${id}"]`).count()).toBe(0);

    const cams = (await client(h.server.api, await h.server.login('township1')).get('/cameras?limit=3')).json.items as {
      id: number;
    }[];
    const pushed = cams.slice(0, 3).map((c) => c.id);
    const push = await county.post('/wall-pushes', { targetOrgUnitId: t1.id, cameraIds: pushed, note: '请盯防' });
    expect(push.status).toBe(201);
    await w1.page.locator('.wall-push').waitFor();
    await expect.poll(() => w1.page.locator('.wall-push').innerText()).toContain('请盯防');
    await expect
      .poll(async () => {
        const ids = await w1.page
          .locator('.wall-tile')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-camera-id') || e.getAttribute('data-pending-id')));
        return ids.slice(0, pushed.length).map(Number);
      })
      .toEqual(pushed);
    await h.screenshot(w1.page, 'dispatch-wall-push');
    // Township 2's wall heard nothing.
    expect(await w2.page.locator('.wall-push').count()).toBe(0);
    for (const w of [w1, w2]) {
      expect(w.errors).toEqual([]);
      expect(offOrigin(w.requests, h.server.url)).toEqual([]);
    }
  });
});
