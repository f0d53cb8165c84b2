// Issue 14's gallery defects as regression tests: short writes on a full disk, read-only folders,
// an index that is a folder, leftover temporary files, and index entries with wrong fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { Gallery, GalleryError } from '../electron/gallery.ts';
import { writeAll } from '../electron/atomic-write.ts';
import { addTextChunks } from '../src-core/png/text-chunks.ts';
import { mountTmpfs } from './helpers/scratch-mount.ts';

/** The ids a gallery lists, newest first. */
const ids = (gallery: Gallery): string[] => gallery.list().map((e) => e.id);

/** A PNG of random pixels (does not compress), with A1111 parameters. */
function noisyPng(seed: number, side: number): { seed: number; width: number; height: number; parameters: string; png: Buffer } {
  const parameters = `noise ${seed}\nSteps: 1, Sampler: Euler, Seed: ${seed}, Size: ${side}x${side}, NFE: 1`;
  const png = addTextChunks(Buffer.from(encode({ width: side, height: side, data: randomBytes(side * side * 4), channels: 4 })), {
    parameters,
  });
  return { seed, width: side, height: side, parameters, png };
}

test('writeAll keeps writing after a short write and calls a write that makes no progress a full disk', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'write-all-')), 'f');
  const fd = openSync(path, 'w');
  const data = randomBytes(10_000);
  // At most 3000 bytes per call, as a nearly full disk or a signal can make writeSync do.
  writeAll(fd, data, { writeSync: (f, d, offset, length) => writeSync(f, d, offset, Math.min(length, 3000)) });
  closeSync(fd);
  assert.deepEqual(readFileSync(path), data);
  const fd2 = openSync(path, 'w');
  assert.throws(
    () => writeAll(fd2, data, { writeSync: () => 0 }),
    (e: NodeJS.ErrnoException) => e.code === 'ENOSPC',
  );
  closeSync(fd2);
});

test('a full disk: the image that does not fit is neither renamed into place nor listed, now or after a restart', (t) => {
  const mount = mountTmpfs(160 * 1024);
  if ('skipReason' in mount) return t.skip(mount.skipReason);
  try {
    const gallery = new Gallery(mount.dir);
    const [small] = gallery.add([noisyPng(1, 24)], { evaluations: 1, seconds: 0 });
    // 200x200 random pixels: about 160 KB, more than the disk has left.
    assert.throws(
      () => gallery.add([noisyPng(2, 200)], { evaluations: 1, seconds: 0 }),
      (e: Error) => e instanceof GalleryError && /disk is full/.test(e.message),
    );
    assert.deepEqual(ids(gallery), [small.id]);
    assert.deepEqual(readdirSync(join(mount.dir, 'images')).sort(), [small.id], 'no truncated or temporary file is left');
    assert.deepEqual(ids(new Gallery(mount.dir)), [small.id], 'after a restart too');
  } finally {
    mount.unmount();
  }
});

test('a read-only gallery: delete says why and keeps the entry', (t) => {
  const mount = mountTmpfs();
  if ('skipReason' in mount) return t.skip(mount.skipReason);
  try {
    const gallery = new Gallery(mount.dir);
    const [entry] = gallery.add([noisyPng(5, 16)], { evaluations: 1, seconds: 0 });
    mount.readOnly();
    assert.throws(() => gallery.delete(entry.id), /could not delete .*read-only/);
    assert.deepEqual(ids(gallery), [entry.id], 'still listed');
    assert.ok(gallery.read(entry.id), 'still served');
    assert.deepEqual(ids(new Gallery(mount.dir)), [entry.id], 'a read-only gallery still opens');
  } finally {
    mount.unmount();
  }
});

test('an index.json that is a folder, and leftover temporary files, do not stop the gallery', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gallery-odd-'));
  const [entry] = new Gallery(dir).add([noisyPng(7, 16)], { evaluations: 1, seconds: 0 });
  new Gallery(dir); // a restart folds the journal into index.json
  const index = join(dir, 'index.json');
  writeFileSync(join(dir, 'index.json.tmp-4242'), '{"half":');
  writeFileSync(join(dir, 'images', `${entry.id}.tmp-4242`), 'half a png');
  // Replace the index with a folder.
  rmSync(index);
  mkdirSync(index);
  const reopened = new Gallery(dir);
  assert.deepEqual(ids(reopened), [entry.id], 'the image is recovered from its own parameters');
  assert.ok(
    readdirSync(dir).some((n) => n.startsWith('index.json.not-a-file-')),
    'the folder is kept, renamed',
  );
  assert.ok(existsSync(index) && readFileSync(index, 'utf8').includes(entry.id), 'a new index is written');
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.includes('.tmp-')),
    [],
    'temporary index files are removed',
  );
  assert.deepEqual(
    readdirSync(join(dir, 'images')).filter((n) => n.includes('.tmp-')),
    [],
    'temporary image files are removed',
  );
});

