// npm run generate saves each batch while the next one samples: files in order with their own parameters,
// and a failed write (a full disk) ends the run with the reason, keeping what was written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isCompletePng } from '../png/complete.ts';
import { readTextChunks } from '../png/text-chunks.ts';
import { mountTmpfs } from '../../tests/helpers/scratch-mount.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const generate = (out: string, ...args: string[]) =>
  promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'src-core/cli/generate.ts', '--prompt', 'a red circle', '--seed', '7', '--steps', '3', '--out', out, ...args],
    { cwd: ROOT },
  );

test('a batch count writes one numbered file per image, in order, each with its own seed', async () => {
  const out = mkdtempSync(join(tmpdir(), 'generate-saving-'));
  try {
    const { stdout } = await generate(out, '--count', '3', '--batch-size', '2');
    const files = readdirSync(out).sort();
    assert.deepEqual(files, ['00001-7.png', '00002-8.png', '00003-9.png', '00004-10.png', '00005-11.png', '00006-12.png']);
    assert.deepEqual(
      stdout.split('\n').filter((l) => l.includes('.png')),
      files.map((f, k) => `${join(out, f)}  seed ${7 + k}  64x64`),
    );
    files.forEach((f, k) => {
      const png = readFileSync(join(out, f));
      assert.ok(isCompletePng(png), f);
      assert.match(readTextChunks(png).parameters, new RegExp(`Seed: ${7 + k},`));
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('a full disk stops the run with its reason and keeps the files written before', async (t) => {
  const mount = mountTmpfs(16 * 1024); // room for one 64x64 PNG (about 10 KB)
  if ('skipReason' in mount) return t.skip(mount.skipReason);
  try {
    const error = await generate(mount.dir, '--count', '6').then(
      () => assert.fail('the run should fail'),
      (e: { code: number; stderr: string; stdout: string }) => e,
    );
    assert.equal(error.code, 1);
    assert.match(error.stderr, /error: could not write .*00002-8\.png: the disk is full/);
    assert.match(error.stdout, /00001-7\.png {2}seed 7/);
    assert.deepEqual(readdirSync(mount.dir), ['00001-7.png'], 'the first file stays, no partial file is left');
    assert.ok(isCompletePng(readFileSync(join(mount.dir, '00001-7.png'))));
  } finally {
    mount.unmount();
  }
});
