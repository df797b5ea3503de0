import { defineConfig } from 'vite';

/**
 * `npm run dev` proxies the API and the WebSocket to a running server
 * (FORANKRA_URL, default http://127.0.0.1:8080), so the app and the server share an origin
 * as they do when the server serves `dist/`.
 */
const server = process.env.FORANKRA_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // The document view's chunk is Tiptap + ProseMirror + Yjs (~520 kB, ~165 kB gzipped);
    // it loads only when a document is opened.
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': { target: server, changeOrigin: true },
      '/auth': { target: server, changeOrigin: true },
      '/ws': { target: server.replace(/^http/, 'ws'), ws: true, changeOrigin: true },
    },
  },
});
