import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const WALL_BOOT = decodeURIComponent(new URL('./boot/wall-boot.js', import.meta.url).pathname);
const WORKER_MARK = "'__POINT_WORKER_URL__'";

/**
 * /wall-boot.js (index.html): written by the build with the point worker's hashed file name, so the page can
 * start the worker before the bundle loads (issue 15). The dev server serves it without one (the bundle then
 * starts the worker itself).
 */
function wallBoot(): Plugin {
  const source = () => readFileSync(WALL_BOOT, 'utf8');
  return {
    name: 'wall-boot',
    configureServer(server) {
      server.middlewares.use('/wall-boot.js', (_req, res) => {
        res.setHeader('Content-Type', 'text/javascript');
        res.end(source().replace(WORKER_MARK, "''"));
      });
    },
    generateBundle(_options, bundle) {
      const worker = Object.keys(bundle).find((f) => /^assets\/pointWorker-[\w-]+\.js$/.test(f));
      if (!worker) this.error('wall-boot: the point worker is not in the bundle');
      const text = source();
      if (!text.includes(WORKER_MARK)) this.error(`wall-boot: ${WORKER_MARK} is not in ${WALL_BOOT}`);
      this.emitFile({
        type: 'asset',
        fileName: 'wall-boot.js',
        source: text.replace(WORKER_MARK, JSON.stringify(`/${worker}`)),
      });
    },
  };
}

/**
 * maplibre is loaded by the wall's map with `import()` (src/wall/WallMap.tsx), so that the page's entry, and
 * with it the wall and its map's first picture, does not wait for ~1 MB to download and compile (issue 15).
 * The page still asks for it from the start: index.html gets a modulepreload of its chunk.
 */
function preloadMaplibre(): Plugin {
  return {
    name: 'preload-maplibre',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const chunk = Object.values(ctx.bundle ?? {}).find((c) => c.type === 'chunk' && c.name === 'maplibre');
        if (!chunk) throw new Error('preload-maplibre: no maplibre chunk in the bundle');
        return [
          {
            tag: 'link',
            attrs: { rel: 'modulepreload', crossorigin: '', href: `/${chunk.fileName}` },
            injectTo: 'head',
          },
        ];
      },
    },
  };
}

// The typed API contract lives with the server; the client imports its types
// (and the few constant lists it exports) through this alias.
const apiDir = decodeURIComponent(new URL('../server/src/api', import.meta.url).pathname);
// Pure coordinate conversions (WGS-84, GCJ-02, BD-09), shared with the server.
const geoDir = decodeURIComponent(new URL('../server/src/geo', import.meta.url).pathname);
const devBackend = 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), wallBoot(), preloadMaplibre()],
  resolve: {
    alias: { '@api': apiDir, '@geo': geoDir },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The entry chunk holds the shell and the wall; maplibre-gl (~1 MB) is a chunk of its own, preloaded
    // (preloadMaplibre); every other page is a chunk of its own (src/lazyPages.tsx). The app is served on the LAN.
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      output: {
        // Its script only: grouped with it, the stylesheet the wall imports would make the entry import this chunk.
        advancedChunks: { groups: [{ name: 'maplibre', test: /node_modules[\\/]maplibre-gl[\\/].*\.m?js$/ }] },
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: devBackend, changeOrigin: false },
      '/socket.io': { target: devBackend, ws: true, changeOrigin: false },
      '/streams': { target: devBackend, changeOrigin: false },
    },
  },
});
