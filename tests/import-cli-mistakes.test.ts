// `npm run import` on a user's mistakes: one line "import failed: ..." and a non-zero exit, never a stack
// trace; and a diffusers folder without its tokenizer is refused before any weight is converted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { importModel, type ImportProgress } from '../src-core/import/importer.ts';
import { ImportError } from '../src-core/import/weights.ts';

const ROOT = join(import.meta.dirname, '..');
const SD1 = join(import.meta.dirname, 'fixtures', 'import', 'sd1');

async function importCli(...args: string[]): Promise<{ code: number; stderr: string }> {
  const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'src-core/cli/import.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, DEBUG: '' },
  });
  return run.then(
    () => assert.fail('the import should fail'),
    (e: { code: number; stderr: string }) => e,
  );
}

const noStack = (stderr: string) => assert.doesNotMatch(stderr, /^\s+at /m, stderr);

test('mistakes on the import command line give one line and a non-zero exit, without a stack', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-cli-'));
  try {
    writeFileSync(join(dir, 'a-file'), 'not a folder');
    const [unknown, vaeFolder, outUnderFile] = await Promise.all([
      importCli(join(SD1, 'sd1-ldm-fp32.safetensors'), '--out', join(dir, 'm1'), '--bogus'),
      importCli(join(SD1, 'sd1-ldm-fp32.safetensors'), '--out', join(dir, 'm2'), '--vae', join(SD1, 'diffusers', 'vae')),
      importCli(join(SD1, 'sd1-ldm-fp32.safetensors'), '--out', join(dir, 'a-file', 'm3')),
    ]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^import failed: Unknown option '--bogus'.*\n\nUsage: npm run import/);
    assert.equal(vaeFolder.code, 1);
    assert.match(vaeFolder.stderr, /^import failed: vae is a folder, not a regular file; give its \.safetensors file\n$/);
    assert.equal(outUnderFile.code, 1);
    assert.match(outUnderFile.stderr, /^import failed: .*a-file is a file, not a folder; choose a folder for --out\n$/);
    for (const run of [unknown, vaeFolder, outUnderFile]) noStack(run.stderr);
    assert.deepEqual(readdirSync(dir), ['a-file'], 'nothing is left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a diffusers folder without tokenizer/merges.txt is refused before any weight is converted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-tokenizer-'));
  try {
    const source = join(dir, 'source');
    cpSync(join(SD1, 'diffusers'), source, { recursive: true });
    rmSync(join(source, 'tokenizer', 'merges.txt'));
    const progress: ImportProgress[] = [];
    await assert.rejects(
      importModel(source, { out: join(dir, 'out'), cudaGraph: false, onProgress: (p) => progress.push(p) }),
      (e: Error) => e instanceof ImportError && /tokenizer folder .*source\/tokenizer has no merges\.txt/.test(e.message),
    );
    assert.deepEqual(
      progress.filter((p) => p.bytesDone > 0),
      [],
      'no component was converted',
    );
    assert.deepEqual(readdirSync(dir), ['source'], 'no output or partial folder is left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
