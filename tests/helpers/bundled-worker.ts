// A worker thread as the app ships it: the code that starts it and the worker's entry bundled to CommonJS side by side
// (scripts/build-electron.mjs), run by plain Node, with no tsx.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..', '..');

/** Bundles `driver` (TypeScript source) and `worker.entry` (a path from the root) as `worker.bundled`, and runs the driver. */
export async function runBundled(driver: string, worker: { entry: string; bundled: string }): Promise<SpawnSyncReturns<string>> {
  const dir = mkdtempSync(join(tmpdir(), 'bundled-worker-'));
  try {
    writeFileSync(join(dir, 'driver.ts'), driver);
    const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error' } as const;
    const silent = { logOverride: { 'empty-import-meta': 'silent' } } as const;
    await build({ ...common, ...silent, entryPoints: [join(dir, 'driver.ts')], outfile: join(dir, 'driver.cjs') });
    await build({ ...common, entryPoints: [join(ROOT, worker.entry)], outfile: join(dir, worker.bundled) });
    return spawnSync(process.execPath, [join(dir, 'driver.cjs')], { encoding: 'utf8', timeout: 60_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A module of this repository as an import specifier for a driver's source. */
export const sourceOf = (path: string): string => JSON.stringify(join(ROOT, path));
