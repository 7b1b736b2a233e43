import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { settleBootAnswers } from './api.ts';
import { I18nProvider } from './i18n.tsx';
import { preloadPage } from './lazyPages.tsx';
import { prefetchPointIndex } from './map/pointLoader.ts';
import { locationOf } from './router.ts';
import { prewarmMap } from './wall/WallMap.tsx';
import './styles.css';

// The wall's map points: fetched since /wall-boot.js (index.html) ran, indexed in the point worker from here,
// in parallel with the session, the screen and maplibre's start (issue 15: map.first_render50k); the map takes
// the answer when it mounts. A kiosk window (?kiosk=1) shows no map. An answer nobody takes (not signed in yet,
// a kiosk account) is dropped.
if (window.location.pathname.startsWith('/wall') && new URLSearchParams(window.location.search).get('kiosk') !== '1') {
  prefetchPointIndex('');
  // maplibre's worker too, now: it takes ~0.3 s to start and cuts the map's first tiles; started with the map,
  // it began ~0.85 s later, its start held up behind the first frames the main thread waited on (a trace).
  prewarmMap();
}
// Every other page is a chunk of its own (lazyPages.tsx): the one this window opens on loads while the
// session is asked for (the wall, in this bundle, needs none).
preloadPage(locationOf(window.location.pathname));

const root = document.getElementById('root');
if (!root) throw new Error('index.html must contain #root');

/**
 * The first render waits (briefly) for the answers /wall-boot.js asked for: with them it mounts the signed-in
 * wall, its screen and its map at once, rather than a splash and then a render per answer (issue 15: the map
 * was created ~0.4 s after the bundle ran). Any other page has none and renders at once.
 */
const BOOT_WAIT_MS = 400;
void settleBootAnswers(BOOT_WAIT_MS).then((all) => {
  // For the browser tests: whether the first render had every early answer (a loaded server may be later).
  if (window.__bootGets) document.documentElement.dataset['bootAnswers'] = all ? 'all' : 'late';
  createRoot(root).render(
    <StrictMode>
      <I18nProvider>
        <App />
      </I18nProvider>
    </StrictMode>,
  );
});
