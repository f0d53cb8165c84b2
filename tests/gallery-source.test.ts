// Gallery entries record which view's job made them (Generate, a Compare grid, an Explore sweep),
// through a restart; an index entry with an unknown source keeps everything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { Gallery } from '../electron/gallery.ts';

const image = (seed: number) => ({
  seed,
  width: 8,
  height: 8,
  parameters: `a cat\nSteps: 2, Seed: ${seed}`,
  png: encode({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 3), channels: 3 }),
});

test('the source is stored and read back; an unknown one is dropped, not the entry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gallery-source-'));
  const gallery = new Gallery(dir);
  gallery.add([image(1)], { evaluations: 2, seconds: 1, source: 'grid' });
  gallery.add([image(2)], { evaluations: 2, seconds: 1, source: 'sweep' });
  gallery.add([image(3)], { evaluations: 2, seconds: 1 });
  const again = new Gallery(dir).list();
  assert.deepEqual(
    again.map((e) => [e.seed, e.source]),
    [
      [3, undefined],
      [2, 'sweep'],
      [1, 'grid'],
    ],
  );
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  index.entries[0].source = '<script>'; // the oldest, seed 1
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  const hostile = new Gallery(dir).list();
  assert.equal(hostile[2].source, undefined);
  assert.equal(hostile[2].evaluations, 2, 'the rest of the entry is kept');
});
