// The import cache: content hashes, keys that change with every option that changes the output,
// reuse of a complete import, a new import after the file changes, nothing reused that is incomplete.
// The importer is replaced by a fake that writes a folder the way the real one does (temp + rename).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { cacheKey, completeImport, ensureImported, hashSource, insideCache, removeStalePartials } from './cache.ts';
import { HASH_MEMO_FILE } from './hash-memo.ts';
import { IMPORTER_VERSION, ImportCancelled, type ImportOptions, type ImportResult } from './importer.ts';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'import-cache-'));
}

/** A scratch folder with an empty cache/ beside a model file holding `content`. */
function cacheWithSource(content: string): { cacheRoot: string; source: string } {
  const dir = scratch();
  const cacheRoot = join(dir, 'cache');
  mkdirSync(cacheRoot);
  const source = join(dir, 'model.safetensors');
  writeFileSync(source, content);
  return { cacheRoot, source };
}

/** Writes what importModel writes, into a partial folder renamed at the end; counts its calls. */
function fakeImporter(calls: string[] = []) {
  return async (source: string, options: ImportOptions): Promise<ImportResult> => {
    calls.push(source);
    const partial = join(dirname(options.out), `.${basename(options.out)}.partial-abcd`);
    for (const c of ['text_encoder', 'unet', 'vae_decoder']) {
      mkdirSync(join(partial, c), { recursive: true });
      writeFileSync(join(partial, c, 'model.onnx'), 'onnx');
    }
    writeFileSync(join(partial, 'model_index.json'), '{}');
    options.onProgress?.({ stage: 'unet', bytesDone: 5, bytesTotal: 10 });
    if (options.signal?.aborted) {
      rmSync(partial, { recursive: true, force: true });
      throw new ImportCancelled();
    }
    const info = {
      importerVersion: IMPORTER_VERSION,
      source,
      sourceHash: options.sourceHash,
      family: 'sd1',
      prediction: options.prediction ?? 'epsilon',
      predictionSource: 'default',
      precision: options.precision ?? 'fp32',
    };
    writeFileSync(join(partial, 'import_info.json'), JSON.stringify(info));
    renameSync(partial, options.out);
    return {
      dir: options.out,
      family: 'sd1',
      prediction: info.prediction,
      predictionSource: 'default',
      precision: info.precision,
      cudaGraph: false,
      notes: [],
      seconds: 0,
      bytes: 10,
    };
  };
}

test('hashSource: a file is its sha256; a folder covers its model files by path and content, not other files', async () => {
  const dir = scratch();
  writeFileSync(join(dir, 'model.safetensors'), 'weights');
  assert.equal(await hashSource(join(dir, 'model.safetensors')), createHash('sha256').update('weights').digest('hex'));

  const folder = join(dir, 'diffusers');
  mkdirSync(join(folder, 'unet'), { recursive: true });
  writeFileSync(join(folder, 'model_index.json'), '{}');
  writeFileSync(join(folder, 'unet', 'diffusion_pytorch_model.safetensors'), 'unet');
  const first = await hashSource(folder);
  writeFileSync(join(folder, 'README.md'), 'not part of the model');
  assert.equal(await hashSource(folder), first, 'other files do not count');
  writeFileSync(join(folder, 'unet', 'config.json'), '{}');
  assert.notEqual(await hashSource(folder), first, 'a config counts');
  await assert.rejects(hashSource(join(dir, 'missing.safetensors')), /does not exist/);
});

test('cacheKey changes with every option that changes the output', () => {
  const base = { sourceHash: 'a'.repeat(64), precision: 'fp32' as const };
  const keys = new Set([
    cacheKey(base),
    cacheKey({ ...base, precision: 'fp16' }),
    cacheKey({ ...base, prediction: 'v_prediction' }),
    cacheKey({ ...base, vaeHash: 'b' }),
    cacheKey({ ...base, configHash: 'c' }),
    cacheKey({ ...base, sourceHash: 'd'.repeat(64) }),
  ]);
  assert.equal(keys.size, 6);
  assert.equal(cacheKey(base), cacheKey({ ...base }));
  assert.match(cacheKey(base), /^sd-[0-9a-f]{32}$/);
});

test('ensureImported imports once, reuses the complete folder, and imports again when the file changes', async () => {
  const { cacheRoot, source } = cacheWithSource('version 1');
  const calls: string[] = [];
  const stages: string[] = [];
  const first = await ensureImported(source, { cacheRoot, importer: fakeImporter(calls), onProgress: (p) => stages.push(p.stage) });
  assert.equal(first.reused, false);
  assert.deepEqual([...new Set(stages)], ['hashing', 'unet']);
  const again = await ensureImported(source, { cacheRoot, importer: fakeImporter(calls) });
  assert.equal(again.reused, true);
  assert.equal(again.dir, first.dir);
  assert.equal(calls.length, 1);

  const fp16 = await ensureImported(source, { cacheRoot, precision: 'fp16', importer: fakeImporter(calls) });
  assert.notEqual(fp16.dir, first.dir, 'another precision is another folder');
  writeFileSync(source, 'version 2');
  const changed = await ensureImported(source, { cacheRoot, importer: fakeImporter(calls) });
  assert.equal(changed.reused, false);
  assert.notEqual(changed.dir, first.dir);
  assert.equal(calls.length, 3);
  assert.ok(insideCache(cacheRoot, changed.dir));
  assert.ok(!insideCache(cacheRoot, source));
  assert.ok(!insideCache(cacheRoot, join(changed.dir, 'unet')), "only the cache's own folders");
});