test('index entries are checked field by field: wrong types are recovered from the PNG, unknown keys dropped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gallery-fields-'));
  const gallery = new Gallery(dir);
  const [a, b] = gallery.add([noisyPng(11, 16), noisyPng(12, 16)], { evaluations: 4, seconds: 0.5 });
  new Gallery(dir); // a restart folds the journal into index.json
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  index.entries[0] = { ...index.entries[0], seed: 'not a number', width: { evil: true }, parameters: 42 };
  index.entries[1] = { ...index.entries[1], url: 'javascript:alert(1)', __proto__: { polluted: true }, extra: 'x'.repeat(100) };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  const listed = new Gallery(dir).list();
  assert.deepEqual(
    listed.map((e) => e.id),
    [b.id, a.id],
  );
  const fixed = listed.find((e) => e.id === a.id)!;
  assert.equal(fixed.seed, 11, 'recovered from the PNG');
  assert.equal(fixed.width, 16);
  assert.equal(typeof fixed.parameters, 'string');
  assert.deepEqual(Object.keys(listed.find((e) => e.id === b.id)!).sort(), [
    'createdAt',
    'evaluations',
    'height',
    'id',
    'parameters',
    'seconds',
    'seed',
    'width',
  ]);
});

test('a truncated PNG the index does not know is not listed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gallery-cut-'));
  const [entry] = new Gallery(dir).add([noisyPng(21, 32)], { evaluations: 1, seconds: 0 });
  const full = readFileSync(join(dir, 'images', entry.id));
  writeFileSync(join(dir, 'images', '00002-22.png'), full.subarray(0, Math.floor(full.length / 2)));
  assert.deepEqual(ids(new Gallery(dir)), [entry.id]);
  assert.ok(!existsSync(join(dir, 'images', '00002-22.png')), 'set aside under another name');
});

test('a batch appends one journal record, not index.json; a PNG that fails keeps the batch before it; one that fails undoes it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gallery-batch-'));
  try {
    // A journal record starts with a newline, a PNG with 0x89: the writes are told apart by their first byte.
    let indexWrites = 0;
    let failPng: number | undefined;
    let failIndex = false;
    let pngs = 0;
    const ops = {
      writeSync: (fd: number, data: Uint8Array, offset: number, length: number) => {
        if (offset === 0 && data[0] === 0x0a) {
          indexWrites++;
          if (failIndex) return 0;
        } else if (offset === 0 && ++pngs === failPng) return 0;
        return writeSync(fd, data, offset, length);
      },
    };
    const gallery = new Gallery(dir, ops);
    const batch = (first: number, n: number) => Array.from({ length: n }, (_, i) => noisyPng(first + i, 8));
    assert.equal(gallery.add(batch(1, 16), { evaluations: 1, seconds: 0 }).length, 16);
    assert.equal(indexWrites, 1, 'one journal record for 16 images');
    assert.ok(!existsSync(join(dir, 'index.json')), 'index.json is not rewritten for a batch');

    // The third PNG of the next batch does not fit: the two before it are saved and listed.
    [pngs, failPng] = [0, 3];
    assert.throws(
      () => gallery.add(batch(20, 4), { evaluations: 1, seconds: 0 }),
      (e: Error) => e instanceof GalleryError && /disk is full|no space/.test(e.message) && e.added.length === 2,
    );
    assert.equal(ids(gallery).length, 18);

    // The record does not fit: the batch's PNGs are removed again, nothing of it is listed, now or after a restart.
    [failPng, failIndex] = [undefined, true];
    assert.throws(
      () => gallery.add(batch(30, 3), { evaluations: 1, seconds: 0 }),
      (e: Error) => e instanceof GalleryError && e.added.length === 0,
    );
    assert.equal(ids(gallery).length, 18);
    assert.equal(readdirSync(join(dir, 'images')).length, 18, 'no PNG of the failed batch is left');
    assert.equal(ids(new Gallery(dir)).length, 18);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
