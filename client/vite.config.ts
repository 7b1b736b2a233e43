import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The typed API contract lives with the server; the client imports its types
// (and the few constant lists it exports) through this alias.
const apiDir = decodeURIComponent(new URL('../server/src/api', import.meta.url).pathname);
// Pure coordinate conversions (WGS-84, GCJ-02, BD-09), shared with the server.
const geoDir = decodeURIComponent(new URL('../server/src/geo', import.meta.url).pathname);
const devBackend = 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: { '@api': apiDir, '@geo': geoDir },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // maplibre-gl alone is ~1 MB; the app is served on the LAN, so one chunk is fine.
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/api': { target: devBackend, changeOrigin: false },
      '/socket.io': { target: devBackend, ws: true, changeOrigin: false },
      '/streams': { target: devBackend, changeOrigin: false },
    },
  },
});
