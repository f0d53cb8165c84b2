import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_HEADER_BYTES, SafetensorsFile, requireFloatWeights, safetensorsHeader } from './safetensors.ts';
import { ImportError } from './weights.ts';
import { rawSafetensors, safetensorsBytes, writeSafetensors } from '../../tests/helpers/safetensors-writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'safetensors-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
function file(bytes: Uint8Array): string {
  const path = join(dir, `t${counter++}.safetensors`);
  writeFileSync(path, bytes);
  return path;
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  const path = file(bytes);
  assert.throws(
    () => SafetensorsFile.open(path),
    (error: Error) => {
      assert.ok(error instanceof ImportError, `ImportError expected, got ${error}`);
      assert.match(error.message, /^t\d+\.safetensors: /, 'names the file');
      assert.match(error.message, pattern);
      return true;
    },
  );
}

test('reads F32 tensors lazily and keeps the metadata', () => {
  const path = writeSafetensors(
    join(dir, 'ok.safetensors'),
    {
      a: { shape: [2, 3], values: [1, 2, 3, 4, 5, 6] },
      b: { shape: [], values: [7] },
      empty: { shape: [0, 4] },
    },
    { format: 'pt' },
  );
  const f = SafetensorsFile.open(path);
  try {
    assert.deepEqual(f.names(), ['a', 'b', 'empty']);
    assert.deepEqual(f.metadata, { format: 'pt' });
    const a = f.weight('a');
    assert.deepEqual(a.shape, [2, 3]);
    assert.deepEqual([...a.read()], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...f.read('b')], [7]);
    assert.equal(f.read('empty').length, 0);
    assert.throws(() => f.weight('nope'), /missing tensor nope/);
  } finally {
    f.close();
  }
  assert.throws(() => f.read('a'), /after the file was closed/);
});

test('F16 and BF16 bit patterns convert exactly to float32', () => {
  // fp16: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), 2^-14 (smallest normal), +inf, 0.333 (0x3555)
  const f16 = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0x3555]);
  // bf16: 1.0, -2.0, 3.140625 (0x4049), 1e-40-ish subnormal (0x0001 -> 2^-133), -inf
  const bf16 = Uint16Array.from([0x3f80, 0xc000, 0x4049, 0x0001, 0xff80]);
  const path = writeSafetensors(join(dir, 'half.safetensors'), {
    h: { dtype: 'F16', shape: [7], bytes: new Uint8Array(f16.buffer) },
    b: { dtype: 'BF16', shape: [5], bytes: new Uint8Array(bf16.buffer) },
    d: { dtype: 'F64', shape: [2], values: [0.5, -3] },
  });
  const f = SafetensorsFile.open(path);
  try {
    assert.deepEqual([...f.read('h')], [1, -2, 65504, 2 ** -24, 2 ** -14, Infinity, Math.fround(0.333251953125)]);
    assert.deepEqual([...f.read('b')], [1, -2, 3.140625, 2 ** -133, -Infinity]);
    assert.deepEqual([...f.read('d')], [0.5, -3]);
    // The F16 tensor's bit patterns as stored, for fp16 graphs; other dtypes have none.
    assert.deepEqual(f.weight('h').readHalves?.(), f16);
    assert.equal(f.weight('b').readHalves, undefined);
    assert.equal(f.weight('d').readHalves, undefined);
  } finally {
    f.close();
  }
});

test('big fp16 tensors are converted in chunks, every value in place', () => {
  const count = (1 << 20) * 2 + 123; // more than two conversion chunks
  const values = Float32Array.from({ length: count }, (_, i) => (i % 2048) - 1024);
  const path = writeSafetensors(join(dir, 'big.safetensors'), { big: { dtype: 'F16', shape: [count], values } });
  const f = SafetensorsFile.open(path);
  try {
    const read = f.read('big');
    assert.equal(read.length, count);
    for (let i = 0; i < count; i += 997) assert.equal(read[i], values[i]);
    assert.equal(read[count - 1], values[count - 1]);
  } finally {
    f.close();
  }
});

