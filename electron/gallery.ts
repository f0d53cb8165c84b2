// The gallery on disk: PNG files (with their parameters inside) plus index.json and the journal of
// changes since index.json was written (gallery-journal.ts). PNGs and index.json are written to a
// temporary name, flushed and renamed (atomic-write.ts), so a crash at any moment leaves either the old
// or the new complete file; journal records are appended and flushed. On load the index is reconciled
// with the folder: entries whose PNG is gone are dropped, complete PNGs the index missed (a crash
// between the writes) are recovered from their own parameters. Only regular files are listed or served,
// never links.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readTextChunks } from '../src-core/png/text-chunks.ts';
import { parseParameters } from '../src-core/png/parameters.ts';
import { isCompletePng } from '../src-core/png/complete.ts';
import { describeFsError, writeFileAtomic, type WriteOps } from './atomic-write.ts';
import { GALLERY_ID, validEntries, type StoredEntry } from './gallery-index.ts';
import { GalleryJournal, replay } from './gallery-journal.ts';
import { readRegularFile } from './regular-file.ts';

export type { StoredEntry } from './gallery-index.ts';
export { writeFileAtomic } from './atomic-write.ts';

export interface NewImage {
  seed: number;
  width: number;
  height: number;
  parameters: string;
  png: Uint8Array;
}

/** A gallery operation that failed, in words; `added` lists what an add() saved before it failed. */
export class GalleryError extends Error {
  constructor(
    message: string,
    readonly added: StoredEntry[] = [],
    readonly code?: string,
  ) {
    super(message);
    this.name = 'GalleryError';
  }
}

const TEMP = /\.tmp-\d+$/;

export class Gallery {
  private entries: StoredEntry[] = [];
  /** The listed ids: every thumbnail the window loads asks, and a scan of 50,000 entries took 1.1-1.5 ms each. */
  private listed = new Set<string>();
  private readonly indexPath: string;
  private readonly journal: GalleryJournal;
  /** index.json's size when it was last written, against which the journal is folded into it. */
  private indexBytes = 0;
  readonly imagesDir: string;

  /** `ops` replaces the low-level write for tests that simulate a full disk. */
  constructor(
    readonly dir: string,
    private readonly ops?: WriteOps,
  ) {
    this.imagesDir = join(dir, 'images');
    this.indexPath = join(dir, 'index.json');
    this.journal = new GalleryJournal(join(dir, 'index.journal'), ops);
    try {
      mkdirSync(this.imagesDir, { recursive: true });
    } catch (error) {
      throw new GalleryError(
        `cannot use the gallery folder ${this.imagesDir}: ${describeFsError(error)}`,
        [],
        (error as NodeJS.ErrnoException).code,
      );
    }
    this.entries = this.load();
  }

  private readIndex(): StoredEntry[] {
    if (!existsSync(this.indexPath)) return [];
    if (!statSync(this.indexPath).isFile()) {
      // Something else stands where the index belongs: keep it (renamed) and rebuild from the PNGs.
      const aside = `${this.indexPath}.not-a-file-${Date.now()}`;
      renameSync(this.indexPath, aside);
      console.warn(`gallery: ${this.indexPath} was not a file; moved it to ${aside} and rebuilt the index from the images`);
      return [];
    }
    try {
      const text = readFileSync(this.indexPath, 'utf8');
      this.indexBytes = text.length;
      return validEntries(JSON.parse(text));
    } catch {
      return []; // unreadable index: rebuilt from the PNGs
    }
  }

  private load(): StoredEntry[] {
    // Leftover temporary files are writes that never completed.
    for (const dir of [this.dir, this.imagesDir]) {
      for (const name of readdirSync(dir)) if (TEMP.test(name)) rmSync(join(dir, name), { force: true, recursive: true });
    }
    const records = this.journal.read();
    const indexed = replay(this.readIndex(), records);
    const files = new Set(
      readdirSync(this.imagesDir, { withFileTypes: true })
        .filter((d) => d.isFile() && GALLERY_ID.test(d.name))
        .map((d) => d.name),
    );
    const kept = indexed.filter((e) => files.has(e.id));
    const known = new Set(kept.map((e) => e.id));
    const recovered = [...files]
      .filter((f) => !known.has(f))
      .map((f) => this.recover(f))
      .filter((e): e is StoredEntry => e !== undefined);
    this.entries = [...kept, ...recovered].sort((a, b) => a.id.localeCompare(b.id));
    this.listed = new Set(this.entries.map((e) => e.id));
    if (records.length > 0 || recovered.length > 0 || kept.length !== indexed.length) this.fold();
    return this.entries;
  }

