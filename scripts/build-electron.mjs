// Bundles Electron's main process, the preload script and the engine host into out/ (Electron
// cannot load TypeScript). Native and heavy modules stay external and load from node_modules.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  logOverride: { 'empty-import-meta': 'silent' },
  external: ['electron', 'onnxruntime-node'],
};
await build({ ...common, entryPoints: ['electron/desktop/main.ts'], outfile: 'out/main.cjs', format: 'cjs' });
await build({ ...common, entryPoints: ['electron/desktop/preload.ts'], outfile: 'out/preload.cjs', format: 'cjs' });
await build({ ...common, entryPoints: ['src-core/host/engine-host.ts'], outfile: 'out/engine-host.cjs', format: 'cjs' });
// The engine's PNG encoder thread (src-core/png/encode-thread.ts loads it from beside engine-host.cjs).
await build({ ...common, entryPoints: ['src-core/png/encode-worker.ts'], outfile: 'out/png-encode-worker.cjs', format: 'cjs' });
// The engine's noise thread (src-core/noise/noise-thread.ts loads it from beside engine-host.cjs).
await build({ ...common, entryPoints: ['src-core/noise/noise-worker.ts'], outfile: 'out/noise-worker.cjs', format: 'cjs' });
// png.read's worker thread (electron/png-read.ts loads it from beside main.cjs).
await build({ ...common, entryPoints: ['electron/png-read-worker.ts'], outfile: 'out/png-read-worker.cjs', format: 'cjs' });
// Model imports' worker thread (electron/import-job.ts loads it from beside main.cjs).
await build({ ...common, entryPoints: ['electron/import-worker.ts'], outfile: 'out/import-worker.cjs', format: 'cjs' });
console.log(
  'built out/main.cjs, out/preload.cjs, out/engine-host.cjs, out/png-encode-worker.cjs, out/noise-worker.cjs, out/png-read-worker.cjs, ' +
    'out/import-worker.cjs',
);