test('non-float dtypes open, but reading or requiring them as weights names the tensor', () => {
  const path = writeSafetensors(join(dir, 'ids.safetensors'), { position_ids: { dtype: 'I64', shape: [1, 3], values: [0, 1, 2] } });
  const f = SafetensorsFile.open(path);
  try {
    assert.throws(() => f.read('position_ids'), /tensor position_ids has dtype I64/);
    assert.throws(() => requireFloatWeights(f.source(), 'text encoder'), /tensor position_ids of the text encoder has dtype I64/);
  } finally {
    f.close();
  }
});

test('corrupt and truncated files get specific errors naming the file', () => {
  const good = safetensorsBytes({ w: { shape: [4], values: [1, 2, 3, 4] } });
  rejects(good.slice(0, 5), /truncated file: 5 bytes/);
  rejects(good.slice(0, 20), /truncated file: the header needs \d+ bytes/);
  rejects(good.slice(0, good.length - 1), /truncated file: tensor w ends at byte/);
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(BigInt(MAX_HEADER_BYTES) + 1n);
  rejects(huge, /length field says/);
  rejects(rawSafetensors('{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]'), /not valid JSON/);
  rejects(rawSafetensors('[1, 2]'), /does not start with "\{"/);
  rejects(rawSafetensors('{"w": 3}'), /entry of tensor w is not an object/);
  rejects(
    rawSafetensors('{"w": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}}', [new Uint8Array(1)]),
    /tensor w has unknown dtype "Q4"/,
  );
  rejects(
    rawSafetensors('{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}', [new Uint8Array(4)]),
    /tensor w has shape \[1.5\]/,
  );
  rejects(
    rawSafetensors('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [4, 0]}}', [new Uint8Array(8)]),
    /tensor w has data_offsets/,
  );
  rejects(
    rawSafetensors('{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}', [new Uint8Array(8)]),
    /tensor w \(F32 \[3\]\) needs 12 bytes but data_offsets span 8/,
  );
  rejects(
    rawSafetensors('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}', [new Uint8Array(4)]),
    /truncated file: tensor w ends at byte/,
  );
  rejects(
    rawSafetensors(
      '{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}',
      [new Uint8Array(12)],
    ),
    /tensors a and b overlap/,
  );
  rejects(rawSafetensors('{"__metadata__": {"a": 1}}'), /__metadata__ must map names to strings/);
});

test('a missing file is an ImportError naming it', () => {
  assert.throws(() => SafetensorsFile.open(join(dir, 'absent.safetensors')), /absent\.safetensors: cannot open \(ENOENT\)/);
});

test('a file cut short after opening fails the read, not silently', () => {
  const path = writeSafetensors(join(dir, 'shrinks.safetensors'), { w: { shape: [1000], values: new Float32Array(1000).fill(1) } });
  const f = SafetensorsFile.open(path);
  try {
    truncateSync(path, 200);
    assert.throws(() => f.read('w'), /shrinks\.safetensors: the file ended while reading tensor w/);
  } finally {
    f.close();
  }
});

