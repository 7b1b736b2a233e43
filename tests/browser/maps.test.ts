/**
 * The maps in Debian's Chromium (issue 17), one server whose basemap is an
 * MBTiles package the test writes itself (PNG tiles of one known colour):
 *
 * - the package's tiles are served by the platform and drawn (the map's own
 *   pixels have the tiles' colour), with nothing asked of any other origin;
 * - the first view of the registry map and of the wall map holds every point
 *   of the user's jurisdiction (a township and the county);
 * - the registry map draws every point of its filter, not the table's page;
 * - place names are drawn as text with no glyph server;
 * - the search box finds the user's own places and never another township's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OrgUnitView, WallPointsResponse, WallScreenView } from '../../server/src/api/contract.ts';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { pyramid, writeMbtiles } from '../helpers/map-packages.ts';
import { client } from '../helpers/server.ts';
import {
  offOrigin,
  skipWithoutChromium,
  startBrowserHarness,
  type BrowserHarness,
  type TracedPage,
} from './harness.ts';

const skip = skipWithoutChromium('tests/browser/maps.test.ts');

/** The package's colour: nothing else on these maps is this orange-brown. */
const TILE: [number, number, number] = [200, 110, 40];

type MapHandle = {
  project(p: [number, number]): { x: number; y: number };
  getCanvas(): HTMLCanvasElement;
  once(e: string, f: () => void): void;
  triggerRepaint(): void;
  loaded(): boolean;
  areTilesLoaded(): boolean;
  querySourceFeatures(source: string): { properties: Record<string, unknown> }[];
  queryRenderedFeatures(o: object): { properties: Record<string, unknown> }[];
  getCenter(): { lng: number; lat: number };
};

