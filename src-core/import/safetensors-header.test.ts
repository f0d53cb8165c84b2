// The header checks that follow the reference reader (Hugging Face's safetensors, Rust) where JSON.parse alone cannot
// tell: sizes written as floats (1.0, 1e0, -0), which it refuses as usize, and the dtypes its Dtype enum has gained
// (F4, F6_*, F8_E8M0, C64 ...), which it opens: here they open too, and are refused only when a weight the app uses
// has one, with words that tell them apart from a garbled dtype.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile, requireFloatWeights, safetensorsHeader } from './safetensors.ts';
import { openImportSource } from './source.ts';
import { ImportError } from './weights.ts';
import { rawSafetensors, encodeValues } from '../../tests/helpers/safetensors-writer.ts';
import { TINY_SD1, ldmEntries, valuesFor } from '../../tests/helpers/ldm-checkpoints.ts';

const dir = mkdtempSync(join(tmpdir(), 'safetensors-header-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
function file(bytes: Uint8Array): string {
  const path = join(dir, `h${counter++}.safetensors`);
  writeFileSync(path, bytes);
  return path;
}

function refused(header: string, dataBytes: number, message: RegExp): void {
  const path = file(rawSafetensors(header, [new Uint8Array(dataBytes)]));
  assert.throws(
    () => SafetensorsFile.open(path),
    (error: Error) => {
      assert.ok(error instanceof ImportError, `ImportError expected, got ${error}`);
      assert.match(error.message, message);
      return true;
    },
    header,
  );
}

test('shape and data_offsets numbers written as floats are refused, naming the tensor and the list as written; integers are not', () => {
  const notWhole = /is not written as a whole number \(digits only/;
  const cases: Array<[string, number, RegExp]> = [
    ['{"w": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}}', 4, /tensor w has shape \[1\.0\]: 1\.0 /],
    ['{"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 10]}}', 10, /tensor w has shape \[2\.5\]: 2\.5 /],
    ['{"w": {"dtype": "F32", "shape": [1e0], "data_offsets": [0, 4]}}', 4, /tensor w has shape \[1e0\]: 1e0 /],
    ['{"w": {"dtype": "F32", "shape": [-0], "data_offsets": [0, 0]}}', 0, /tensor w has shape \[-0\]: -0 /],
    ['{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8.0]}}', 8, /tensor w has data_offsets \[0, 8\.0\]: 8\.0 /],
    ['{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0.0, 8]}}', 8, /tensor w has data_offsets \[0\.0, 8\]: 0\.0 /],
    [
      '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, ' +
        '"b\\"c": {"dtype": "F32", "shape": [1, 1.0E0], "data_offsets": [4, 8]}}',
      8,
      /tensor b"c has shape \[1, 1\.0E0\]: 1\.0E0 /,
    ],
    // A name listed twice: the dropped entry is still read by the reference, which refuses its float.
    [
      '{"w": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}',
      4,
      /tensor w has shape \[1\.0\]: 1\.0 /,
    ],
  ];
  for (const [header, bytes, message] of cases) {
    refused(header, bytes, message);
    refused(header, bytes, notWhole);
  }
  // Whole numbers in any JSON spacing open, and floats outside shape and data_offsets (an unknown field, metadata) are no concern.
  const header =
    '{"__metadata__": {"shape": "[1.0]", "scale": "2.5"},\n' +
    ' "w": {"extra": [1.5, -0], "dtype": "F32", "shape": [ 2 ,\n\t1 ], "data_offsets": [0,8]},\n' +
    ' "e": {"dtype": "F32", "shape": [0], "data_offsets": [ 8 , 8 ]}}';
  const f = SafetensorsFile.open(file(rawSafetensors(header, [new Uint8Array(Float32Array.of(3, 4).buffer)])));
  try {
    assert.deepEqual(f.info('w').shape, [2, 1]);
    assert.deepEqual([...f.read('w')], [3, 4]);
    assert.deepEqual(f.info('e').shape, [0]);
  } finally {
    f.close();
  }
});

test('negative, too large and non-number sizes are refused with what is wrong with them', () => {
  refused('{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}', 4, /tensor w has shape \[-1\]: -1 is negative/);
  refused('{"w": {"dtype": "U8", "shape": [4], "data_offsets": [-4, 0]}}', 4, /tensor w has data_offsets \[-4, 0\]: -4 is negative/);
  // 2^53 + 1: JSON.parse rounds it to 2^53, so the message must quote the digits as written.
  refused(
    '{"w": {"dtype": "U8", "shape": [9007199254740993], "data_offsets": [0, 1]}}',
    1,
    /tensor w has shape \[9007199254740993\]: 9007199254740993 is more than 2\^53 - 1/,
  );
  refused(
    '{"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 18446744073709551616]}}',
    1,
    /data_offsets \[0, 18446744073709551616\]: 18446744073709551616 is more than 2\^53 - 1/,
  );
  refused('{"w": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}}', 8, /tensor w has shape \["2"\]: "2" is not a number/);
  refused('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, null]}}', 8, /data_offsets \[0, null\]: null is not a number/);
  refused('{"w": {"dtype": "F32", "shape": [[2]], "data_offsets": [0, 8]}}', 8, /shape \[\[2\]\]: \[2\] is not a number/);
});

/** A file of one tensor of `dtype`, `shape`, `bytes` long, made by the header writer the reader's other tests use. */
function oneTensor(dtype: string, shape: number[], bytes: number, extra: Record<string, unknown> = {}): string {
  const header = { ...extra, w: { dtype, shape, data_offsets: [0, bytes] } };
  return file(Buffer.concat([safetensorsHeader(header), new Uint8Array(bytes)]));
}

test("the format's newer dtypes open with their sizes in bits, sub-byte ones packed", () => {
  // [dtype, shape, stored bytes]: F4 packs two values a byte, F6 four values in three bytes, C64 is two float32s.
  const sizes: Array<[string, number[], number]> = [
    ['F4', [2, 4], 4],
    ['F6_E2M3', [4], 3],
    ['F6_E3M2', [8], 6],
    ['F8_E8M0', [3], 3],
    ['F8_E4M3FNUZ', [5], 5],
    ['F8_E5M2FNUZ', [1], 1],
    ['C64', [2], 16],
  ];
  for (const [dtype, shape, bytes] of sizes) {
    const f = SafetensorsFile.open(oneTensor(dtype, shape, bytes));
    try {
      const info = f.info('w');
      assert.deepEqual([info.dtype, info.end - info.begin], [dtype, bytes], dtype);
    } finally {
      f.close();
    }
  }
  // The size is bits / 8, not one byte a value (nor the values rounded up to bytes one by one).
  assert.throws(() => SafetensorsFile.open(oneTensor('F4', [4], 4)), /tensor w \(F4 \[4\]\) needs 2 bytes but data_offsets span 4/);
  assert.throws(
    () => SafetensorsFile.open(oneTensor('F6_E2M3', [4], 4)),
    /tensor w \(F6_E2M3 \[4\]\) needs 3 bytes but data_offsets span 4/,
  );
  // Values that end inside a byte: the reference refuses them (MisalignedSlice), whatever the offsets say.
  for (const [dtype, shape, bytes] of [
    ['F4', [3], 2],
    ['F4', [3], 1],
    ['F6_E3M2', [2], 2],
  ] as Array<[string, number[], number]>) {
    assert.throws(
      () => SafetensorsFile.open(oneTensor(dtype, shape, bytes)),
      new RegExp(`tensor w \\(${dtype} \\[${shape[0]}\\]\\) cannot be stored: its ${shape[0]} values of \\d bits do not fill whole bytes`),
    );
  }
});

test('reading a weight of a known dtype the app does not support says so, naming tensor and dtype; a garbled dtype is unknown', () => {
  const f = SafetensorsFile.open(oneTensor('F8_E8M0', [2], 2));
  try {
    assert.throws(
      () => f.read('w'),
      /: tensor w has dtype F8_E8M0, a safetensors dtype that this app does not support \(it reads F32, F16/,
    );
    assert.throws(
      () => requireFloatWeights(f.source(), 'UNet'),
      /^ImportError: tensor w of the UNet has dtype F8_E8M0, a safetensors dtype that this app does not support/,
    );
  } finally {
    f.close();
  }
  assert.throws(() => SafetensorsFile.open(oneTensor('F5', [2], 2)), /tensor w has unknown dtype "F5"$/);
});

/** An SD 1 checkpoint (F16) with one more tensor of `dtype` under `key`, replacing the entry of that key if it has one. */
function sd1With(name: string, key: string, dtype: string, shape: number[], bytes: number): string {
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let offset = 0;
  const add = (k: string, d: string, s: number[], data: Uint8Array) => {
    header[k] = { dtype: d, shape: s, data_offsets: [offset, offset + data.length] };
    parts.push(data);
    offset += data.length;
  };
  ldmEntries(TINY_SD1).forEach((e, i) => {
    if (e.key !== key) add(e.key, 'F16', e.shape, encodeValues('F16', valuesFor(i, e.shape)));
  });
  add(key, dtype, shape, new Uint8Array(bytes));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([safetensorsHeader(header), ...parts]));
  return path;
}

test('a checkpoint opens for import when only a tensor it does not use has an unsupported dtype, and not when a weight has', async () => {
  const extra = 'model.diffusion_model.mx_block_scales';
  const source = await openImportSource(sd1With('unused-e8m0.safetensors', extra, 'F8_E8M0', [4], 4));
  try {
    assert.ok(source.unused.includes(extra), `${extra} is listed as unused: ${source.unused.join(', ')}`);
  } finally {
    source.close();
  }
  const used = ldmEntries(TINY_SD1).find((e) => e.key === 'model.diffusion_model.out.2.bias')!;
  const packed = sd1With('used-f4.safetensors', used.key, 'F4', used.shape, used.shape[0] / 2);
  await assert.rejects(
    openImportSource(packed),
    /tensor conv_out\.bias of the UNet has dtype F4, a safetensors dtype that this app does not support/,
  );
});
