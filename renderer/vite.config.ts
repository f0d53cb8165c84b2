// Builds the renderer: root renderer/, output renderer/dist/, relative asset paths so that
// Electron can load dist/index.html from a file and the local server can serve it from `/`.
// `vite --config renderer/vite.config.ts` serves it for development; set STUDIO_SERVER
// (e.g. http://127.0.0.1:7860) to forward /ws to a running local server.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = fileURLToPath(new URL('.', import.meta.url));
const server = process.env.STUDIO_SERVER;

export default defineConfig({
  root,
  base: './',
  plugins: [svelte({ configFile: false })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: server ? { proxy: { '/ws': { target: server, ws: true } } } : {},
});
