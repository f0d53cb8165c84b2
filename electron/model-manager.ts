// The contract's model management on the main side: model.add (a path checked here: it exists, it is
// a diffusers-ONNX folder, or a checkpoint / diffusers folder the importer accepts), one import at a
// time in a worker with progress events (later ones wait in a queue, each started when the one before
// it ends, however it ends), cancel (running or waiting), remove. A failed or cancelled import leaves
// nothing in the list or the cache; every error says what was wrong.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { z } from 'zod';
import type { ImportProgressEvent, ModelAddSchema, ModelEvents, ModelResults, ModelSummary } from '../src-core/contract/models.ts';
import { inspectImportSource } from '../src-core/import/source.ts';
import { NotRegularFileError, statRegularFile } from '../src-core/regular-file.ts';
import { describeFsError, writeFileAtomic } from './atomic-write.ts';
import { ImportFailed, runImport, type RunningImport } from './import-job.ts';
import type { ImportRequest } from './import-worker.ts';
import { isOnnxModelFolder, missingModelParts } from './model-facts.ts';
import { ModelLibrary } from './model-library.ts';

/** What a caller may do: local paths are taken only from this machine's own user (see the server). */
export interface CallerRights {
  localPaths: boolean;
}

export type ModelAddParams = z.output<typeof ModelAddSchema>;

type Emit = <E extends keyof ModelEvents>(event: E, data: ModelEvents[E]) => void;

/** Error text for a path that cannot be used, or null when it can be read. */
function pathProblem(path: string, what: string): string | null {
  if (!isAbsolute(path)) return `the ${what} must be an absolute path: ${path}`;
  try {
    // A FIFO or a device would block or never end when read.
    statRegularFile(path, { label: `the ${what} ${path}`, folderOk: true });
    return null;
  } catch (error) {
    if (error instanceof NotRegularFileError) return error.message;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return `the ${what} ${path} does not exist`;
    if (code === 'EACCES' || code === 'EPERM') return `the ${what} ${path} cannot be read (permission denied)`;
    return `the ${what} ${path} cannot be read: ${(error as Error).message}`;
  }
}

/** A diffusers-ONNX folder is used as it is: one the engine cannot load is refused here, with what it lacks. */
function refuseIncomplete(dir: string): void {
  const missing = missingModelParts(dir);
  if (missing.length > 0) throw new Error(`cannot add ${basename(dir)}: the diffusers-ONNX folder has no ${missing.join(', ')}`);
}

/** Imports that may wait at once: a queue is for a user's handful of files, not for a client that floods it. */
const MAX_WAITING = 32;

/** An import accepted by model.add: running, or waiting for its turn. */
interface QueuedImport {
  importId: string;
  source: string;
  label: string;
  kind: 'checkpoint' | 'diffusers';
  request: ImportRequest;
}

export class ModelManager {
  private running: (QueuedImport & { job: RunningImport }) | null = null;
  /** Imports waiting for the running one, in order. */
  private readonly waiting: QueuedImport[] = [];
  private stopped = false;

  constructor(
    readonly library: ModelLibrary,
    private readonly emit: Emit,
    private readonly run = runImport,
  ) {}

  list(): ModelSummary[] {
    return this.library.list();
  }

  async add(params: ModelAddParams, caller: CallerRights): Promise<ModelResults['model.add']> {
    if (!caller.localPaths)
      throw new Error("models can be added by path only from this computer (a loopback client) or with the server's token");
    const path = resolve(params.path);
    const problem = pathProblem(path, 'model');
    if (problem) throw new Error(problem);
    const label = params.label ?? basename(path).replace(/\.safetensors$/i, '');

    if (isOnnxModelFolder(path)) {
      const listed = this.library.find(path);
      if (listed) return { model: listed, alreadyListed: true, notes: [] };
      refuseIncomplete(path);
      return { model: this.library.add({ dir: path, label, kind: 'diffusers-onnx' }), notes: [] };
    }
    // Headers and configs only: what it is, or why it cannot be imported (SDXL, a LoRA, a truncated file...).
    const look = inspectImportSource(path);
    if (look.problem) throw new Error(`cannot add ${basename(path)}: ${look.problem}`);
    if (look.kind === 'diffusers-onnx') refuseIncomplete(path);
    for (const [extra, what] of [
      [params.vae, 'VAE file'],
      [params.config, 'architecture folder'],
    ] as const) {
      const extraProblem = extra === undefined ? null : pathProblem(extra, what);
      if (extraProblem) throw new Error(extraProblem);
    }
    this.checkCacheWritable();
    if (this.waiting.length >= MAX_WAITING) {
      throw new Error(`${MAX_WAITING} imports are already waiting: add this one when some of them have finished`);
    }

    const importId = randomUUID();
    const request: ImportRequest = {
      source: path,
      cacheRoot: this.library.cacheDir,
      precision: params.precision,
      prediction: params.prediction,
      vae: params.vae && resolve(params.vae),
      config: params.config && resolve(params.config),
    };
    this.waiting.push({ importId, source: path, label, kind: look.kind as 'checkpoint' | 'diffusers', request });
    if (!this.running) {
      this.startNext();
      return { importId, notes: look.notes };
    }
    const ahead = this.waiting.length;
    this.emit('import.progress', this.queuedView(this.waiting[ahead - 1], ahead));
    return { importId, ahead, notes: look.notes };
  }

