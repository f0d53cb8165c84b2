// The kernels on a workspace's arrays (in place) against the same calls on arrays of the callers' own (copied in and
// out, checked against the formulas in latent-kernels.test.ts), with every mix of where the operands live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inWorkspace, LatentWorkspace } from './kernel-memory.ts';
import * as kernels from './latent-kernels.ts';

const { KERNEL_FROM, allFinite, axpy, combineGuidance, dpmpp2mUpdate, eulerStep, heunCorrect, heunPredict, scaleInput } = kernels;

// The JavaScript loops (below KERNEL_FROM) and the kernels, at 4x64x64.
const lengths = [16, 4 * 64 * 64];
let seed = 777;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
const doubles = (n: number) => Float64Array.from({ length: n }, () => random() * 5);

/** Where an operand lives: an array of its own, workspace A's, or another workspace's (B) of the same length. */
type Place = 'own' | 'A' | 'B';
const PLACES: Place[] = ['own', 'A', 'B'];

/** Two workspaces for one test (each is an instance with a memory of its own); placer() starts a placement over. */
function workspaces(n: number) {
  const spaces = { A: new LatentWorkspace(n, 4), B: new LatentWorkspace(n, 4) };
  return () => {
    const used = { A: 0, B: 0 };
    return (place: Place, values: Float64Array): Float64Array => {
      if (place === 'own') return Float64Array.from(values);
      const array = spaces[place].array(used[place]++)!;
      array.set(values);
      return array;
    };
  };
}

/** Every assignment of places to `count` operands (3^count of them). */
const placements = (count: number): Place[][] =>
  count === 0 ? [[]] : placements(count - 1).flatMap((rest) => PLACES.map((p) => [p, ...rest]));

/**
 * Runs `op` on fresh copies of `inputs` in every placement, and checks that each result array holds the values of the
 * all-own placement, and that inputs that are not results are left as they were.
 */
function checkPlacements(
  placer: ReturnType<typeof workspaces>,
  inputs: Float64Array[],
  results: number[],
  op: (arrays: Float64Array[]) => void,
  what: string,
) {
  const expected = inputs.map((a) => Float64Array.from(a));
  op(expected);
  for (const places of placements(inputs.length)) {
    const place = placer();
    const arrays = inputs.map((a, k) => place(places[k], a));
    op(arrays);
    arrays.forEach((a, k) => {
      const want = results.includes(k) ? expected[k] : inputs[k];
      assert.deepEqual(a, want, `${what} n=${a.length} [${places}] operand ${k}`);
    });
  }
}

for (const n of lengths) {
  test(`the step kernels give the same values in a workspace, in another or outside, in any mix (${n} values)`, () => {
    const placer = workspaces(n);
    checkPlacements(placer, [doubles(n), doubles(n)], [0], ([x, d]) => eulerStep(x, 2.5, d, 1.75), 'eulerStep');
    checkPlacements(placer, [doubles(n), doubles(n)], [1], ([a, out]) => axpy(a, 0.3, a, out), 'axpy into out');
    checkPlacements(placer, [doubles(n), doubles(n)], [0], ([a, b]) => axpy(a, -1.25, b, a), 'axpy in place');
    checkPlacements(
      placer,
      [doubles(n), doubles(n), doubles(n)],
      [0],
      ([x, d, p]) => dpmpp2mUpdate(x, d, 0.8, 0.3, { previous: p, a: 1.4, b: 0.4 }),
      'dpmpp2m',
    );
    checkPlacements(
      placer,
      [doubles(n), doubles(n), doubles(n), doubles(n)],
      [2, 3],
      ([x, d, s, e]) => heunPredict(x, d, 3, -0.5, s, e),
      'heunPredict',
    );
    checkPlacements(
      placer,
      [doubles(n), doubles(n), doubles(n), doubles(n)],
      [0],
      ([x, e, d, s]) => heunCorrect(x, e, d, s, 2.5, -0.5),
      'heunCorrect',
    );
  });

  test(`scaleInput and combineGuidance give the same values with a workspace's UNet input and outputs (${n} values)`, () => {
    const x = doubles(n);
    const placer = workspaces(n);
    for (const half of [false, true]) {
      for (const guided of [false, true]) {
        const values = guided ? 2 * n : n;
        const own = half ? new Uint16Array(values) : new Float32Array(values);
        scaleInput(own, x, 0.17, guided);
        const space = new LatentWorkspace(n, 2);
        const input = space.unetInput(half, values);
        scaleInput(input, x, 0.17, guided);
        assert.ok(inWorkspace(input));
        assert.deepEqual(Array.from(input), Array.from(own), `scaleInput half=${half} guided=${guided}`);
        // The model's output taken as the scaled input itself: D from the same values either way.
        const expected = new Float64Array(n);
        const finite = combineGuidance(expected, x, own, { cSkip: 0.9, cOut: -1.3 }, 6, guided);
        for (const xPlace of PLACES) {
          const place = placer();
          const denoised = space.array(1)!;
          const xAt = place(xPlace, x);
          assert.equal(combineGuidance(denoised, xAt, input, { cSkip: 0.9, cOut: -1.3 }, 6, guided), finite);
          assert.deepEqual(denoised, expected, `combine half=${half} guided=${guided} x ${xPlace}`);
          assert.deepEqual(xAt, x, 'x is left as it was');
        }
      }
    }
  });

  test(`allFinite reads a workspace's array where it is (${n} values)`, () => {
    const array = new LatentWorkspace(n, 1).array(0)!;
    array.set(doubles(n));
    assert.equal(allFinite(array), true);
    array[n - 1] = NaN;
    assert.equal(allFinite(array), false);
  });
}

