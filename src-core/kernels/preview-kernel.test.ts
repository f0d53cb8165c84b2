// The preview kernel against its formula written out here as a plain loop, byte for byte: on both sides of
// KERNEL_FROM, with odd pixel counts (the loop), ties at .5, saturation, NaN and infinities, and on a latent that
// lives in a workspace (read in place, the workspace's other arrays left as they were).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { previewBytes } from './preview-kernel.ts';
import { KERNEL_FROM } from './latent-kernels.ts';
import { LatentWorkspace } from './kernel-memory.ts';

let seed = 777;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;

/** The formula: per colour, v = k0 + k[c] x[c] summed in channel order; floor(v + 0.5) within [0, 255], NaN 0. */
function expected(k: Float64Array, latent: Float64Array, channels: number): number[] {
  const plane = latent.length / channels,
    out: number[] = [];
  for (let p = 0; p < plane; p++) {
    for (let colour = 0; colour < 3; colour++) {
      let v = k[colour];
      for (let c = 0; c < channels; c++) v = v + k[3 + 3 * c + colour] * latent[c * plane + p];
      const rounded = Math.floor(v + 0.5);
      out.push(Number.isNaN(rounded) ? 0 : rounded < 0 ? 0 : rounded > 255 ? 255 : rounded);
    }
    out.push(255);
  }
  return out;
}

function assertSameBytes(actual: Uint8Array, wanted: number[], what: string): void {
  assert.equal(actual.length, wanted.length, `${what}: length`);
  for (let i = 0; i < wanted.length; i++) if (actual[i] !== wanted[i]) assert.fail(`${what}[${i}]: ${actual[i]} !== ${wanted[i]}`);
}

// SD-like coefficients on the byte scale (127.5 (bias + 1), then 127.5 w per channel and colour).
const sdLike = (channels: number) => Float64Array.from({ length: 3 * channels + 3 }, (_, i) => (i < 3 ? 127.5 : 60 * random()));

test('the kernel and the loop give the formula for sizes on both sides of KERNEL_FROM, odd pixel counts included', () => {
  for (const [channels, plane] of [
    [4, 1],
    [4, 3],
    [4, KERNEL_FROM / 4 - 2],
    [4, KERNEL_FROM / 4],
    [4, KERNEL_FROM / 4 + 1],
    [4, 64 * 64],
    [16, 32 * 32],
    [3, 48 * 48],
  ]) {
    const k = sdLike(channels);
    const latent = Float64Array.from({ length: channels * plane }, () => 3 * random());
    assertSameBytes(previewBytes(k, latent, channels), expected(k, latent, channels), `${channels}x${plane}`);
  }
});

test('ties round up, values past the ends saturate, NaN gives 0 and infinities the ends', () => {
  const plane = 64 * 64,
    channels = 4;
  // One channel carries the value, the others are 0: v = k0 + x.
  const k = Float64Array.from([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const specials = [126.5, 127.5, 0.5, -0.5, -0.49, 254.5, 255.49, 255.5, 1e300, -1e300, 2 ** 31, NaN, Infinity, -Infinity];
  const latent = new Float64Array(channels * plane);
  for (let p = 0; p < plane; p++) latent[p] = p < specials.length ? specials[p] : (p % 600) / 2 - 20;
  const bytes = previewBytes(k, latent, channels);
  assert.deepEqual(
    [...bytes.subarray(0, 4 * specials.length)].filter((_, i) => i % 4 === 0),
    [127, 128, 1, 0, 0, 255, 255, 255, 255, 0, 255, 0, 255, 0],
  );
  assertSameBytes(bytes, expected(k, latent, channels), 'specials and a ramp');
});

test("a workspace's latent is read in place: the bytes are the formula's and its arrays keep their values", () => {
  const channels = 4,
    plane = 64 * 64,
    length = channels * plane;
  const workspace = new LatentWorkspace(length, 2);
  const latent = workspace.array(0)!,
    other = workspace.array(1)!;
  latent.set(Float64Array.from({ length }, () => 2.5 * random()));
  other.set(Float64Array.from({ length }, () => random()));
  const before = [Float64Array.from(latent), Float64Array.from(other)];
  const k = sdLike(channels);
  const bytes = previewBytes(k, latent, channels);
  assertSameBytes(bytes, expected(k, before[0], channels), 'in place');
  assert.notEqual(bytes.buffer, latent.buffer, "the bytes are the caller's own, outside the workspace's memory");
  assert.deepEqual(latent, before[0]);
  assert.deepEqual(other, before[1]);
  workspace.release();
});

test('a latent that is not whole channels, or coefficients for another channel count, are refused', () => {
  assert.throws(() => previewBytes(sdLike(4), new Float64Array(4 * 64 * 64 + 1), 4), RangeError);
  assert.throws(() => previewBytes(sdLike(3), new Float64Array(4 * 64 * 64), 4), RangeError);
});
