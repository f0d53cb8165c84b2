// The half kernels against model/half.ts's loops (themselves checked against @petamoriken/float16 in half.test.ts),
// bit for bit: float32 patterns around every rounding boundary of every exponent, lengths that are not whole lanes,
// and arrays longer than one chunk. (Every one of the 2^32 float32 patterns was checked this way once: 27 s.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHalfBits, HALF_KERNEL_FROM, toHalfBits } from '../model/half.ts';
import { fromHalfKernel, toHalfKernel } from './half-kernels.ts';

/** The loops' answer: the conversion in slices short enough to stay off the kernels. */
type Halves = Float32Array | Uint16Array;
function byLoops<I extends Halves, O extends Halves>(input: I, out: O, convert: (i: I, o: O) => unknown): O {
  const size = HALF_KERNEL_FROM - 1;
  for (let start = 0; start < input.length; start += size)
    convert(input.subarray(start, start + size) as I, out.subarray(start, start + size) as O);
  return out;
}

function assertSameBits(actual: Uint16Array | Uint32Array, expected: Uint16Array | Uint32Array, what: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++)
    if (actual[i] !== expected[i]) assert.fail(`${what}[${i}]: ${actual[i].toString(16)} !== ${expected[i].toString(16)}`);
}

// For every sign and float32 exponent: the mantissas at and around the half's rounding points (13 dropped bits, or
// more for subnormal halves), the extremes, and a spread of others; NaN payloads come with exponent 255.
function boundaryPatterns(): Uint32Array {
  const mantissas = new Set<number>([0, 1, 2, 0x7fffff, 0x7ffffe, 0x400000, 0x3fffff, 0x400001]);
  for (let shift = 12; shift <= 23; shift++) {
    const half = 1 << shift;
    for (const m of [half - 1, half, half + 1, 3 * half - 1, 3 * half, 3 * half + 1]) if (m <= 0x7fffff) mantissas.add(m);
  }
  for (let k = 0; k < 64; k++) mantissas.add((k * 0x1fffd + 0x1001) & 0x7fffff);
  const out: number[] = [];
  for (let sign = 0; sign < 2; sign++)
    for (let exponent = 0; exponent < 256; exponent++) for (const m of mantissas) out.push(((sign << 31) | (exponent << 23) | m) >>> 0);
  return Uint32Array.from(out);
}

test('toHalfKernel gives the loops bits for rounding boundaries of every exponent, ties, subnormals, infinities and NaN', () => {
  const patterns = boundaryPatterns();
  const values = new Float32Array(patterns.buffer);
  assertSameBits(toKernel(values), byLoops(values, new Uint16Array(values.length), toHalfBits), 'halves');
});

function toKernel(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  toHalfKernel(values, out);
  return out;
}

test('fromHalfKernel gives the loops float32 bits for every half, NaN as the loops store it', () => {
  const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const ours = new Float32Array(bits.length);
  fromHalfKernel(bits, ours);
  const loops = byLoops(bits, new Float32Array(bits.length), fromHalfBits);
  assertSameBits(new Uint32Array(ours.buffer), new Uint32Array(loops.buffer), 'floats');
});

test('lengths that are not whole lanes, and arrays over one chunk, convert every value and nothing past the end', () => {
  let seed = 99;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2 ** ((seed % 44) - 22);
  for (const length of [0, 1, 7, 9, 65535, 65536, 65537, 3 * 65536 + 5]) {
    const values = Float32Array.from({ length }, random);
    const halves = new Uint16Array(length + 1).fill(0xabcd);
    toHalfKernel(values, halves.subarray(0, length));
    assert.equal(halves[length], 0xabcd, `length ${length}: the value past the end is untouched`);
    assertSameBits(halves.subarray(0, length), byLoops(values, new Uint16Array(length), toHalfBits), `halves of ${length}`);
    const floats = new Float32Array(length + 1).fill(42);
    fromHalfKernel(halves.subarray(0, length), floats.subarray(0, length));
    assert.equal(floats[length], 42, `length ${length}: the float past the end is untouched`);
    const loops = byLoops(halves.subarray(0, length), new Float32Array(length), fromHalfBits);
    assertSameBits(new Uint32Array(floats.buffer, 0, length), new Uint32Array(loops.buffer), `floats of ${length}`);
  }
});
