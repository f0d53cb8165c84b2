// `--model` on the command line takes a diffusers-ONNX folder as it is, and a checkpoint (.safetensors) or
// a diffusers folder through the import cache: imported on first use, reused afterwards.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureImported, ImportCacheError } from '../import/cache.ts';
import { sourceKind } from '../import/source.ts';
import type { Precision } from '../import/importer.ts';

/** Where the command line keeps imported models (the app keeps its own in its data folder). */
export function importCacheRoot(): string {
  if (process.env.RESTART_STUDIO_IMPORTS) return resolve(process.env.RESTART_STUDIO_IMPORTS);
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'restart-studio', 'imported-models');
}

/** The model folder to load for `--model PATH` (importing it first when it is not a diffusers-ONNX folder). */
export async function modelFolderFor(
  path: string,
  options: { config?: string; signal?: AbortSignal; precision?: Precision },
): Promise<string> {
  const source = resolve(path);
  if (!existsSync(source)) throw new Error(`${source} does not exist`);
  if (statSync(source).isDirectory() && sourceKind(source) === 'diffusers-onnx') return source;
  if (statSync(source).isDirectory() && !existsSync(join(source, 'model_index.json'))) return source; // the loader says what is missing
  // Before hashing (minutes for a big file): a pickle, a network file of an ONNX folder, a pipe or a device is refused in words.
  sourceKind(source);
  const cacheRoot = importCacheRoot();
  const setting = '(RESTART_STUDIO_IMPORTS, or XDG_CACHE_HOME)';
  try {
    mkdirSync(cacheRoot, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'it, or a folder above it, is a file' : (code ?? (error as Error).message);
    throw new Error(`cannot use the import cache ${cacheRoot} ${setting}: ${why}`);
  }
  let last = 0;
  const cached = await importInto(cacheRoot, setting, source, {
    cacheRoot,
    config: options.config,
    signal: options.signal,
    precision: options.precision,
    onProgress: (p) => {
      const now = performance.now();
      if (now - last < 1000 || p.bytesTotal === 0) return;
      last = now;
      console.error(`${p.stage === 'hashing' ? 'checking' : 'importing'} ${path}: ${Math.round((100 * p.bytesDone) / p.bytesTotal)}%`);
    },
  });
  console.error(
    cached.reused
      ? `using the earlier import of ${path}: ${cached.dir}`
      : `imported ${path} into ${cached.dir} in ${cached.result!.seconds.toFixed(1)} s`,
  );
  for (const note of cached.result?.notes ?? []) console.error(`note: ${note}`);
  return cached.dir;
}

/** ensureImported, its cache's failure naming the setting that chose the folder. */
async function importInto(cacheRoot: string, setting: string, ...args: Parameters<typeof ensureImported>) {
  try {
    return await ensureImported(...args);
  } catch (error) {
    if (!(error instanceof ImportCacheError)) throw error;
    throw new Error(
      `cannot use the import cache ${cacheRoot} ${setting}: ${error.reason}; set RESTART_STUDIO_IMPORTS to a writable folder`,
    );
  }
}
