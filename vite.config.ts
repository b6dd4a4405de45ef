import { defineConfig } from 'vite';

/**
 * The web client: sources in web/, built into dist/web, which the server serves at `/` (src/server/http/static.ts).
 * `npm run build` runs this after compiling the server. `npm run dev:web` serves it with hot reload and
 * proxies the API and the socket to a server on :3000 (`npm run dev`).
 */
export default defineConfig({
  root: 'web',
  publicDir: 'public',
  // JSX compiles to Preact's automatic runtime (no React, no Babel).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false }, // one entry chunk, and every supported browser preloads natively
    // The reaction picker's emoji data (emojibase, English and Chinese) are ~560 kB chunks each (~90 kB gzipped),
    // loaded only when a picker first opens; the entry chunk stays far below this.
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:3000',
      '/ws': { target: 'ws://127.0.0.1:3000', ws: true },
    },
  },
});