test("safetensorsHeader: the length and space-padded JSON that the reader (and the format's other writers) expect", () => {
  const header = { __metadata__: { format: 'pt' }, x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const bytes = safetensorsHeader(header);
  assert.equal(bytes.length % 8, 0);
  assert.equal(Number(bytes.readBigUInt64LE(0)), bytes.length - 8);
  assert.match(bytes.subarray(8).toString(), /^\{.*\} *$/);
  const path = file(Buffer.concat([bytes, Buffer.from(Float32Array.of(1.5, -2).buffer)]));
  const opened = SafetensorsFile.open(path);
  try {
    assert.deepEqual(opened.names(), ['x']);
    assert.deepEqual([...opened.source().get('x').read()], [1.5, -2]);
  } finally {
    opened.close();
  }
});

// Repeated keys as Hugging Face's safetensors (the reference reader) takes them: what it made of each file is in
// safetensors-repeats.reference.json (see its note). It keeps the last entry of a tensor name listed twice, then
// refuses the file unless the kept tensors tile the data; "__metadata__", "dtype", "shape" or "data_offsets" twice is an
// error of its own. This reader accepts and refuses the same files, and names the repeated tensor.
const reference = JSON.parse(readFileSync(new URL('./safetensors-repeats.reference.json', import.meta.url), 'utf8')) as {
  cases: Array<{
    what: string;
    header: string;
    data: number[];
    reference:
      | { ok: true; tensors: Array<[string, string, number[], number[]]>; metadata: Record<string, string> | null }
      | { ok: false; error: string };
  }>;
};

/** What the message says for the files the reference refuses (the reference's own words are in the fixture). */
const REFUSALS: Record<string, RegExp> = {
  'a name twice, each with its own bytes':
    /tensor a is listed 2 times; only the last entry of a name counts.*data bytes 0 to 1 belong to no tensor/,
  'a name three times': /tensor w is listed 3 times; .*data bytes 0 to 4 belong to no tensor/,
  'a name twice, the last empty': /tensor a is listed 2 times; .*the file's last 4 bytes belong to no tensor/,
  'a name twice, the first with an unknown dtype': /tensor a is listed 2 times, and its dtype "ZZ" is unknown in one/,
  'a name twice, the first not an object': /tensor a is listed 2 times, and it is not an object in one/,
  'a name twice, the first without data_offsets': /tensor a is listed 2 times, and its data_offsets are undefined in one/,
  'a name twice, the first with a bad shape': /tensor a is listed 2 times, and its shape is \[-1\] in one/,
  'a name twice, once escaped': /tensor a is listed 2 times; /,
  '__metadata__ twice': /__metadata__ appears twice/,
  '__metadata__ twice, once escaped': /__metadata__ appears twice/,
  'dtype twice in an entry': /tensor a has "dtype" twice/,
  'shape twice in an entry': /tensor a has "shape" twice/,
  'data_offsets twice in an entry, once escaped': /tensor a has "data_offsets" twice/,
  'dtype twice in a dropped entry': /tensor a has "dtype" twice/,
  'a name with quotes and backslashes twice': /tensor q"\\ is listed 2 times; /,
  'a gap': /data bytes 1 to 2 belong to no tensor \(tensor b starts after them\) \(the safetensors library refuses such a file\)/,
  'bytes after the last tensor': /the file's last 1 bytes belong to no tensor/,
  'an empty tensor inside another': /tensor e \(empty\) is placed inside tensor a's data/,
  'nothing but bytes': /the file's last 1 bytes belong to no tensor/,
};

test('repeated names and fields: the files the reference reader accepts open with its tensors, the others are refused', () => {
  assert.ok(reference.cases.length >= 25);
  assert.deepEqual(
    Object.keys(REFUSALS).sort(),
    reference.cases
      .filter((c) => !c.reference.ok)
      .map((c) => c.what)
      .sort(),
    'a message checked for every refused file',
  );
  for (const { what, header, data, reference: expected } of reference.cases) {
    const bytes = rawSafetensors(header, [Uint8Array.from(data)]);
    if (!expected.ok) {
      rejects(bytes, REFUSALS[what]);
      continue;
    }
    const path = file(bytes);
    const opened = SafetensorsFile.open(path);
    try {
      const stored = readFileSync(path);
      const got = opened
        .names()
        .sort()
        .map((name) => {
          const info = opened.info(name);
          return [name, info.dtype, [...info.shape], [...stored.subarray(info.begin, info.end)]];
        });
      assert.deepEqual(got, expected.tensors, what);
      assert.deepEqual(opened.metadata, expected.metadata ?? {}, what);
    } finally {
      opened.close();
    }
  }
});
