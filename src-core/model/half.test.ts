// The bulk half conversions against @petamoriken/float16 (a well-tested implementation, used here as the reference),
// on both of their paths: whole arrays (the WebAssembly kernels) and slices shorter than HALF_KERNEL_FROM (the loops).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Float16Array } from '@petamoriken/float16';
import { fromHalfBits, HALF_KERNEL_FROM, toHalfBits } from './half.ts';

/** `convert` over `input` in slices of `size` values, into one array. */
function inSlices<I extends Float32Array | Uint16Array, O extends Float32Array | Uint16Array>(
  input: I,
  size: number,
  out: O,
  convert: (slice: I, into: O) => unknown,
): O {
  for (let start = 0; start < input.length; start += size) {
    const end = Math.min(input.length, start + size);
    convert(input.subarray(start, end) as I, out.subarray(start, end) as O);
  }
  return out;
}

const paths = [
  { name: 'kernels', slice: Infinity },
  { name: 'loops', slice: HALF_KERNEL_FROM - 1 },
];

test('every half bit pattern decodes as the reference decodes it', () => {
  const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const reference = Float32Array.from(new Float16Array(bits.buffer));
  for (const { name, slice } of paths) {
    const ours = inSlices(bits, slice, new Float32Array(bits.length), fromHalfBits);
    for (let i = 0; i < 65536; i++) {
      if (Number.isNaN(reference[i])) assert.ok(Number.isNaN(ours[i]), `${name}: bits ${i}`);
      else assert.equal(ours[i], reference[i], `${name}: bits ${i.toString(16)}`);
    }
  }
});

test('float32 values round to the same half as the reference, ties to even, subnormals and overflow included', () => {
  const values: number[] = [
    0,
    -0,
    1,
    -1,
    65504,
    65519.99,
    65520,
    -65520,
    1e-8,
    -1e-8,
    5.960464477539063e-8,
    // eslint-disable-next-line no-loss-of-precision -- 2^-25 with more digits than a double keeps
    2.9802322387695312e-8,
    2.980232594040899e-8,
    6.097555160522461e-5,
    6.103515625e-5,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    2048 + 1,
    2048 + 3,
    Infinity,
    -Infinity,
    3.4e38,
    1e-45,
  ];
  // every half value, the midpoints between neighbours (ties) and points just either side of them
  const view = new Float32Array(1),
    u = new Uint32Array(view.buffer);
  for (let h = 0; h < 0x7c00; h++) {
    const a = fromHalfBits(Uint16Array.of(h))[0],
      b = fromHalfBits(Uint16Array.of(h + 1))[0];
    const mid = (a + b) / 2;
    view[0] = mid;
    values.push(a, view[0], -view[0]);
    u[0] += 1;
    values.push(view[0]);
    view[0] = mid;
    u[0] -= 1;
    values.push(view[0]);
  }
  let seed = 7;
  for (let i = 0; i < 100_000; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    values.push((seed / 2 ** 32 - 0.5) * 2 ** ((seed % 40) - 20));
  }
  const input = Float32Array.from(values);
  const reference = new Uint16Array(new Float16Array(input).buffer);
  for (const { name, slice } of paths) {
    const ours = inSlices(input, slice, new Uint16Array(input.length), toHalfBits);
    for (let i = 0; i < input.length; i++)
      assert.equal(ours[i], reference[i], `${name}: value ${input[i]}: ${ours[i].toString(16)} vs ${reference[i].toString(16)}`);
  }
  for (const length of [1, HALF_KERNEL_FROM]) {
    const nan = toHalfBits(new Float32Array(length).fill(NaN))[0];
    assert.equal(nan & 0x7c00, 0x7c00);
    assert.notEqual(nan & 0x3ff, 0, 'NaN stays NaN');
  }
});

test('an output of another length is refused, not half filled', () => {
  assert.throws(() => toHalfBits(new Float32Array(300), new Uint16Array(299)), /300 values into 299 halves/);
  assert.throws(() => fromHalfBits(new Uint16Array(3), new Float32Array(4)), /3 halves into 4 values/);
});
