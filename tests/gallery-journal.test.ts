// The gallery's journal: batches and deletes are appended to index.journal instead of rewriting
// index.json, replayed over it at the next start and folded into it. What a crash, a hostile edit or a
// folder in its place can leave there must not lose an image or list one that is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { Gallery } from '../electron/gallery.ts';
import { addTextChunks } from '../src-core/png/text-chunks.ts';

const ids = (gallery: Gallery): string[] => gallery.list().map((e) => e.id);

function image(seed: number, prompt = `shape ${seed}`) {
  const parameters = `${prompt}\nSteps: 1, Sampler: Euler, Seed: ${seed}, Size: 8x8, NFE: 1`;
  const png = addTextChunks(Buffer.from(encode({ width: 8, height: 8, data: new Uint8Array(256).fill(seed), channels: 4 })), {
    parameters,
  });
  return { seed, width: 8, height: 8, parameters, png };
}

const facts = { evaluations: 3, seconds: 0.25 };

test('batches and deletes are journalled, survive a restart with their facts, and the restart folds them into index.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  const gallery = new Gallery(dir);
  const [a, b] = gallery.add([image(1), image(2)], facts);
  const [c] = gallery.add([image(3)], facts);
  assert.equal(gallery.delete(b.id), true);
  assert.ok(!existsSync(join(dir, 'index.json')), 'no whole rewrite for a batch or a delete');
  assert.equal(readFileSync(join(dir, 'index.journal'), 'utf8').split('\n').filter(Boolean).length, 3);

  const reopened = new Gallery(dir);
  assert.deepEqual(ids(reopened), [c.id, a.id]);
  assert.deepEqual(reopened.list()[1], a, 'the entry as it was added (evaluations and seconds are not in the PNG)');
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  assert.deepEqual(
    index.entries.map((e: { id: string }) => e.id),
    [a.id, c.id],
  );
  assert.equal(statSync(join(dir, 'index.journal')).size, 0, 'the journal is emptied once folded');
});

test('a torn last record (a crash while appending) is skipped: its image is recovered from the PNG', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-torn-'));
  const gallery = new Gallery(dir);
  const [a] = gallery.add([image(1)], facts);
  const [b] = gallery.add([image(2, 'a prompt, with a comma')], facts);
  const journal = join(dir, 'index.journal');
  const text = readFileSync(journal, 'utf8');
  // Cut the last record in half, as a power cut during its write can.
  writeFileSync(journal, text.slice(0, text.length - Math.floor((text.length - text.lastIndexOf('\n')) / 2)));
  const afterCrash = new Gallery(dir);
  assert.deepEqual(ids(afterCrash), [b.id, a.id]);
  const [recovered, kept] = afterCrash.list();
  assert.equal(recovered.seed, 2, 'recovered from its own parameters');
  assert.equal(recovered.parameters, b.parameters);
  assert.equal(recovered.seconds, 0, 'not from the torn record');
  assert.equal(kept.seconds, 0.25, 'the whole record before it is read');
});

test('a record appended after a torn one that could not be taken back starts on a line of its own and is read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-after-torn-'));
  const gallery = new Gallery(dir);
  gallery.add([image(1)], facts);
  appendFileSync(join(dir, 'index.journal'), '\n{"add":[{"id":"00002-2.png","createdAt":"20'); // torn, no newline
  const [c] = gallery.add([image(3)], facts);
  const entry = new Gallery(dir).list().find((e) => e.id === c.id);
  assert.equal(entry?.seconds, 0.25, 'read from its record, not recovered from the PNG (which does not know the seconds)');
  assert.equal(entry?.evaluations, 3);
});