test("a workspace's arrays stay valid and in place while the shared memory grows for other lengths", () => {
  const n = KERNEL_FROM * 4;
  const space = new LatentWorkspace(n, 2);
  const [x, d] = [space.array(0)!, space.array(1)!];
  x.set(doubles(n));
  d.set(doubles(n));
  const buffer = x.buffer;
  // A length the shared memory has not been laid out for yet: it grows, the workspace's does not.
  const big = 4 * 160 * 160 + 3;
  eulerStep(doubles(big), 1, doubles(big), 0.5);
  const expected = Float64Array.from(x);
  eulerStep(expected, 2, Float64Array.from(d), 1);
  eulerStep(x, 2, d, 1);
  assert.equal(x.buffer, buffer);
  assert.equal(x.length, n);
  assert.deepEqual(x, expected);
});

test('a workspace refuses a length that is not a multiple of 4, and a UNet input larger than two latents', () => {
  assert.equal(LatentWorkspace.fits(4098), false);
  assert.throws(() => new LatentWorkspace(4098, 2), /multiple of 4 \(got 4098\)/);
  assert.throws(() => new LatentWorkspace(16, 2).unetInput(false, 33), /UNet input of 33 values for a workspace of 16/);
  assert.equal(new LatentWorkspace(16, 2).array(2), undefined);
  assert.equal(inWorkspace(new Float64Array(16)), false);
});

test('a released workspace is taken again, once, by a later take of its length and no more arrays', () => {
  const n = 4 * 8 * 8;
  const first = LatentWorkspace.take(n, 3);
  assert.notEqual(LatentWorkspace.take(n, 3), first, 'a held workspace is not handed out twice');
  first.release();
  first.release();
  assert.notEqual(LatentWorkspace.take(n, 4), first, 'more arrays than it has');
  assert.notEqual(LatentWorkspace.take(n + 4, 2), first, 'another length');
  assert.equal(LatentWorkspace.take(n, 2), first);
  assert.notEqual(LatentWorkspace.take(n, 2), first, 'released twice, taken once');
});

test('released workspaces are kept up to 64 MiB in all: a larger one is not', () => {
  // 12 arrays' room (4 slots, 6 arrays, the UNet's input and output) of 705600 values: 68 MB.
  const length = 4 * 420 * 420;
  const large = LatentWorkspace.take(length, 6);
  assert.ok(large.bytes > 64 * 2 ** 20);
  large.release();
  assert.notEqual(LatentWorkspace.take(length, 6), large);
  const small = LatentWorkspace.take(16, 6);
  small.release();
  assert.equal(LatentWorkspace.take(16, 6), small);
});
