// Where adapted graphs live. onnxruntime reads a model's external weights only from the model's own folder (a
// symbolic link that points elsewhere, or an absolute path, is refused), so each component gets one cache
// folder holding a hard link to its original weights file (a copy when the cache is on another disk), and every
// adapted graph of that component is a small <key>.onnx + <key>.bin beside it. Old graphs are removed.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { join } from 'node:path';

/** A short stable key for any list of facts. */
export function keyOf(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** Path, size and modification time: a file's identity for cache keys (a changed file gets new keys). */
export function fileIdentity(path: string): string {
  const stat = statSync(path);
  return `${realpathSync(path)}|${stat.size}|${stat.mtimeMs}`;
}

/**
 * The cache folder of one component, with every external weights file the graph names linked (or copied) into
 * it. `notes` gets a line when a file had to be copied.
 */
export function componentCacheDir(cacheRoot: string, sourceDir: string, dataFiles: string[], notes: string[]): string {
  const identity = [sourceDir, ...dataFiles.map((f) => fileIdentity(join(sourceDir, f)))];
  const dir = join(cacheRoot, keyOf(identity));
  mkdirSync(dir, { recursive: true });
  for (const name of dataFiles) {
    const target = join(dir, name);
    if (existsSync(target)) continue;
    const partial = `${target}.partial`;
    rmSync(partial, { force: true });
    try {
      linkSync(join(sourceDir, name), partial);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw error;
      const gb = statSync(join(sourceDir, name)).size / 1e9;
      notes.push(
        `the adapter cache (${cacheRoot}) is on another disk than the model, so ${name} (${gb.toFixed(1)} GB) was copied there once`,
      );
      copyFileSync(join(sourceDir, name), partial);
    }
    renameSync(partial, target);
  }
  return dir;
}

/** Marks an adapted graph as just used (eviction keeps the most recently used). */
export function touch(dir: string, stem: string): void {
  const now = new Date();
  for (const ext of ['.onnx', '.bin']) {
    const path = join(dir, stem + ext);
    if (existsSync(path)) utimesSync(path, now, now);
  }
}

/** Removes all but the `keep` most recently used adapted graphs of a component folder. */
export function evict(dir: string, keep: number): void {
  const graphs = readdirSync(dir)
    .filter((name) => name.endsWith('.onnx'))
    .map((name) => ({ stem: name.slice(0, -'.onnx'.length), used: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const { stem } of graphs.slice(keep)) {
    for (const ext of ['.onnx', '.bin']) {
      try {
        rmSync(join(dir, stem + ext), { force: true });
      } catch {
        // Still open where the system keeps open files (Windows): removed on a later run.
      }
    }
  }
}