test("journal records are checked as index entries are: bad fields are dropped, a delete's id must be a gallery name", () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-hostile-'));
  const gallery = new Gallery(dir);
  const [a, b] = gallery.add([image(1), image(2)], facts);
  const hostile = [
    { add: [{ ...a, seed: 'x', width: { evil: true } }] },
    { add: [{ ...b, url: 'javascript:alert(1)', extra: 'x'.repeat(100) }] },
    { add: [{ ...b, id: '../../etc/passwd' }] },
    { delete: '../index.json' },
    { delete: 42 },
    { something: 'else' },
    null,
  ];
  appendFileSync(join(dir, 'index.journal'), hostile.map((r) => `\n${JSON.stringify(r)}`).join(''));
  const reopened = new Gallery(dir);
  assert.deepEqual(ids(reopened), [b.id, a.id]);
  const [listedB, listedA] = reopened.list();
  assert.deepEqual(listedA, a, "a's bad record is dropped; its good one stands");
  assert.deepEqual(Object.keys(listedB).sort(), ['createdAt', 'evaluations', 'height', 'id', 'parameters', 'seconds', 'seed', 'width']);
  assert.ok(existsSync(join(dir, 'index.json')));
});

test('a folder where the journal belongs is set aside and the gallery opens with its images', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-folder-'));
  const [a] = new Gallery(dir).add([image(1)], facts);
  const journal = join(dir, 'index.journal');
  rmSync(journal);
  mkdirSync(journal);
  const reopened = new Gallery(dir);
  assert.deepEqual(ids(reopened), [a.id], 'recovered from the PNG');
  assert.ok(readdirSync(dir).some((n) => n.startsWith('index.journal.not-a-file-')));
  const [b] = reopened.add([image(2)], facts);
  assert.deepEqual(ids(new Gallery(dir)), [b.id, a.id]);
});

test('a crash between folding the journal into index.json and emptying it: replaying it again changes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-replay-'));
  const gallery = new Gallery(dir);
  const [a, b] = gallery.add([image(1), image(2)], facts);
  gallery.delete(b.id);
  // The newest image deleted, its number comes back: the same seed gives the same id, with other facts.
  const [again] = gallery.add([image(2)], { evaluations: 9, seconds: 2 });
  assert.equal(again.id, b.id);
  const journal = readFileSync(join(dir, 'index.journal'));
  const folded = new Gallery(dir);
  writeFileSync(join(dir, 'index.journal'), journal);
  const replayed = new Gallery(dir);
  assert.deepEqual(replayed.list(), folded.list());
  assert.deepEqual(
    replayed.list().map((e) => [e.id, e.evaluations]),
    [
      [b.id, 9],
      [a.id, 3],
    ],
  );
});

test('the journal is folded into index.json while the app runs once it outgrows a quarter of the index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-fold-'));
  const gallery = new Gallery(dir);
  const long = 'x'.repeat(60_000);
  for (let seed = 1; seed <= 4; seed++) gallery.add([image(seed, long)], facts);
  assert.ok(!existsSync(join(dir, 'index.json')), 'under 256 KiB: appended only');
  gallery.add([image(5, long)], facts);
  assert.equal(statSync(join(dir, 'index.journal')).size, 0, 'folded and emptied');
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  assert.equal(index.entries.length, 5);
  assert.deepEqual(ids(new Gallery(dir)).length, 5);
});

test("a deleted image's id reused by a PNG whose record a crash lost: listed with the PNG's own parameters, not the old entry's", () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-reuse-'));
  const [, b] = new Gallery(dir).add([image(1), image(2)], facts);
  const gallery = new Gallery(dir); // b is now in index.json
  gallery.delete(b.id);
  // The next image gets b's number and seed; the app stops after its PNG is written, before its record.
  const next = image(2, 'another prompt');
  writeFileSync(join(dir, 'images', b.id), next.png);
  const listed = new Gallery(dir).list().find((e) => e.id === b.id);
  assert.equal(listed?.parameters, next.parameters);
});

test('the files served follow adds, deletes and restarts; other names are not served', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-served-'));
  const gallery = new Gallery(dir);
  const [a, b] = gallery.add([image(1), image(2)], facts);
  assert.ok(gallery.read(a.id) && gallery.read(b.id));
  gallery.delete(a.id);
  assert.equal(gallery.file(a.id), undefined);
  writeFileSync(join(dir, 'images', '00009-9.png'), image(9).png); // on disk, not listed until a restart
  assert.equal(gallery.file('00009-9.png'), undefined);
  const reopened = new Gallery(dir);
  assert.equal(reopened.file(a.id), undefined);
  assert.deepEqual(reopened.read(b.id), image(2).png);
  assert.ok(reopened.file('00009-9.png'), 'recovered, then served');
  assert.equal(reopened.file('index.json'), undefined);
});