describe.skipIf(skip)('maps: offline package, first view, all points, place names, search', () => {
  let h: BrowserHarness;
  let dir: string;
  const opened: TracedPage[] = [];

  const open = async () => {
    const traced = await h.open();
    opened.push(traced);
    return traced;
  };

  /** Points of a user's jurisdiction, as the wall's list gives them. */
  const pointsOf = async (username: string) =>
    (
      (await client(h.server.api, await h.server.login(username)).get('/walls/points')).json as WallPointsResponse
    ).points.map(([id, lon, lat]) => ({ id, lon, lat }));

  /** Waits until the map behind `selector` has fitted its first view and finished drawing it. */
  const settled = async (page: Page, selector: string, handle: 'maplibre' | 'wallMap') => {
    const el = page.locator(selector);
    await expect.poll(() => el.getAttribute('data-fitted'), { timeout: 20_000 }).toBe('true');
    await el.evaluate(
      (e, key) =>
        new Promise<void>((resolve) => {
          const map = (e as unknown as Record<string, MapHandle>)[key]!;
          const check = () => (map.loaded() && map.areTilesLoaded() ? resolve() : map.once('idle', check));
          check();
        }),
      handle,
    );
    return el;
  };

  /** Every point inside the map's canvas at its current view (projected by the map itself). */
  const outside = (
    page: Page,
    selector: string,
    handle: 'maplibre' | 'wallMap',
    points: { lon: number; lat: number }[],
  ) =>
    page.locator(selector).evaluate(
      (e, { key, points }) => {
        const map = (e as unknown as Record<string, MapHandle>)[key]!;
        const { width, height } = map.getCanvas().getBoundingClientRect();
        return points.filter((p) => {
          const { x, y } = map.project([p.lon, p.lat]);
          return !(x >= 0 && y >= 0 && x <= width && y <= height);
        });
      },
      { key: handle, points },
    );

  /** Share of sampled canvas pixels that have the package's colour (read in the frame they are drawn). */
  const tileShare = (page: Page, selector: string, handle: 'maplibre' | 'wallMap') =>
    page.locator(selector).evaluate(
      (e, { key, rgb }) =>
        new Promise<number>((resolve) => {
          const map = (e as unknown as Record<string, MapHandle>)[key]!;
          map.once('render', () => {
            const gl = map.getCanvas().getContext('webgl2') ?? map.getCanvas().getContext('webgl');
            if (!gl) return resolve(-1);
            const { width, height } = gl.canvas;
            let hits = 0;
            let n = 0;
            const px = new Uint8Array(4);
            for (let i = 1; i < 10; i++)
              for (let j = 1; j < 10; j++) {
                gl.readPixels(
                  Math.floor((width * i) / 10),
                  Math.floor((height * j) / 10),
                  1,
                  1,
                  gl.RGBA,
                  gl.UNSIGNED_BYTE,
                  px,
                );
                n++;
                if (Math.abs(px[0]! - rgb[0]) < 8 && Math.abs(px[1]! - rgb[1]) < 8 && Math.abs(px[2]! - rgb[2]) < 8)
                  hits++;
              }
            resolve(hits / n);
          });
          map.triggerRepaint();
        }),
      { key: handle, rgb: TILE },
    );

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ccc-maps-'));
    const file = path.join(dir, 'county.mbtiles');
    writeMbtiles(
      file,
      pyramid(0, 4, () => TILE),
      {
        name: '示范县离线地图',
        format: 'png',
        minzoom: '0',
        maxzoom: '4',
        bounds: '-180,-85,180,85',
      },
    );
    h = await startBrowserHarness({ overrides: { map: { basemap: { type: 'mbtiles', path: file } } } });
  });

  afterEach(() => {
    for (const traced of opened.splice(0)) {
      expect(traced.errors, 'uncaught errors in the page').toEqual([]);
      expect(offOrigin(traced.requests, h.server.url), 'requests off the platform').toEqual([]);
      expect(
        traced.requests.filter((u) => /glyph|font|sprite|\.pbf/i.test(u)),
        'glyph or font requests',
      ).toEqual([]);
    }
  });

  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("fits the registry map's first view to every point of a township's jurisdiction, over the MBTiles package, with place names", async () => {
    const traced = await open();
    const { page } = traced;
    const tileResponses: number[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/api/v1/map/tiles/')) tileResponses.push(r.status());
    });
    await h.login(page, 'township1');
    await settled(page, '.registry__map-area .map-root', 'maplibre');
    const mine = await pointsOf('township1');
    expect(mine.length).toBeGreaterThan(5);
    await expect(outside(page, '.registry__map-area .map-root', 'maplibre', mine)).resolves.toEqual([]);
    // The package is what is drawn: tiles came from the platform, and the map's pixels have their colour.
    expect(tileResponses.length).toBeGreaterThan(0);
    expect(tileResponses.every((s) => s === 200)).toBe(true);
    await expect.poll(() => tileShare(page, '.registry__map-area .map-root', 'maplibre')).toBeGreaterThan(0.5);
    // Place names: text placed by the map itself, from locally drawn glyphs.
    const labels = await page
      .locator('.registry__map-area .map-root')
      .evaluate((e) =>
        (e as unknown as { maplibre: MapHandle }).maplibre
          .queryRenderedFeatures({ layers: ['place-labels-township', 'place-labels-village'] })
          .map((f) => String(f.properties['name'])),
      );
    expect(labels.length).toBeGreaterThan(0);
    await h.screenshot(page, 'maps-registry-township1');
  }, 60_000);

  it('draws every point of the filter on the registry map, not the loaded page of the table', async () => {
    const { page } = await open();
    await h.login(page, 'county');
    const map = await settled(page, '.registry__map-area .map-root', 'maplibre');
    const ids = () =>
      map.evaluate((e) => [
        ...new Set(
          (e as unknown as { maplibre: MapHandle }).maplibre
            .querySourceFeatures('cameras')
            .map((f) => Number(f.properties['id'])),
        ),
      ]);
    const all = await pointsOf('county');
    // The table shows a page of 50; the map all of them, and its first view holds them all.
    await expect.poll(() => page.locator('.data-table--cameras tbody tr').count()).toBe(50);
    await expect.poll(async () => (await ids()).length).toBe(all.length);
    await expect(outside(page, '.registry__map-area .map-root', 'maplibre', all)).resolves.toEqual([]);
    // A network filter: the map follows, with every point of that network.
    const county = client(h.server.api, await h.server.login('county'));
    const tianwang = (
      (await county.get('/cameras?network=tianwang&limit=500')).json as { items: { id: number }[] }
    ).items
      .map((c) => c.id)
      .sort((a, b) => a - b);
    await page.locator('.registry__centre select').first().selectOption('tianwang');
    await expect.poll(async () => (await ids()).sort((a, b) => a - b)).toEqual(tianwang);
    await h.screenshot(page, 'maps-registry-filter');
  }, 60_000);

  it("fits the wall map's first view to the jurisdiction and draws the package there too", async () => {
    const { page } = await open();
    await h.login(page, 'township2');
    const t2 = client(h.server.api, await h.server.login('township2'));
    const screen = (await t2.post('/walls', { name: '东湖街道地图测试' })).json as WallScreenView;
    await page.goto(`/wall/${screen.id}`);
    await settled(page, '.wall-map__canvas', 'wallMap');
    await expect(outside(page, '.wall-map__canvas', 'wallMap', await pointsOf('township2'))).resolves.toEqual([]);
    await expect.poll(() => tileShare(page, '.wall-map__canvas', 'wallMap')).toBeGreaterThan(0.3);
    // Cluster sizes and place names are text the map placed itself (local glyphs), one count per cluster.
    const drawn = await page.locator('.wall-map__canvas').evaluate((e) => {
      const map = (e as unknown as { wallMap: MapHandle }).wallMap;
      const ids = (layer: string) =>
        new Set(map.queryRenderedFeatures({ layers: [layer] }).map((f) => Number(f.properties['cluster_id'])));
      return {
        clusters: ids('wall-clusters').size,
        counts: ids('wall-cluster-counts').size,
        places: map.queryRenderedFeatures({ layers: ['place-labels-township', 'place-labels-village'] }).length,
      };
    });
    expect(drawn.clusters).toBeGreaterThan(0);
    expect(drawn.counts).toBe(drawn.clusters);
    expect(drawn.places).toBeGreaterThan(0);
    await h.screenshot(page, 'maps-wall-township2');
  }, 60_000);

  it('a wall opened signed out asks for sign-in there, then shows the map: the answers asked before the bundle are not reused', async () => {
    const { page } = await open();
    const t1 = client(h.server.api, await h.server.login('township1'));
    const screen = (await t1.post('/walls', { name: '城关镇登录后地图' })).json as WallScreenView;
    // wall-boot.js asks for the session, the screens, the map configuration, the feed (and starts the point
    // worker) while signed out: every answer is a 401.
    await page.goto(`/wall/${screen.id}`);
    await page.locator('input[name=username]').fill('township1');
    await page.locator('input[name=password]').fill(DEMO_PASSWORD);
    await page.locator('form.login__card button[type=submit]').click();
    if (!page.url().includes(`/wall/${screen.id}`)) await page.goto(`/wall/${screen.id}`);
    await settled(page, '.wall-map__canvas', 'wallMap');
    await expect(outside(page, '.wall-map__canvas', 'wallMap', await pointsOf('township1'))).resolves.toEqual([]);
    const clusters = await page.locator('.wall-map__canvas').evaluate((e) => {
      const map = (e as unknown as { wallMap: MapHandle }).wallMap;
      return map.queryRenderedFeatures({ layers: ['wall-clusters'] }).length;
    });
    expect(clusters).toBeGreaterThan(0);
  }, 60_000);

  it('applies status changes to the wall map as deltas (camera:status), without fetching the points again', async () => {
    const { page, requests } = await open();
    await h.login(page, 'county');
    // The registry (where the sign-in lands) has asked for its own feed: under load its map, whose maplibre
    // chunk loads after the page's, could otherwise ask after the wall's document was requested.
    await settled(page, '.registry__map-area .map-root', 'maplibre');
    const county = client(h.server.api, await h.server.login('county'));
    const screen = (await county.post('/walls', { name: '状态增量测试' })).json as WallScreenView;
    const fromWall = requests.length;
    // Whether the page ever showed its loading splash: opened signed in on a screen, the first render takes
    // the answers wall-boot.js asked for and shows the wall and its map at once (main.tsx, settleBootAnswers).
    await page.addInitScript(() => {
      const w = window as unknown as { splashSeen: boolean };
      w.splashSeen = false;
      new MutationObserver(() => {
        if (document.querySelector('.splash, .wall-message')) w.splashSeen = true;
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(`/wall/${screen.id}`);
    const canvas = await settled(page, '.wall-map__canvas', 'wallMap');
    // Counted from the wall's own document: the registry's map may still be asking for its feed as the test
    // navigates away.
    const wallDoc = requests.findIndex((u, i) => i >= fromWall && new URL(u).pathname === `/wall/${screen.id}`);
    expect(wallDoc).toBeGreaterThanOrEqual(0);
    const feeds = () => requests.slice(wallDoc).filter((u) => new URL(u).pathname.endsWith('/walls/points.bin')).length;
    // Online points in what the map's source holds (clusters count theirs): the colour of every cluster.
    const onlineDrawn = () =>
      canvas.evaluate((e) => {
        const seen = new Map<string, number>();
        for (const f of (e as unknown as { wallMap: MapHandle }).wallMap.querySourceFeatures('wall-points')) {
          const p = f.properties;
          seen.set(
            p['cluster_id'] !== undefined ? `c${String(p['cluster_id'])}` : `p${String(p['id'])}`,
            Number(p['on']),
          );
        }
        return [...seen.values()].reduce((a, b) => a + b, 0);
      });
    const before = await onlineDrawn();
    const fetched = feeds();
    // One feed: the map takes the load the page started. (A second one was seen once in 19 runs: the page asked
    // again after the map had taken the first. With the map in the first commit it was every run, and the
    // map's own load could wait forever on an answer the second took: client/src/map/pointLoader.ts.)
    expect(fetched, requests.slice(wallDoc).join('\n')).toBe(1);
    // Unless the server answered the early requests too late for the first render (it waits 400 ms at most).
    const boot = await page.evaluate(() => document.documentElement.dataset['bootAnswers']);
    expect(boot).toMatch(/^(all|late)$/);
    if (boot === 'all')
      await expect(page.evaluate(() => (window as unknown as { splashSeen: boolean }).splashSeen)).resolves.toBe(false);
    else console.log('the early answers came after the first render (a loaded machine): the splash check is moot');
    // Six points come online, as a health sweep reports them.
    const { cameras, orgs } = h.server.server.app.repos;
    const points = ((await county.get('/walls/points')).json as WallPointsResponse).points
      .filter((p) => p[4] !== 'online')
      .slice(0, 6);
    expect(points.length).toBe(6);
    for (const [id, , , , status, , , , orgUnitId] of points) {
      const at = new Date().toISOString();
      cameras.setStatus(id, 'online', null, at, true);
      h.server.server.app.bus.emit('camera.status', {
        id,
        orgPath: orgs.byId(orgUnitId)!.path,
        from: status,
        to: 'online',
        reason: null,
        at,
        lastSeenAt: at,
      });
    }
    await expect.poll(onlineDrawn, { timeout: 10_000 }).toBe(before + 6);
    expect(feeds()).toBe(fetched);
    await h.screenshot(page, 'maps-wall-deltas');
  }, 60_000);

  it("searches the user's own places and points, never another township's", async () => {
    const { page } = await open();
    await h.login(page, 'township1');
    const map = await settled(page, '.registry__map-area .map-root', 'maplibre');
    const admin = client(h.server.api, await h.server.login('admin'));
    const units = (await admin.get('/org-units')).json as OrgUnitView[];
    const me = (
      (await client(h.server.api, await h.server.login('township1')).get('/auth/me')).json as {
        orgUnitId: number;
      }
    ).orgUnitId;
    const other = units.find((u) => u.level === 'township' && u.id !== me)!;
    const village = units.find((u) => u.parentId === me)!;
    const box = page.locator('.registry__map-area input[name="map-search"]');
    await box.fill(other.name);
    await expect.poll(() => page.locator('.map-search__empty').textContent()).toBe('辖区内没有找到');
    await expect(page.locator('.map-search__hit').count()).resolves.toBe(0);
    await box.fill(village.name);
    const hit = page.locator(`.map-search__hit[data-kind="org"][data-id="${village.id}"]`);
    await hit.waitFor();
    await h.screenshot(page, 'maps-search');
    await hit.click();
    // The map moves onto the village: its centre comes inside the village's extent.
    const found = (
      await client(h.server.api, await h.server.login('township1')).get(`/search?q=${encodeURIComponent(village.name)}`)
    ).json as { kind: string; id: number; bbox: [number, number, number, number] }[];
    const [w, s, e, n] = found.find((f) => f.kind === 'org' && f.id === village.id)!.bbox;
    await expect
      .poll(() =>
        map.evaluate((el) => {
          const c = (el as unknown as { maplibre: MapHandle }).maplibre.getCenter();
          return [c.lng, c.lat];
        }),
      )
      .toSatisfy(([lon, lat]: number[]) => lon! >= w && lon! <= e && lat! >= s && lat! <= n);
  }, 60_000);
});