  /** An image the index missed, from its own parameters; an incomplete PNG is set aside, never listed. */
  private recover(file: string): StoredEntry | undefined {
    const path = join(this.imagesDir, file);
    try {
      const png = readFileSync(path);
      if (!isCompletePng(png)) {
        renameSync(path, `${path}.incomplete`);
        console.warn(`gallery: ${file} is not a complete PNG; moved it to ${file}.incomplete`);
        return undefined;
      }
      const parameters = readTextChunks(png).parameters ?? '';
      const values = parseParameters(parameters).values;
      const size = /^(\d+)x(\d+)$/.exec(values.Size ?? '');
      const seed = Number(values.Seed ?? /-(\d+)\.png$/.exec(file)?.[1] ?? 0);
      return {
        id: file,
        createdAt: statSync(path).mtime.toISOString(),
        seed: Number.isSafeInteger(seed) && seed >= 0 ? seed : 0,
        width: size ? Number(size[1]) : 0,
        height: size ? Number(size[2]) : 0,
        parameters,
        evaluations: Number(values.NFE ?? 0) || 0,
        seconds: 0,
      };
    } catch {
      return undefined;
    }
  }

  /** Writes index.json whole, then empties the journal; a failure leaves both as they were (still complete). */
  private fold(): void {
    try {
      const text = JSON.stringify({ version: 1, entries: this.entries });
      writeFileAtomic(this.indexPath, text, this.ops);
      this.indexBytes = text.length;
      this.journal.clear();
    } catch (error) {
      console.warn(`gallery: could not rewrite the index: ${describeFsError(error)}`);
    }
  }

  private foldIfDue(): void {
    if (this.journal.due(this.indexBytes)) this.fold();
  }

  list(): StoredEntry[] {
    return [...this.entries].reverse();
  }

  /**
   * Saves a batch's images, then one journal record for all of them. An image is listed only once both its PNG
   * and its record are on disk; a PNG whose record could not be written is removed again, and one the index
   * missed in a crash is recovered from its own parameters at the next start.
   */
  add(images: NewImage[], facts: Pick<StoredEntry, 'evaluations' | 'seconds' | 'source'>): StoredEntry[] {
    let next = this.entries.reduce((max, e) => Math.max(max, Number(e.id.split('-')[0])), 0) + 1;
    const written: StoredEntry[] = [];
    let failure: unknown;
    for (const image of images) {
      const id = `${String(next++).padStart(5, '0')}-${image.seed}.png`;
      try {
        writeFileAtomic(join(this.imagesDir, id), image.png, this.ops);
      } catch (error) {
        failure = error;
        break;
      }
      written.push({
        id,
        createdAt: new Date().toISOString(),
        seed: image.seed,
        width: image.width,
        height: image.height,
        parameters: image.parameters,
        evaluations: facts.evaluations,
        seconds: facts.seconds,
        ...(facts.source ? { source: facts.source } : {}),
      });
    }
    let added = written;
    if (written.length > 0) {
      try {
        this.journal.append({ add: written });
        this.entries.push(...written);
        for (const entry of written) this.listed.add(entry.id);
      } catch (error) {
        // Without their index entries the images would come back half-known after a restart: undo them.
        for (const entry of written) rmSync(join(this.imagesDir, entry.id), { force: true });
        added = [];
        failure = error;
      }
    }
    if (added.length > 0) this.foldIfDue();
    if (failure !== undefined) {
      const code = (failure as NodeJS.ErrnoException).code;
      throw new GalleryError(`could not save the image to the gallery: ${describeFsError(failure)}`, added, code);
    }
    return added;
  }

  /** Deletes the file first: if that fails (read-only folder), nothing changes and the error says why. */
  delete(id: string): boolean {
    const index = this.entries.findIndex((e) => e.id === id);
    if (index < 0) return false;
    try {
      rmSync(join(this.imagesDir, id), { force: true });
    } catch (error) {
      throw new GalleryError(`could not delete ${id}: ${describeFsError(error)}`, [], (error as NodeJS.ErrnoException).code);
    }
    this.entries.splice(index, 1);
    this.listed.delete(id);
    try {
      this.journal.append({ delete: id });
      this.foldIfDue();
    } catch (error) {
      // The file is gone; the stale index entry is dropped on the next load because its file is missing.
      console.warn(`gallery: deleted ${id} but could not record it in the index: ${describeFsError(error)}`);
    }
    return true;
  }

  /** The path of an entry's regular file, or undefined for anything else (unknown ids, links). */
  file(id: string): string | undefined {
    if (!GALLERY_ID.test(id) || !this.listed.has(id)) return undefined;
    const path = join(this.imagesDir, id);
    try {
      return lstatSync(path).isFile() ? path : undefined;
    } catch {
      return undefined;
    }
  }

  /** The bytes of an entry's file, opened without following links; undefined for anything else. */
  read(id: string): Buffer | undefined {
    const path = this.file(id);
    return path ? readRegularFile(path) : undefined;
  }
}
