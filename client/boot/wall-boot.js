// The wall map's point feed (GET /api/v1/walls/points.bin), asked for as soon as the page opens on /wall,
// while the app's entry chunk and maplibre's (~0.4 and ~1 MB) still download and compile: issue 15,
// map.first_render50k. The point worker (client/src/map/pointWorker.ts) starts here too and is handed the
// feed's body as it arrives, so the index is built while the bundle compiles; the bundle adopts the worker
// and its answer (client/src/map/pointLoader.ts). Without the worker (its URL unknown, as under the dev
// server, or it cannot start) the bundle takes the response itself.
// A plain script, not part of the bundle, so that it runs first; a file, not an inline script, for the
// Content-Security-Policy (script-src 'self'). The build writes it to dist/ with the worker's hashed URL
// (client/vite.config.ts, pointWorkerUrl). A kiosk window (?kiosk=1) shows no map.
/* global window, location, Worker */
'use strict';
if (location.pathname.indexOf('/wall') === 0 && new URLSearchParams(location.search).get('kiosk') !== '1') {
  window.__wallPointFeed = fetch('/api/v1/walls/points.bin', { credentials: 'same-origin' });
  // An unhandled rejection (the server away) is the bundle's to report, not the console's.
  window.__wallPointFeed.catch(function () {});
  var workerUrl = '__POINT_WORKER_URL__';
  if (workerUrl.charAt(0) === '/' && typeof Worker === 'function') {
    try {
      var worker = new Worker(workerUrl, { type: 'module', name: 'point-feed' });
      // Answers that come before the bundle listens wait here; the bundle reads them when it adopts the worker.
      var early = { worker: worker, inbox: [], failed: false, posted: null };
      worker.onmessage = function (e) {
        early.inbox.push(e.data);
      };
      worker.onerror = function () {
        early.failed = true;
      };
      // True once the body is the worker's (request id 0); false: the bundle reads the response itself.
      early.posted = window.__wallPointFeed.then(
        function (res) {
          if (!res.ok || !res.body || early.failed) return false;
          try {
            worker.postMessage({ type: 'index', id: 0, body: res.body }, [res.body]);
            return true;
          } catch {
            return false; // a browser that cannot transfer streams: nothing was moved
          }
        },
        function () {
          return false;
        },
      );
      window.__wallPointWorker = early;
    } catch {
      // No early worker: the bundle starts its own.
    }
  }
  // The GETs the wall asks before it can mount its map (the session, the screens, this screen, the map's
  // configuration), and the generated basemap and place names its first picture draws (client/src/map/
  // firstPicture.ts): asked now too, so their answers wait for the bundle rather than the bundle for them.
  // client/src/api.ts takes each one once, for the same path, and only before anything else was sent.
  var paths = ['/auth/session', '/walls', '/map/config', '/map/basemap.geojson', '/map/places.geojson'];
  var screen = /^\/wall\/(\d{1,9})\/?$/.exec(location.pathname);
  if (screen) paths.push('/walls/' + screen[1]);
  window.__bootGets = {};
  paths.forEach(function (path) {
    var answer = fetch('/api/v1' + path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    answer.catch(function () {});
    window.__bootGets[path] = answer;
  });
}
