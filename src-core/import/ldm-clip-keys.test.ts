// OpenCLIP's fused q/k/v (SD 2's and SDXL's second text encoder in single-file checkpoints) split in three: each third
// gives its rows, and from an F16 tensor its float16 bit patterns as stored, which an fp16 import writes as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile } from './safetensors.ts';
import { thirdOf } from './ldm-clip-keys.ts';
import { toHalfBits } from '../model/half.ts';
import { writeSafetensors } from '../../tests/helpers/safetensors-writer.ts';

test('a third of a fused in_proj weight: its rows, as values and (from F16) as the stored bit patterns', () => {
  const dir = mkdtempSync(join(tmpdir(), 'in-proj-'));
  const values = Float32Array.from({ length: 6 * 2 }, (_, i) => i - 5.5); // rows 0-1 q, 2-3 k, 4-5 v
  const path = writeSafetensors(join(dir, 'in-proj.safetensors'), {
    half: { dtype: 'F16', shape: [6, 2], values },
    single: { dtype: 'F32', shape: [6, 2], values },
  });
  const file = SafetensorsFile.open(path);
  try {
    const rows = (third: number) => values.slice(third * 4, third * 4 + 4);
    for (const third of [0, 1, 2] as const) {
      const half = thirdOf(file.weight('half'), third, 'half');
      assert.deepEqual(half.shape, [2, 2]);
      assert.deepEqual(half.read(), rows(third));
      assert.deepEqual(half.readHalves?.(), toHalfBits(rows(third)), `third ${third}: the bit patterns as stored`);
      const single = thirdOf(file.weight('single'), third, 'single');
      assert.deepEqual(single.read(), rows(third));
      assert.equal(single.readHalves, undefined, 'float32 values have no bit patterns to pass on');
    }
    // the third is a copy: the fused matrix is not kept behind it
    assert.equal(thirdOf(file.weight('half'), 1, 'half').read().buffer.byteLength, 4 * 4);
    assert.throws(
      () => thirdOf({ shape: [5, 2], read: () => new Float32Array(10) }, 0, 'odd'),
      /fused q\/k\/v of shape \[5, 2\] cannot be split/,
    );
  } finally {
    file.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
