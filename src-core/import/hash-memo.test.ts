// The remembered source hashes: an unchanged file (size, mtime, inode) is not read again, any change of its
// stamp is, a corrupt memo is ignored, a just-written file is not trusted, entries of removed files go.
// "Not read" is shown by changing the bytes behind the stamp's back (same size, mtime put back).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { hashSource } from './cache.ts';
import { HASH_MEMO_FILE } from './hash-memo.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
/** An hour ago: older than the racy window, so a hash of the file is remembered. */
const OLD = new Date(Date.now() - 3600 * 1000);

function scratchWith(content: string): { dir: string; file: string; memo: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hash-memo-'));
  const file = join(dir, 'model.safetensors');
  writeFileSync(file, content);
  utimesSync(file, OLD, OLD);
  return { dir, file, memo: join(dir, HASH_MEMO_FILE) };
}

/** Replaces the bytes (same length) and puts the old mtime back, as if untouched. */
function swapBytesKeepingStamp(file: string, content: string): void {
  writeFileSync(file, content);
  utimesSync(file, OLD, OLD);
}

test('an unchanged file is not read again; a changed mtime or size is', async () => {
  const { file, memo } = scratchWith('weights A');
  assert.equal(await hashSource(file, { memo }), sha('weights A'));
  swapBytesKeepingStamp(file, 'weights B');
  assert.equal(await hashSource(file, { memo }), sha('weights A'), 'the remembered hash, the file was not read');
  assert.equal(await hashSource(file), sha('weights B'), 'without the memo it is read');

  const later = new Date(OLD.getTime() + 5000);
  utimesSync(file, later, later);
  assert.equal(await hashSource(file, { memo }), sha('weights B'), 'a new mtime: read again');
  writeFileSync(file, 'weights C, longer');
  utimesSync(file, later, later);
  assert.equal(await hashSource(file, { memo }), sha('weights C, longer'), 'a new size: read again');
});

test('a corrupt or foreign memo file is ignored and replaced', async () => {
  const { file, memo } = scratchWith('weights A');
  for (const bad of ['{not json', '[]', '{"version":1,"entries":{"x":{"stamp":1}}}', '']) {
    writeFileSync(memo, bad);
    assert.equal(await hashSource(file, { memo }), sha('weights A'));
  }
  assert.equal(JSON.parse(readFileSync(memo, 'utf8')).version, 1, 'rewritten whole');
  swapBytesKeepingStamp(file, 'weights B');
  assert.equal(await hashSource(file, { memo }), sha('weights A'), 'and used');
});

test('a file written moments before it is hashed is not remembered (a second write could keep its stamp)', async () => {
  const { file, memo } = scratchWith('weights A');
  const now = new Date();
  writeFileSync(file, 'weights B');
  utimesSync(file, now, now);
  assert.equal(await hashSource(file, { memo }), sha('weights B'));
  writeFileSync(file, 'weights C'); // within the same timestamp tick: the stamp does not change
  utimesSync(file, now, now);
  assert.equal(await hashSource(file, { memo }), sha('weights C'));
});

test('entries of files that are gone are dropped when the memo is written', async () => {
  const first = scratchWith('weights A');
  const other = join(first.dir, 'other.safetensors');
  writeFileSync(other, 'other');
  utimesSync(other, OLD, OLD);
  await hashSource(first.file, { memo: first.memo });
  await hashSource(other, { memo: first.memo });
  assert.equal(Object.keys(JSON.parse(readFileSync(first.memo, 'utf8')).entries).length, 2);
  rmSync(first.file);
  const third = join(first.dir, 'third.safetensors');
  writeFileSync(third, 'third');
  utimesSync(third, OLD, OLD);
  await hashSource(third, { memo: first.memo });
  const paths = Object.keys(JSON.parse(readFileSync(first.memo, 'utf8')).entries);
  assert.equal(paths.length, 2);
  assert.ok(!paths.some((p) => p.endsWith('model.safetensors')));
});

test('a diffusers folder is remembered by its files; a changed file or a new one is read again', async () => {
  const { dir, memo } = scratchWith('unused');
  const folder = join(dir, 'diffusers');
  mkdirSync(join(folder, 'unet'), { recursive: true });
  const weights = join(folder, 'unet', 'diffusion_pytorch_model.safetensors');
  for (const [path, content] of [
    [join(folder, 'model_index.json'), '{}'],
    [weights, 'unet A'],
  ]) {
    writeFileSync(path, content);
    utimesSync(path, OLD, OLD);
  }
  const first = await hashSource(folder, { memo });
  assert.equal(first, await hashSource(folder), 'the same hash as without the memo');
  swapBytesKeepingStamp(weights, 'unet B');
  assert.equal(await hashSource(folder, { memo }), first, 'not read again');
  const later = new Date(OLD.getTime() + 5000);
  utimesSync(weights, later, later);
  const second = await hashSource(folder, { memo });
  assert.notEqual(second, first);
  writeFileSync(join(folder, 'unet', 'config.json'), '{}');
  utimesSync(join(folder, 'unet', 'config.json'), OLD, OLD);
  assert.notEqual(await hashSource(folder, { memo }), second, 'a new model file is a new listing');
});
