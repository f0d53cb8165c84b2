// The models the app lists: the built-in one(s), the folders in the data folder's models/ (scanned on
// every listing, so a folder copied there shows up), and those the user added (models.json: a
// diffusers-ONNX folder used in place, or an import that lives in the cache). Removing a model drops
// its entry, and deletes its cached import when no other entry uses it; never a user's own files.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import type { ModelOrigin, ModelSummary } from '../src-core/contract/models.ts';
import { insideCache } from '../src-core/import/cache.ts';
import { describeFsError, writeFileAtomic } from './atomic-write.ts';
import { isOnnxModelFolder, modelFacts } from './model-facts.ts';

const EntrySchema = z.object({
  /** The folder the engine loads. */
  dir: z.string().min(1),
  label: z.string().min(1).max(200),
  /** What the user added: a diffusers-ONNX folder (used in place), a checkpoint or a diffusers folder (imported). */
  kind: z.enum(['diffusers-onnx', 'checkpoint', 'diffusers']),
  /** The user's file or folder an import was made from. */
  source: z.string().min(1).optional(),
  addedAt: z.string(),
});
const ModelsFileSchema = z.object({ version: z.literal(1), models: z.array(EntrySchema).max(10_000) });

export type LibraryEntry = z.infer<typeof EntrySchema>;

export class LibraryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LibraryError';
  }
}

export interface LibraryOptions {
  dataDir: string;
  /** The folder holding the built-in model(s). */
  builtinRoot: string;
}

export class ModelLibrary {
  /** The data folder's models/ (scanned) and the import cache. */
  readonly modelsDir: string;
  readonly cacheDir: string;
  private readonly file: string;
  /** Why models.json was set aside at start (invalid), for the log; null when it was fine. */
  readonly setAside: string | null = null;

  constructor(private readonly options: LibraryOptions) {
    this.modelsDir = join(options.dataDir, 'models');
    this.cacheDir = join(options.dataDir, 'model-cache');
    this.file = join(options.dataDir, 'models.json');
    for (const dir of [this.modelsDir, this.cacheDir]) {
      try {
        mkdirSync(dir, { recursive: true });
      } catch {
        /* reported when something is written there */
      }
    }
    if (existsSync(this.file) && this.readEntries() === null) {
      // Kept for the user to look at; the app starts with an empty list rather than refusing to start.
      const aside = `${this.file}.invalid-${Date.now()}`;
      try {
        renameSync(this.file, aside);
        this.setAside = `models.json was not valid and was set aside as ${basename(aside)}`;
      } catch {
        this.setAside = 'models.json is not valid and is ignored';
      }
    }
  }

  /** The entries of models.json; [] when there is none; null when it does not validate. */
  private readEntries(): LibraryEntry[] | null {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    try {
      const parsed = ModelsFileSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data.models : null;
    } catch {
      return null;
    }
  }

  entries(): LibraryEntry[] {
    return this.readEntries() ?? [];
  }

  private write(entries: LibraryEntry[]): void {
    try {
      writeFileAtomic(this.file, JSON.stringify({ version: 1, models: entries }, null, 2));
    } catch (error) {
      throw new LibraryError(`the model list cannot be saved (${describeFsError(error)})`);
    }
  }

  private builtin(): string[] {
    const root = this.options.builtinRoot;
    return existsSync(root)
      ? readdirSync(root)
          .map((n) => join(root, n))
          .filter((d) => existsSync(join(d, 'model_index.json')))
      : [];
  }

  private scanned(): string[] {
    try {
      return readdirSync(this.modelsDir)
        .filter((n) => !n.startsWith('.'))
        .map((n) => join(this.modelsDir, n))
        .filter(isOnnxModelFolder);
    } catch {
      return [];
    }
  }

  /** Every model, in picker order: built-in, the models folder, then added ones in the order added. */
  list(): ModelSummary[] {
    const seen = new Set<string>();
    const out: ModelSummary[] = [];
    const push = (dir: string, origin: ModelOrigin, name: string) => {
      const full = resolve(dir);
      if (seen.has(full)) return;
      seen.add(full);
      const facts = modelFacts(full);
      out.push({
        dir: full,
        name,
        embedded: origin === 'built-in',
        origin,
        removable: origin === 'added' || origin === 'imported',
        ...facts,
      });
    };
    for (const dir of this.builtin()) push(dir, 'built-in', basename(dir));
    for (const dir of this.scanned()) push(dir, 'models-folder', basename(dir));
    for (const entry of this.entries()) {
      // An added folder that was moved or deleted is not offered (its entry stays until removed).
      if (isOnnxModelFolder(entry.dir)) push(entry.dir, entry.kind === 'diffusers-onnx' ? 'added' : 'imported', entry.label);
    }
    return out;
  }

  find(dir: string): ModelSummary | undefined {
    const full = resolve(dir);
    return this.list().find((m) => m.dir === full);
  }

  /** Adds an entry (a folder in place, or a finished import); an entry for the same folder is replaced. */
  add(entry: Omit<LibraryEntry, 'addedAt'>): ModelSummary {
    const dir = resolve(entry.dir);
    const entries = this.entries().filter((e) => resolve(e.dir) !== dir);
    this.write([...entries, { ...entry, dir, addedAt: new Date().toISOString() }]);
    const model = this.find(dir);
    if (!model) throw new LibraryError(`${dir} was added but is not a model folder the app can list`);
    return model;
  }

  /** An added entry for this folder (model.select remembers folders picked by path). */
  has(dir: string): boolean {
    const full = resolve(dir);
    return this.list().some((m) => m.dir === full);
  }

  /**
   * Drops a model from the list; its cached import is deleted when no other entry uses it. Built-in
   * models and folders in the models folder are refused (say where they are instead).
   */
  remove(dir: string): { removed: boolean; deleted: boolean } {
    const full = resolve(dir);
    const entries = this.entries();
    const mine = entries.filter((e) => resolve(e.dir) === full);
    if (mine.length === 0) {
      const listed = this.find(full);
      if (listed?.origin === 'built-in') throw new LibraryError('the built-in model cannot be removed');
      if (listed?.origin === 'models-folder')
        throw new LibraryError(`${basename(full)} is in the models folder (${this.modelsDir}); move it out of there to remove it`);
      return { removed: false, deleted: false };
    }
    const rest = entries.filter((e) => resolve(e.dir) !== full);
    this.write(rest);
    const cached = insideCache(this.cacheDir, full) && mine.some((e) => e.kind !== 'diffusers-onnx');
    if (!cached) return { removed: true, deleted: false };
    try {
      rmSync(full, { recursive: true, force: true });
      return { removed: true, deleted: true };
    } catch {
      // Off the list already: a folder that would not go (in use on Windows) is not worth failing for.
      return { removed: true, deleted: false };
    }
  }
}