test('ensureImported remembers the hash in the cache root: an unchanged file is found again without reading it', async () => {
  const { cacheRoot, source } = cacheWithSource('version 1');
  const old = new Date(Date.now() - 3600 * 1000); // older than the memo's window for files still being written
  utimesSync(source, old, old);
  const calls: string[] = [];
  const first = await ensureImported(source, { cacheRoot, importer: fakeImporter(calls) });
  assert.ok(existsSync(join(cacheRoot, HASH_MEMO_FILE)));
  writeFileSync(source, 'version 2'); // same size; the mtime put back: only reading it would tell
  utimesSync(source, old, old);
  const again = await ensureImported(source, { cacheRoot, importer: fakeImporter(calls) });
  assert.equal(again.dir, first.dir);
  assert.equal(again.reused, true);
  assert.equal(again.sourceHash, createHash('sha256').update('version 1').digest('hex'));
  assert.equal(calls.length, 1);
});

test('an incomplete or foreign folder under the key is not reused: it is imported again', async () => {
  const { cacheRoot, source } = cacheWithSource('weights');
  const calls: string[] = [];
  const { dir: out, sourceHash } = await ensureImported(source, { cacheRoot, importer: fakeImporter(calls) });
  rmSync(join(out, 'unet', 'model.onnx'));
  assert.equal(completeImport(out, { sourceHash, precision: 'fp32' }), null);
  await ensureImported(source, { cacheRoot, importer: fakeImporter(calls) });
  assert.equal(calls.length, 2);
  writeFileSync(
    join(out, 'import_info.json'),
    JSON.stringify({ importerVersion: IMPORTER_VERSION - 1, source, sourceHash, family: 'sd1', prediction: 'epsilon', precision: 'fp32' }),
  );
  assert.equal(completeImport(out, { sourceHash, precision: 'fp32' }), null, "an older importer's output");
  await ensureImported(source, { cacheRoot, importer: fakeImporter(calls) });
  assert.equal(calls.length, 3);
  assert.ok(completeImport(out, { sourceHash, precision: 'fp32' }));
});

test('a cancelled import leaves nothing in the cache', async () => {
  const { cacheRoot, source } = cacheWithSource('weights');
  const controller = new AbortController();
  const importer = fakeImporter();
  await assert.rejects(
    ensureImported(source, {
      cacheRoot,
      signal: controller.signal,
      importer: (s, o) =>
        importer(s, {
          ...o,
          onProgress: (p) => {
            o.onProgress?.(p);
            controller.abort();
          },
        }),
    }),
    ImportCancelled,
  );
  assert.deepEqual(readdirSync(cacheRoot), []);
});

test('removeStalePartials removes old leftovers of killed imports only', () => {
  const cacheRoot = scratch();
  mkdirSync(join(cacheRoot, '.sd-1.partial-0a1b'));
  mkdirSync(join(cacheRoot, '.sd-2.partial-0a1c'));
  mkdirSync(join(cacheRoot, 'sd-3'));
  const old = new Date(Date.now() - 24 * 3600 * 1000);
  utimesSync(join(cacheRoot, '.sd-1.partial-0a1b'), old, old);
  utimesSync(join(cacheRoot, 'sd-3'), old, old);
  removeStalePartials(cacheRoot);
  assert.deepEqual(readdirSync(cacheRoot).sort(), ['.sd-2.partial-0a1c', 'sd-3']);
});

test("a new import removes the older importer's imports of the same source, and nothing else", async () => {
  const { cacheRoot, source } = cacheWithSource('weights');
  const sourceHash = await hashSource(source);
  const folder = (name: string, info: Record<string, unknown>) => {
    const dir = join(cacheRoot, name);
    mkdirSync(join(dir, 'unet'), { recursive: true });
    writeFileSync(join(dir, 'unet', 'model.onnx'), 'onnx');
    const fields = { source, family: 'sd1', prediction: 'epsilon', precision: 'fp32', ...info };
    writeFileSync(join(dir, 'import_info.json'), JSON.stringify(fields));
    return dir;
  };
  const older = folder('sd-older', { importerVersion: IMPORTER_VERSION - 1, sourceHash });
  const otherSource = folder('sd-other-source', { importerVersion: IMPORTER_VERSION - 1, sourceHash: 'f'.repeat(64) });
  const current = folder('sd-current-fp16', { importerVersion: IMPORTER_VERSION, sourceHash, precision: 'fp16' });
  const foreign = join(cacheRoot, 'sd-not-an-import');
  mkdirSync(foreign);
  const { dir, reused } = await ensureImported(source, { cacheRoot, importer: fakeImporter() });
  assert.equal(reused, false);
  assert.equal(existsSync(older), false, "the older importer's folder of this source");
  for (const kept of [otherSource, current, foreign, dir]) assert.ok(existsSync(kept), kept);
});
