import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The web console: the second entry of the renderer (console.html), served by
 * `gatehouse-server` at `/` on the API's origin, so absolute asset paths. The desktop entry
 * is renderer/vite.config.ts; both share renderer/src/shared.
 */
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist-console',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // No inline scripts or data: module preloads: the CSP is script-src 'self'.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rollupOptions: { input: { console: fileURLToPath(new URL('console.html', import.meta.url)) } },
  },
  logLevel: 'warn',
});