  /** Starts the first waiting import, if any; the others' places in the queue move up. */
  private startNext(): void {
    const next = this.stopped ? undefined : this.waiting.shift();
    if (!next) return;
    const { importId, source, label, kind } = next;
    let job: RunningImport;
    try {
      job = this.run(importId, next.request, (view) => this.emit('import.progress', { importId, source, label, ...view }));
    } catch (error) {
      // Its worker could not be made: say so, and go on with the next one.
      this.fail(importId, source, `the import could not start: ${(error as Error).message}`, false);
      return;
    }
    this.running = { ...next, job };
    // Said at once (the worker takes seconds to report): it no longer waits.
    this.emit('import.progress', this.status()!);
    this.waiting.forEach((q, i) => this.emit('import.progress', this.queuedView(q, i + 1)));
    void job.done.then(
      (outcome) => this.finish(importId, source, label, kind, outcome),
      (error: Error) => this.fail(importId, source, error.message, error instanceof ImportFailed && error.cancelled),
    );
  }

  private queuedView(q: QueuedImport, ahead: number): ImportProgressEvent {
    return {
      importId: q.importId,
      source: q.source,
      label: q.label,
      stage: 'queued',
      bytesDone: 0,
      bytesTotal: 0,
      fraction: 0,
      etaSeconds: null,
      ahead,
    };
  }

  /** The cache must take files before an import starts (a read-only data folder is said at once). */
  private checkCacheWritable(): void {
    const probe = join(this.library.cacheDir, `.write-check-${process.pid}`);
    try {
      mkdirSync(this.library.cacheDir, { recursive: true });
      writeFileAtomic(probe, 'ok');
      rmSync(probe, { force: true });
    } catch (error) {
      throw new Error(`cannot import into the model cache ${this.library.cacheDir}: ${describeFsError(error)}`);
    }
  }

  private finish(
    importId: string,
    source: string,
    label: string,
    kind: 'checkpoint' | 'diffusers',
    outcome: { dir: string; reused: boolean; notes: string[]; seconds: number },
  ): void {
    this.running = null;
    const wasListed = this.library.find(outcome.dir) !== undefined;
    let model: ModelSummary;
    try {
      model = this.library.add({ dir: outcome.dir, label, kind, source });
    } catch (error) {
      // Not listed means not kept: an import nobody can pick would only fill the disk.
      if (!wasListed) rmSync(outcome.dir, { recursive: true, force: true });
      this.fail(importId, source, `the model was imported but ${(error as Error).message}; the import was removed`, false);
      return;
    }
    this.emit('import.done', { importId, model, notes: outcome.notes, seconds: outcome.seconds, reused: outcome.reused });
    this.startNext();
  }

  /** The import ended without a model; the next one starts all the same. */
  private fail(importId: string, source: string, error: string, cancelled: boolean): void {
    this.running = null;
    this.emit('import.failed', { importId, source, error: cancelled ? 'import cancelled; nothing was kept' : error, cancelled });
    this.startNext();
  }

  cancel(importId: string): ModelResults['model.cancelImport'] {
    if (this.running?.job.id === importId) {
      this.running.job.cancel();
      return { cancelled: true };
    }
    const index = this.waiting.findIndex((q) => q.importId === importId);
    if (index === -1) return { cancelled: false };
    // Nothing was written yet: it leaves the queue, and those behind it move up.
    const [gone] = this.waiting.splice(index, 1);
    this.emit('import.failed', { importId, source: gone.source, error: 'import cancelled; nothing was kept', cancelled: true });
    this.waiting.slice(index).forEach((q, i) => this.emit('import.progress', this.queuedView(q, index + i + 1)));
    return { cancelled: true };
  }

  status(): ModelResults['model.importStatus'] {
    if (!this.running) return null;
    const { job, source, label } = this.running;
    const view = job.progress() ?? { stage: 'hashing' as const, bytesDone: 0, bytesTotal: 0, fraction: 0, etaSeconds: null };
    return { importId: job.id, source, label, ...view };
  }

  queue(): ModelResults['model.importQueue'] {
    return this.waiting.map((q, i) => this.queuedView(q, i + 1));
  }

  /** Removes an added model; the one the engine has loaded stays (switch first). */
  remove(dir: string, loaded: string | undefined, caller: CallerRights): ModelResults['model.remove'] {
    if (!caller.localPaths) throw new Error("models can be removed only from this computer (a loopback client) or with the server's token");
    const full = resolve(dir);
    const inUse = loaded !== undefined && resolve(loaded) === full;
    if (inUse && this.library.find(full)?.removable) throw new Error('this model is in use: switch to another model first, then remove it');
    return this.library.remove(full);
  }

  stop(): void {
    this.stopped = true;
    this.waiting.length = 0;
    this.running?.job.cancel();
  }
}
