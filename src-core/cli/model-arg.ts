// `--model` on the command line takes a diffusers-ONNX folder as it is, and a checkpoint (.safetensors) or
// a diffusers folder through the import cache: imported on first use, reused afterwards.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureImported } from '../import/cache.ts';
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
  const cacheRoot = importCacheRoot();
  try {
    mkdirSync(cacheRoot, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'it, or a folder above it, is a file' : (code ?? (error as Error).message);
    throw new Error(`cannot use the import cache ${cacheRoot} (RESTART_STUDIO_IMPORTS, or XDG_CACHE_HOME): ${why}`);
  }
  let last = 0;
  const cached = await ensureImported(source, {
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
