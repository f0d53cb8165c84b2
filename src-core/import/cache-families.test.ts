// The import cache across importer versions, per family: version 2 changed only SD 1/2's output, so an SDXL import
// that version 1 made (under version 1's folder name) is reused and kept, while an SD 1 one is imported again and
// removed. The old folders are made by the real importer on the tiny test models, then given version 1's
// import_info.json and folder name, as an app of version 1 left them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheKey, ensureImported, removeSuperseded } from './cache.ts';
import { IMPORTER_VERSION, importModel, type ImportOptions } from './importer.ts';
import { IMPORT_FIXTURES, SDXL_FIXTURES } from '../../tests/helpers/import-fixtures.ts';

const SDXL = join(SDXL_FIXTURES, 'diffusers');
const SD1 = join(IMPORT_FIXTURES, 'sd1', 'diffusers');
const skip = existsSync(SDXL) && existsSync(SD1) ? false : 'tests/fixtures/sdxl or tests/fixtures/import is absent';
/** The tests do not depend on whether this machine can run CUDA. */
const OPTIONS = { cudaGraph: false, precision: 'fp32' } as const;

/** The real importer, counting its calls. */
function countingImporter(calls: string[]) {
  return (source: string, options: ImportOptions) => {
    calls.push(source);
    return importModel(source, options);
  };
}

/** Imports `source` into a new cache, then turns the folder into the one version 1 of the app would have left. */
async function cacheWithVersion1Import(source: string): Promise<{ cacheRoot: string; oldDir: string; sourceHash: string }> {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'import-cache-families-'));
  const { dir, sourceHash } = await ensureImported(source, { cacheRoot, ...OPTIONS });
  const infoFile = join(dir, 'import_info.json');
  writeFileSync(infoFile, JSON.stringify({ ...JSON.parse(readFileSync(infoFile, 'utf8')), importerVersion: 1 }));
  const oldDir = join(cacheRoot, cacheKey({ sourceHash, ...OPTIONS, importer: 1 }));
  assert.notEqual(oldDir, dir, "version 1's folder name differs from this version's");
  renameSync(dir, oldDir);
  return { cacheRoot, oldDir, sourceHash };
}

test("cacheKey gives version 1's folder names with importer: 1, and this version's names as before", () => {
  // Printed by cache.ts at f22be44^ (importer version 1) and at HEAD before per-family versions (importer version 2).
  const sourceHash = 'a'.repeat(64);
  assert.equal(cacheKey({ sourceHash, precision: 'fp32', importer: 1 }), 'sd-ec74a11d6a2eb6f2c232fb17c49baa7c');
  assert.equal(cacheKey({ sourceHash, precision: 'fp16', cudaGraph: true, importer: 1 }), 'sd-99cf037838514cfa1dcec63a17cd0677');
  assert.equal(cacheKey({ sourceHash, precision: 'fp32' }), 'sd-995e67e3d2cdab4f889c476e8b8773e9');
});

test('an SDXL import made by importer version 1 is reused under its own name, and a new import keeps it', { skip }, async () => {
  const { cacheRoot, oldDir, sourceHash } = await cacheWithVersion1Import(SDXL);
  try {
    const before = readdirSync(cacheRoot).sort();
    const calls: string[] = [];
    const cached = await ensureImported(SDXL, { cacheRoot, ...OPTIONS, importer: countingImporter(calls) });
    assert.deepEqual(calls, [], 'nothing imported');
    assert.equal(cached.reused, true);
    assert.equal(cached.dir, oldDir);
    assert.equal(cached.info.importerVersion, 1);
    assert.equal(cached.info.family, 'sdxl');
    assert.deepEqual(readdirSync(cacheRoot).sort(), before, 'no folder added or removed');

    removeSuperseded(cacheRoot, sourceHash);
    assert.ok(existsSync(join(oldDir, 'unet', 'model.onnx')), 'removeSuperseded keeps it');
    // Another precision is a new import of the same source, which removes the superseded folders after it.
    const fp16 = await ensureImported(SDXL, { cacheRoot, ...OPTIONS, precision: 'fp16', importer: countingImporter(calls) });
    assert.equal(fp16.reused, false);
    assert.equal(calls.length, 1);
    assert.ok(existsSync(join(oldDir, 'unet', 'model.onnx')), 'a new import of its source keeps it');
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});

test('an SD 1 import made by importer version 1 is imported again, and removed', { skip }, async () => {
  const { cacheRoot, oldDir } = await cacheWithVersion1Import(SD1);
  try {
    const calls: string[] = [];
    const made = await ensureImported(SD1, { cacheRoot, ...OPTIONS, importer: countingImporter(calls) });
    assert.equal(calls.length, 1, 'imported again');
    assert.equal(made.reused, false);
    assert.notEqual(made.dir, oldDir);
    assert.equal(made.info.importerVersion, IMPORTER_VERSION);
    assert.equal(existsSync(oldDir), false, "version 1's folder is removed");
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});
