// The gallery on disk: PNG files (with their parameters inside) plus index.json. Both are written
// to a temporary name, flushed and renamed, so a crash at any moment leaves either the old or the
// new complete file. On load the index is reconciled with the folder: entries whose PNG is gone are
// dropped, complete PNGs the index missed (a crash between the two writes) are recovered from their
// own parameters.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { GalleryEntry } from '../src-core/contract/api.ts';
import { readTextChunks } from '../src-core/png/text-chunks.ts';
import { parseParameters } from '../src-core/png/parameters.ts';

export type StoredEntry = Omit<GalleryEntry, 'url'>;

export interface NewImage {
  seed: number;
  width: number;
  height: number;
  parameters: string;
  png: Uint8Array;
}

const ID = /^\d{5,}-\d+\.png$/;

/** Write bytes durably: temp file, fsync, rename, fsync of the folder. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
  try {
    const dirFd = openSync(resolve(path, '..'), 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  }
}

export class Gallery {
  private entries: StoredEntry[] = [];
  private readonly indexPath: string;
  readonly imagesDir: string;

  constructor(readonly dir: string) {
    this.imagesDir = join(dir, 'images');
    this.indexPath = join(dir, 'index.json');
    mkdirSync(this.imagesDir, { recursive: true });
    this.entries = this.load();
  }

  private load(): StoredEntry[] {
    let indexed: StoredEntry[] = [];
    if (existsSync(this.indexPath)) {
      try {
        const parsed = JSON.parse(readFileSync(this.indexPath, 'utf8'));
        if (Array.isArray(parsed?.entries)) indexed = parsed.entries.filter((e: StoredEntry) => typeof e?.id === 'string' && ID.test(e.id));
      } catch {
        indexed = []; // unreadable index: rebuilt from the PNGs below
      }
    }
    const files = new Set(readdirSync(this.imagesDir).filter((name) => ID.test(name)));
    // Leftover temporary files are writes that never completed.
    for (const name of readdirSync(this.imagesDir)) if (name.includes('.tmp-')) rmSync(join(this.imagesDir, name), { force: true });
    const kept = indexed.filter((e) => files.has(e.id));
    const known = new Set(kept.map((e) => e.id));
    const recovered = [...files].filter((f) => !known.has(f)).map((f) => this.recover(f)).filter((e): e is StoredEntry => e !== undefined);
    const entries = [...kept, ...recovered].sort((a, b) => a.id.localeCompare(b.id));
    this.entries = entries;
    if (recovered.length > 0 || kept.length !== indexed.length) this.saveIndex();
    return entries;
  }

  private recover(file: string): StoredEntry | undefined {
    try {
      const png = readFileSync(join(this.imagesDir, file));
      const parameters = readTextChunks(png).parameters ?? '';
      const values = parseParameters(parameters).values;
      const size = /^(\d+)x(\d+)$/.exec(values.Size ?? '');
      return {
        id: file, createdAt: statSync(join(this.imagesDir, file)).mtime.toISOString(), seed: Number(values.Seed ?? /-(\d+)\.png$/.exec(file)?.[1] ?? 0),
        width: size ? Number(size[1]) : 0, height: size ? Number(size[2]) : 0, parameters, evaluations: Number(values.NFE ?? 0), seconds: 0,
      };
    } catch {
      return undefined;
    }
  }

  private saveIndex(): void {
    writeFileAtomic(this.indexPath, JSON.stringify({ version: 1, entries: this.entries }));
  }

  list(): StoredEntry[] {
    return [...this.entries].reverse();
  }

  add(images: NewImage[], facts: { evaluations: number; seconds: number }): StoredEntry[] {
    let next = this.entries.reduce((max, e) => Math.max(max, Number(e.id.split('-')[0])), 0) + 1;
    const added: StoredEntry[] = [];
    for (const image of images) {
      const id = `${String(next++).padStart(5, '0')}-${image.seed}.png`;
      writeFileAtomic(join(this.imagesDir, id), image.png);
      const entry: StoredEntry = {
        id, createdAt: new Date().toISOString(), seed: image.seed, width: image.width, height: image.height,
        parameters: image.parameters, evaluations: facts.evaluations, seconds: facts.seconds,
      };
      this.entries.push(entry);
      this.saveIndex();
      added.push(entry);
    }
    return added;
  }

  delete(id: string): boolean {
    const index = this.entries.findIndex((e) => e.id === id);
    if (index < 0) return false;
    this.entries.splice(index, 1);
    this.saveIndex();
    rmSync(join(this.imagesDir, id), { force: true });
    return true;
  }

  /** The file of an entry, or undefined for anything that is not an entry of this gallery. */
  file(id: string): string | undefined {
    if (!ID.test(id) || !this.entries.some((e) => e.id === id)) return undefined;
    const path = resolve(this.imagesDir, id);
    return path.startsWith(resolve(this.imagesDir) + sep) ? path : undefined;
  }
}
