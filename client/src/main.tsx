import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { I18nProvider } from './i18n.tsx';
import { preloadPage } from './lazyPages.tsx';
import { prefetchPointIndex } from './map/pointLoader.ts';
import { locationOf } from './router.ts';
import './styles.css';

// The wall's map points: fetched since /wall-boot.js (index.html) ran, indexed in the point worker from here,
// in parallel with the session, the screen and maplibre's start (issue 15: map.first_render50k); the map takes
// the answer when it mounts. A kiosk window (?kiosk=1) shows no map. An answer nobody takes (not signed in yet,
// a kiosk account) is dropped.
if (window.location.pathname.startsWith('/wall') && new URLSearchParams(window.location.search).get('kiosk') !== '1')
  prefetchPointIndex('');
// Every other page is a chunk of its own (lazyPages.tsx): the one this window opens on loads while the
// session is asked for (the wall, in this bundle, needs none).
preloadPage(locationOf(window.location.pathname));

const root = document.getElementById('root');
if (!root) throw new Error('index.html must contain #root');

createRoot(root).render(
  <StrictMode>
    <I18nProvider>
      <App />
    </I18nProvider>
  </StrictMode>,
);
