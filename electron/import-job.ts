// Runs one model import at a time in a worker thread (import-worker.ts) and turns its progress into
// what the UI shows: the stage, bytes, the whole import's fraction and an ETA. Cancel asks the worker
// to abort (the importer removes what it wrote); a worker that does not stop in time is ended and its
// temporary folder removed here.
import { basename, dirname } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../src-core/host/worker-thread.ts';
import { appRoot } from '../src-core/app-root.ts';
import type { ImportStage } from '../src-core/contract/models.ts';
import type { CacheProgress } from '../src-core/import/cache.ts';
import { removeStalePartials } from '../src-core/import/cache.ts';
import type { ImportRequest, ImportWorkerCommand, ImportWorkerReply } from './import-worker.ts';

/** How long a cancelled import may take to clean up before its worker is ended. */
const CANCEL_GRACE_MS = 15_000;
/** Starting the worker compiles its TypeScript under tsx (seconds on a busy machine). */
const START_TIMEOUT_MS = 120_000;

export interface ImportOutcome {
  dir: string;
  reused: boolean;
  notes: string[];
  seconds: number;
}

export interface ImportView {
  stage: ImportStage;
  bytesDone: number;
  bytesTotal: number;
  fraction: number;
  etaSeconds: number | null;
}

/** The whole import's progress: hashing is its first tenth, writing the networks the rest. */
export function overallFraction(p: CacheProgress): number {
  const f = p.bytesTotal > 0 ? Math.min(1, Math.max(0, p.bytesDone / p.bytesTotal)) : 0;
  if (p.stage === 'hashing') return 0.1 * f;
  if (p.stage === 'finishing') return 0.99;
  return 0.1 + 0.89 * f;
}

/**
 * Seconds left, from the rate of the current phase (hashing, then importing: they run at very different
 * speeds); null while hashing (the import's own speed is not known yet) and until there is a rate.
 */
export class EtaEstimator {
  private phase: 'hashing' | 'import' | null = null;
  private phaseStart = 0;

  update(p: CacheProgress, now: number): number | null {
    const phase = p.stage === 'hashing' ? 'hashing' : 'import';
    if (phase !== this.phase) [this.phase, this.phaseStart] = [phase, now];
    if (phase === 'hashing' || p.stage === 'reading') return null;
    const elapsed = (now - this.phaseStart) / 1000;
    const done = p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : 0;
    if (p.stage === 'finishing' || done >= 1) return 0;
    if (done < 0.01 || elapsed < 0.5) return null;
    return Math.round((elapsed * (1 - done)) / done);
  }
}

function startImportWorker(): Worker {
  // Bundled, it finds the app's files through RESTART_STUDIO_ROOT and its external modules (onnxruntime-node, for
  // SD 2's prediction test) from its own file's place.
  return startWorker(
    { bundled: 'import-worker.cjs', source: () => new URL('./import-worker.ts', import.meta.url), requiresExternals: true },
    { env: { ...process.env, RESTART_STUDIO_ROOT: appRoot() } },
  );
}

export interface RunningImport {
  readonly id: string;
  /** Resolves with the finished import; rejects with ImportFailed. */
  readonly done: Promise<ImportOutcome>;
  /** The latest progress (null before the first report). */
  progress(): ImportView | null;
  cancel(): void;
}

export class ImportFailed extends Error {
  constructor(
    message: string,
    readonly cancelled: boolean,
  ) {
    super(message);
    this.name = 'ImportFailed';
  }
}

/** Starts an import in a new worker; `onProgress` gets each report with its fraction and ETA. */
export function runImport(
  id: string,
  request: ImportRequest,
  onProgress: (view: ImportView) => void,
  spawn: () => Worker = startImportWorker,
): RunningImport {
  const worker = spawn();
  const eta = new EtaEstimator();
  let latest: ImportView | null = null;
  let target: string | undefined;
  let cancelled = false;
  let killTimer: NodeJS.Timeout | undefined;
  const send = (command: ImportWorkerCommand) => worker.postMessage(command);

  const done = new Promise<ImportOutcome>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: ImportOutcome | ImportFailed) => {
      if (settled) return;
      settled = true;
      clearTimeout(startTimer);
      clearTimeout(killTimer);
      void worker.terminate();
      if (outcome instanceof ImportFailed) {
        // A worker ended mid-write leaves its temporary folder; the importer removes it otherwise.
        if (target) removeStalePartials(dirname(target), Date.now(), basename(target));
        reject(outcome);
      } else {
        resolve(outcome);
      }
    };
    const startTimer = setTimeout(
      () => finish(new ImportFailed('the import could not start (its worker did not answer)', false)),
      START_TIMEOUT_MS,
    );
    worker.on('message', (reply: ImportWorkerReply) => {
      switch (reply.type) {
        case 'ready':
          clearTimeout(startTimer);
          send({ type: 'start', request });
          if (cancelled) send({ type: 'cancel' });
          break;
        case 'target':
          target = reply.dir;
          break;
        case 'progress':
          latest = {
            stage: reply.progress.stage,
            bytesDone: reply.progress.bytesDone,
            bytesTotal: reply.progress.bytesTotal,
            fraction: overallFraction(reply.progress),
            etaSeconds: eta.update(reply.progress, performance.now()),
          };
          onProgress(latest);
          break;
        case 'done':
          finish({ dir: reply.dir, reused: reply.reused, notes: reply.notes, seconds: reply.seconds });
          break;
        case 'failed':
          finish(new ImportFailed(reply.error, reply.cancelled || cancelled));
          break;
      }
    });
    worker.on('error', (error) =>
      finish(new ImportFailed(cancelled ? 'import cancelled' : `the import stopped: ${error.message}`, cancelled)),
    );
    worker.on('exit', (code) =>
      finish(new ImportFailed(cancelled ? 'import cancelled' : `the import stopped unexpectedly (exit code ${code})`, cancelled)),
    );
  });
  done.catch(() => undefined); // the caller handles it; unheard it would crash the app

  return {
    id,
    done,
    progress: () => latest,
    cancel: () => {
      if (cancelled) return;
      cancelled = true;
      send({ type: 'cancel' });
      killTimer = setTimeout(() => void worker.terminate(), CANCEL_GRACE_MS);
      killTimer.unref();
    },
  };
}
