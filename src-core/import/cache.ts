// Imported models cached by content: a checkpoint file (or a diffusers folder's weights and configs) is
// hashed, the hash and every option that changes the output name a folder in the cache root, and a
// complete folder there is reused. The CLI (`generate --model x.safetensors`) and the app share it.
// The importer writes a temporary sibling and renames it when done, so a folder in the cache either
// is complete or is not there; import_info.json is still checked before a folder is reused.
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import {
  cudaGraphByDefault,
  IMPORTER_VERSION,
  importModel,
  ImportCancelled,
  type ImportOptions,
  type ImportProgress,
  type ImportResult,
  type Precision,
  type Prediction,
} from './importer.ts';
import { ImportError } from './weights.ts';
import { UNET_CUDA_FOLDER } from '../model/unet-folder.ts';
import type { ImportInfo } from './write-folder.ts';
import { HASH_MEMO_FILE, rememberedHash, rememberHash, sourceStamp } from './hash-memo.ts';
import { statRegularFile } from '../regular-file.ts';
import { earlierReusableVersions, stillCurrent, superseded } from './cache-versions.ts';

/** Files of a diffusers folder that define the model: weights, configs, tokenizer files. */
const HASHED_EXTENSIONS = ['.safetensors', '.json', '.txt'];
/** A diffusers folder is shallow (component/file); deeper trees are not read (and links cannot loop). */
const MAX_FOLDER_DEPTH = 3;
/** Families an import_info.json may name (an unknown one is not a folder this app made). */
const IMPORTED_FAMILIES: ReadonlySet<string> = new Set(['sd1', 'sd2', 'sdxl']);
/** Leftovers of an import that was killed (the importer removes its own on errors and cancel). */
const STALE_PARTIAL_MS = 6 * 60 * 60 * 1000;

export interface HashProgress {
  stage: 'hashing';
  bytesDone: number;
  bytesTotal: number;
}
export type CacheProgress = HashProgress | ImportProgress;

export interface CacheOptions {
  cacheRoot: string;
  prediction?: Prediction;
  precision?: Precision;
  vae?: string;
  config?: string;
  /** Also write the UNet's CUDA flavour (ImportOptions.cudaGraph; default: when CUDA can run here). */
  cudaGraph?: boolean;
  onProgress?: (progress: CacheProgress) => void;
  /** Told the cache folder once it is known (before importing), so a killed import can be cleaned up. */
  onTarget?: (dir: string) => void;
  signal?: AbortSignal;
  /** Tests replace the importer. */
  importer?: (source: string, options: ImportOptions) => Promise<ImportResult>;
}

export interface CachedModel {
  dir: string;
  /** True when a complete earlier import was found and nothing was imported. */
  reused: boolean;
  sourceHash: string;
  /** The import's result; absent when reused. */
  result?: ImportResult;
  info: ImportInfo;
}

function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ImportCancelled();
}

/**
 * What `path` is, following links (Hugging Face's cache links snapshots to blobs). A broken or looping link is an
 * ImportError naming it where it has a model file's name (`needed`: an unfinished download leaves such a link), and
 * is passed over (undefined) otherwise.
 */
function linkTarget(path: string, needed: boolean): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ELOOP') throw error;
    if (!needed) return undefined;
    throw new ImportError(
      code === 'ELOOP'
        ? `${path} is a link that leads back to itself (a link loop)`
        : `${path} is a link to ${readlinkOr(path)}, which does not exist (an unfinished download?)`,
    );
  }
}

function readlinkOr(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return 'a missing file';
  }
}

/** The files a folder's hash covers, as [path relative to the folder with '/', absolute path], sorted. */
export function hashedFiles(folder: string): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  const walk = (dir: string, depth: number) => {
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      const stat = linkTarget(
        path,
        HASHED_EXTENSIONS.some((ext) => name.endsWith(ext)),
      );
      if (!stat) continue;
      if (stat.isDirectory()) {
        if (depth < MAX_FOLDER_DEPTH) walk(path, depth + 1);
      } else if (stat.isFile() && HASHED_EXTENSIONS.some((ext) => name.endsWith(ext))) {
        found.push([relative(folder, path).split(sep).join('/'), path]);
      }
    }
  };
  walk(folder, 1);
  return found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

async function hashFileInto(
  hash: ReturnType<typeof createHash>,
  path: string,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const stream = createReadStream(path, { highWaterMark: 4 * 1024 * 1024 });
  try {
    for await (const chunk of stream) {
      checkCancelled(signal);
      hash.update(chunk as Buffer);
      onBytes((chunk as Buffer).length);
    }
  } finally {
    stream.destroy();
  }
}

/**
 * sha256 of a file, or of a folder's model files (each as its relative path, size and content, in
 * path order), streamed. A missing source is an ImportError naming it. With `memo` (a JSON file), a
 * source whose files' size, mtime, inode and device are unchanged since it was hashed is not read again.
 */
