// The desktop app's main process or preload bundled as scripts/build-electron.mjs bundles them, with 'electron'
// replaced by tests/helpers/fake-electron.ts, then loaded: the fake records what the code asks of Electron.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { FakeElectron } from './fake-electron.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Bundles `entry` (relative to the project) into `outDir` as `name` and loads it; `outDir` must be inside the project. */
export async function loadDesktopBundle(entry: string, outDir: string, name: string): Promise<FakeElectron> {
  const outfile = join(outDir, name);
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    logOverride: { 'empty-import-meta': 'silent' },
    external: ['onnxruntime-node'],
    plugins: [
      {
        name: 'fake-electron',
        setup: (b) => b.onResolve({ filter: /^electron$/ }, () => ({ path: join(ROOT, 'tests', 'helpers', 'fake-electron.ts') })),
      },
    ],
  });
  createRequire(import.meta.url)(outfile);
  return (globalThis as { __fakeElectron?: FakeElectron }).__fakeElectron!;
}
