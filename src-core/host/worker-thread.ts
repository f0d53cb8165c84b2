// Starting one of the project's worker threads, from sources under tsx or from the bundled app. Bundled for
// Electron (CommonJS in out/), a worker's entry is bundled beside the code that starts it, and its code is read and
// evaluated rather than loaded by path, as only Electron's fs reads inside the app's asar. Under tsx, Node 20 does
// not apply tsx's loader to a worker's entry file, so the worker registers tsx itself, then imports the entry.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export interface WorkerEntry {
  /** The bundle's file name in out/ (scripts/build-electron.mjs). */
  bundled: string;
  /** The TypeScript entry, as `new URL('./x.ts', import.meta.url)` in the starting module (called only under tsx). */
  source: () => URL;
  /**
   * The bundle requires modules left outside it (onnxruntime-node): it is given a require that resolves from its own
   * file's place, as evaluated code would otherwise resolve from the working folder.
   */
  requiresExternals?: boolean;
}

export function startWorker(entry: WorkerEntry, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (typeof __dirname === 'string') {
    const file = join(__dirname, entry.bundled);
    const bundle = readFileSync(file, 'utf8');
    const code = entry.requiresExternals
      ? `(function (require) {\n${bundle}\n})(require('node:module').createRequire(${JSON.stringify(file)}));`
      : bundle;
    return new Worker(code, { ...options, eval: true });
  }
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = JSON.stringify(entry.source().href);
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${source}); })`;
  return new Worker(code, { ...options, eval: true });
}