export async function hashSource(
  path: string,
  options: { onProgress?: (p: HashProgress) => void; signal?: AbortSignal; memo?: string } = {},
): Promise<string> {
  if (!existsSync(path)) throw new ImportError(`${path} does not exist`);
  const startedMs = Date.now();
  // A pipe would keep the hash waiting for a writer, a device (/dev/zero) would never end.
  const stat = statRegularFile(path, { folderOk: true, as: (e) => new ImportError(e.message) });
  const listed: Array<[string, string]> = stat.isDirectory() ? hashedFiles(path) : [['', path]];
  const memoKey = realpathOr(resolve(path));
  const before = options.memo ? sourceStamp(listed) : undefined;
  const remembered = before && rememberedHash(options.memo!, memoKey, before.stamp);
  if (remembered) return remembered;

  const files = listed.map(([rel, abs]): [string, string, number] => [rel, abs, statSync(abs).size]);
  const bytesTotal = files.reduce((sum, [, , size]) => sum + size, 0);
  const hash = createHash('sha256');
  let bytesDone = 0;
  let reported = 0;
  const report = () => options.onProgress?.({ stage: 'hashing', bytesDone, bytesTotal });
  report();
  for (const [rel, abs, size] of files) {
    if (stat.isDirectory()) hash.update(`${rel}\0${size}\0`);
    await hashFileInto(
      hash,
      abs,
      (n) => {
        bytesDone += n;
        if (bytesDone - reported >= 64 * 1024 * 1024) {
          reported = bytesDone;
          report();
        }
      },
      options.signal,
    );
  }
  report();
  const digest = hash.digest('hex');
  // Remembered only when nothing changed while it was read.
  if (before && sourceStamp(listed).stamp === before.stamp) rememberHash(options.memo!, memoKey, before, digest, startedMs);
  return digest;
}

/** What names a cache folder: the source's hash and the options that change the output. */
interface KeyParts {
  sourceHash: string;
  precision: Precision;
  prediction?: Prediction;
  vaeHash?: string;
  configHash?: string;
  cudaGraph?: boolean;
}

/** The cache folder's name for a source hash and the options that change the output; `importer`: an older version's name. */
export function cacheKey(parts: KeyParts & { importer?: number }): string {
  const described = JSON.stringify({
    importer: parts.importer ?? IMPORTER_VERSION,
    source: parts.sourceHash,
    precision: parts.precision,
    prediction: parts.prediction ?? null,
    vae: parts.vaeHash ?? null,
    config: parts.configHash ?? null,
    // Only when written, so that folders made before the CUDA graph existed keep their names.
    ...(parts.cudaGraph ? { cudaGraph: true } : {}),
  });
  return `sd-${createHash('sha256').update(described).digest('hex').slice(0, 32)}`;
}

/** import_info.json of a folder when it parses and has the fields the app relies on, else null. */
export function readImportInfo(dir: string): ImportInfo | null {
  try {
    const info = JSON.parse(readFileSync(join(dir, 'import_info.json'), 'utf8')) as Partial<ImportInfo>;
    if (typeof info.importerVersion !== 'number' || typeof info.source !== 'string') return null;
    if (!IMPORTED_FAMILIES.has(String(info.family))) return null;
    if (info.prediction !== 'epsilon' && info.prediction !== 'v_prediction') return null;
    if (info.precision !== 'fp32' && info.precision !== 'fp16') return null;
    return info as ImportInfo;
  } catch {
    return null;
  }
}

/** A complete import from this source with these options, made by this importer version or one still current for its family. */
export function completeImport(
  dir: string,
  expected: { sourceHash: string; precision: Precision; prediction?: Prediction; cudaGraph?: boolean },
): ImportInfo | null {
  const info = readImportInfo(dir);
  if (!info || !stillCurrent(info) || info.sourceHash !== expected.sourceHash || info.precision !== expected.precision) return null;
  if (expected.prediction && info.prediction !== expected.prediction) return null;
  const components = ['text_encoder', 'unet', 'vae_decoder', ...(expected.cudaGraph ? [UNET_CUDA_FOLDER] : [])];
  const networks = components.every((c) => existsSync(join(dir, c, 'model.onnx')));
  return networks && existsSync(join(dir, 'model_index.json')) ? info : null;
}

/**
 * Removes `.NAME.partial-*` folders the importer left when its process was killed long ago, or, with
 * `target`, those of that one import (whose process was just ended).
 */
export function removeStalePartials(cacheRoot: string, now = Date.now(), target?: string): void {
  let names: string[];
  try {
    names = readdirSync(cacheRoot);
  } catch {
    return;
  }
  for (const name of names) {
    const match = /^\.(.+)\.partial-[0-9a-f]+$/.exec(name);
    if (!match) continue;
    const path = join(cacheRoot, name);
    try {
      if (target !== undefined ? match[1] === target : now - statSync(path).mtimeMs > STALE_PARTIAL_MS)
        rmSync(path, { recursive: true, force: true });
    } catch {
      // another process may be removing it too
    }
  }
}

/** Whether `dir` lies inside the cache root (the only folders the app ever deletes). */
export function insideCache(cacheRoot: string, dir: string): boolean {
  const root = resolve(cacheRoot);
  const full = resolve(dir);
  return full.startsWith(root + sep) && !relative(root, full).includes(sep);
}

