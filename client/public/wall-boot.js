// The wall map's point feed (GET /api/v1/walls/points.bin), asked for as soon as the page opens on /wall,
// while the app's bundle (maplibre included, ~1.7 MB) still downloads and compiles: issue 15,
// map.first_render50k. The bundle takes the response (client/src/map/pointLoader.ts, `takeBootFeed`) and hands
// its body to the point worker. A plain script, not part of the bundle, so that it runs first; a file, not an
// inline script, for the Content-Security-Policy (script-src 'self'). A kiosk window (?kiosk=1) shows no map.
/* global window, location */
'use strict';
if (location.pathname.indexOf('/wall') === 0 && new URLSearchParams(location.search).get('kiosk') !== '1') {
  window.__wallPointFeed = fetch('/api/v1/walls/points.bin', { credentials: 'same-origin' });
  // An unhandled rejection (the server away) is the bundle's to report, not the console's.
  window.__wallPointFeed.catch(function () {});
}