/** The import cache cannot take a new import: `folder` cannot be written (read-only, or not a folder). */
export class ImportCacheError extends ImportError {
  override name = 'ImportCacheError';
  constructor(
    readonly folder: string,
    readonly reason: string,
  ) {
    super(`cannot write in the import cache ${folder} (${reason}); nothing was imported`);
  }
}

/**
 * Checks that a new import can be written into the cache root, by making (and removing) a folder there: permissions
 * alone do not tell (root ignores them; a read-only mount does not show in them), and the importer's own failure would
 * name only its temporary folder.
 */
function requireWritableCache(cacheRoot: string): void {
  try {
    mkdirSync(cacheRoot, { recursive: true });
    rmSync(mkdtempSync(join(cacheRoot, '.write-check-')), { recursive: true, force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EROFS'
        ? 'a read-only file system'
        : code === 'EACCES' || code === 'EPERM'
          ? `no permission to write there (${code})`
          : code === 'EEXIST' || code === 'ENOTDIR'
            ? 'it, or a folder above it, is a file'
            : (code ?? (error as Error).message);
    throw new ImportCacheError(cacheRoot, reason);
  }
}

/**
 * The imported folder for `source` with these options: the cached one when complete, else a new
 * import into the cache (hashing first: a changed file gives a new folder, and so does an importer version that
 * changed the family's output; an older version's import that is still current is reused under its own name).
 */
export async function ensureImported(source: string, options: CacheOptions): Promise<CachedModel> {
  const cacheRoot = resolve(options.cacheRoot);
  const sourcePath = realpathOr(resolve(source));
  const precision = options.precision ?? 'fp32';
  const cudaGraph = options.cudaGraph ?? cudaGraphByDefault();
  const memo = join(cacheRoot, HASH_MEMO_FILE);
  const sourceHash = await hashSource(sourcePath, { onProgress: options.onProgress, signal: options.signal, memo });
  checkCancelled(options.signal);
  const vaeHash = options.vae ? await hashSource(resolve(options.vae), { signal: options.signal, memo }) : undefined;
  const configHash = options.config ? await hashSource(resolve(options.config), { signal: options.signal, memo }) : undefined;
  const keyParts = { sourceHash, precision, prediction: options.prediction, vaeHash, configHash, cudaGraph };
  const dir = join(cacheRoot, cacheKey(keyParts));
  const expected = { sourceHash, precision, prediction: options.prediction, cudaGraph };
  options.onTarget?.(dir);
  const cached = completeImport(dir, expected);
  if (cached) return { dir, reused: true, sourceHash, info: cached };
  const earlier = earlierImport(cacheRoot, keyParts, expected);
  if (earlier) return { ...earlier, reused: true, sourceHash };

  // A read-only cache still serves its complete imports (above); only a new one needs to write.
  requireWritableCache(cacheRoot);
  removeStalePartials(cacheRoot);
  // Not complete (hand-edited, or made by a crashed older app): made again from scratch.
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  checkCancelled(options.signal);
  const run = options.importer ?? importModel;
  try {
    const result = await run(sourcePath, {
      out: dir,
      precision,
      prediction: options.prediction,
      vae: options.vae && resolve(options.vae),
      config: options.config && resolve(options.config),
      cudaGraph,
      sourceHash,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    const info = readImportInfo(dir);
    if (!info) throw new ImportError(`the import into ${dir} finished without a readable import_info.json`);
    removeSuperseded(cacheRoot, sourceHash);
    return { dir, reused: false, sourceHash, result, info };
  } catch (error) {
    // Someone else (the CLI and the app at once) finished the same import first: theirs is as good.
    const other = completeImport(dir, expected);
    if (other && !(error instanceof ImportCancelled)) return { dir, reused: true, sourceHash, info: other };
    throw error;
  }
}

/**
 * A complete import of this source with these options that an older importer made, under the name that version gave it
 * (the version is part of the key), and that is still current for its family: e.g. an SDXL import made by version 1.
 */
function earlierImport(
  cacheRoot: string,
  keyParts: KeyParts,
  expected: Parameters<typeof completeImport>[1],
): { dir: string; info: ImportInfo } | undefined {
  for (const importer of earlierReusableVersions()) {
    const dir = join(cacheRoot, cacheKey({ ...keyParts, importer }));
    const info = completeImport(dir, expected);
    if (info) return { dir, info };
  }
  return undefined;
}

/**
 * Removes the imports of this source that an older importer made and that are not current for their family. This app
 * never reuses them (completeImport), and each holds a whole model (gigabytes for SDXL); a new importer version would
 * otherwise leave one per model behind.
 * Best effort: a folder that cannot be removed now (open elsewhere) stays until the next import of its source.
 */
export function removeSuperseded(cacheRoot: string, sourceHash: string): void {
  let names: string[];
  try {
    names = readdirSync(cacheRoot);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith('sd-')) continue;
    const dir = join(cacheRoot, name);
    const info = readImportInfo(dir);
    if (!info || info.sourceHash !== sourceHash || !superseded(info)) continue;
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // kept for now
    }
  }
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
