import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTorchRandnVectors, type TorchRandnDoc } from '../conformance/torch-randn-vectors.ts';
import { runConformance } from '../conformance/formats.ts';
import { createNoiseStream, NOISE_SOURCES } from './index.ts';
import { TorchCpuNoiseStream } from './torch-cpu.ts';
import { TorchCudaNoiseStream, philox4x32 } from './torch-cuda.ts';
import { readSharedJson, sharedSkip } from '../../tests/helpers/shared.ts';

const load = (name: string): TorchRandnDoc => readSharedJson(`conformance/${name}`);
const cpuDoc = load('torch-randn-vectors.json');
const cudaDoc = load('torch-cuda-randn-vectors.json');
const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

test('every case of the shared torch CPU vectors passes', { skip: sharedSkip() }, () => {
  const results = runTorchRandnVectors(cpuDoc);
  assert.equal(results.length, cpuDoc.cases.length);
  for (const r of results) assert.ok(r.pass, `${r.id}: ${r.detail}`);
  assert.ok(results.every((r) => r.id.startsWith('cpu ')));
});

test('every case of the shared torch CUDA vectors passes', { skip: sharedSkip() }, () => {
  const results = runTorchRandnVectors(cudaDoc);
  assert.equal(results.length, cudaDoc.cases.length);
  for (const r of results) assert.ok(r.pass, `${r.id}: ${r.detail}`);
  assert.ok(results.every((r) => r.id.startsWith('cuda ')));
});

test('the conformance registry routes torch-randn-vectors/1 to the handler', { skip: sharedSkip() }, async () => {
  const results = await runConformance(cpuDoc);
  assert.equal(results.length, cpuDoc.cases.length);
  assert.ok(results.every((r) => r.pass));
});

test('CPU stream reproduces every listed torch value bit for bit (float32)', { skip: sharedSkip() }, () => {
  for (const c of cpuDoc.cases) {
    const got = new TorchCpuNoiseStream(c.seed as number).randn(numel(c.shape));
    c.indices.forEach((index, k) => assert.equal(got[index], c.values[k], `seed ${c.seed} shape ${c.shape} index ${index}`));
  }
});

test("CPU stream gives the torch values seen in torch's own docs and tutorials", () => {
  const round4 = (a: Float64Array) => Array.from(a, (v) => Math.round(v * 1e4) / 1e4);
  // torch.manual_seed(0); torch.randn(5) / torch.randn(3, 3)
  assert.deepEqual(round4(new TorchCpuNoiseStream(0).randn(5)), [1.541, -0.2934, -2.1788, 0.5684, -1.0845]);
  assert.deepEqual(
    round4(new TorchCpuNoiseStream(0).randn(9)),
    [1.541, -0.2934, -2.1788, 0.5684, -1.0845, -1.3986, 0.4033, 0.838, -0.7193],
  );
  // torch.manual_seed(42); torch.randn(2, 3)
  assert.deepEqual(round4(new TorchCpuNoiseStream(42).randn(6)), [0.3367, 0.1288, 0.2345, 0.2303, -1.1229, -0.1863]);
  // torch.manual_seed(0); torch.randn(4, 4) (the 16-element vectorised path)
  assert.deepEqual(
    round4(new TorchCpuNoiseStream(0).randn(16)),
    [-1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.692, -0.316, -2.1152, 0.3223, -1.2633, 0.35, 0.3081, 0.1198, 1.2377, 1.1168, -0.2473],
  );
});

test('Philox4x32-10 matches the Random123 known-answer vectors', () => {
  const hex = (w: number[]) => w.map((x) => x.toString(16).padStart(8, '0')).join(' ');
  assert.equal(hex(philox4x32(0, 0, 0, 0, 0, 0)), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
  assert.equal(
    hex(philox4x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)),
    '408f276d 41c83b0e a20bc7c6 6d5451fd',
  );
  assert.equal(
    hex(philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0)),
    'd16cfe09 94fdcceb 5001e420 24126ea1',
  );
});

test('CUDA stream agrees with the output A1111 documents for its NV generator (seed 0, 3x4)', () => {
  // rng_philox.py's docstring: Generator(seed=0).randn(shape=(3, 4)). NV computes in float64, so
  // agreement is to the conformance tolerance, not bit for bit.
  const documented = [
    -0.92466259, -0.42534415, -2.6438457, 0.14518388, -0.12086647, -0.57972564, -0.62285122, -0.32838709, -1.07454231, -0.36314407,
    -1.67105067, 2.26550497,
  ];
  const got = new TorchCudaNoiseStream(0).randn(12);
  documented.forEach((v, i) => assert.ok(Math.abs(got[i] - v) <= 1e-6 * Math.max(1, Math.abs(v)), `element ${i}: ${got[i]} vs ${v}`));
});

test('CPU stream: calls of multiples of 16 continue the stream like one long call', () => {
  const s = new TorchCpuNoiseStream(1234);
  const a = s.randn(16384),
    b = s.randn(4096);
  const whole = new TorchCpuNoiseStream(1234).randn(16384 + 4096);
  assert.deepEqual(a, whole.subarray(0, 16384));
  assert.deepEqual(b, whole.subarray(16384));
});

test('CPU stream: sizes not a multiple of 16 draw 16 extra uniforms for the recomputed last block', () => {
  const n16 = new TorchCpuNoiseStream(9).randn(16);
  const n17 = new TorchCpuNoiseStream(9).randn(17);
  assert.equal(n17[0], n16[0]); // the first block is the same 16 uniforms
  assert.notEqual(n17[1], n16[1]); // elements 1..16 come from the recomputed block
  // 17 elements use 33 uniforms: the 33-element call's last 16 are the block of uniforms 33..48,
  // which a stream that has drawn 17 elements produces next.
  const h = new TorchCpuNoiseStream(9);
  h.randn(17);
  const next16 = h.randn(16);
  const n33 = new TorchCpuNoiseStream(9).randn(33);
  assert.deepEqual(n33.subarray(17), next16);
  assert.deepEqual(n33.subarray(0, 16), n16);
  // And a later call after an odd size continues after all 33 draws.
  assert.notDeepEqual(next16, new TorchCpuNoiseStream(9).randn(32).subarray(16));
});

test('CPU stream: small calls (< 16) pair values and keep the spare across calls of any size', () => {
  const whole = new TorchCpuNoiseStream(77).randn(15);
  const s = new TorchCpuNoiseStream(77);
  const parts = [...s.randn(5), ...s.randn(1), ...s.randn(9)];
  assert.deepEqual(parts, [...whole]);

  // randn(3) leaves the 4th normal cached; a randn(16) in between neither uses nor clears it.
  const four = new TorchCpuNoiseStream(5).randn(4);
  const t = new TorchCpuNoiseStream(5);
  t.randn(3);
  const big = t.randn(16);
  assert.deepEqual(t.randn(1), Float64Array.of(four[3]));
  const u = new TorchCpuNoiseStream(5);
  u.randn(4); // the same 8 generator words, nothing cached
  assert.deepEqual(big, u.randn(16));
});

test('CUDA stream: element i does not depend on the size of the call', () => {
  const full = new TorchCudaNoiseStream(31337).randn(16384);
  for (const n of [1, 15, 16, 17, 33]) assert.deepEqual(new TorchCudaNoiseStream(31337).randn(n), full.subarray(0, n));
});

test('CUDA stream: each call advances the Philox counter by one step, whatever its size (A1111 NV)', () => {
  const a = new TorchCudaNoiseStream(2024);
  a.randn(4);
  const secondAfterSmall = a.randn(64);
  const b = new TorchCudaNoiseStream(2024);
  b.randn(16384);
  const secondAfterLarge = b.randn(64);
  assert.deepEqual(secondAfterSmall, secondAfterLarge);
  const first = new TorchCudaNoiseStream(2024).randn(64);
  assert.notDeepEqual(secondAfterSmall, first);
  const third = b.randn(64);
  assert.notDeepEqual(third, secondAfterLarge);
  assert.notDeepEqual(third, first);
});

test('count 0 returns an empty array and leaves both streams where they were', () => {
  for (const make of [(s: number) => new TorchCpuNoiseStream(s), (s: number) => new TorchCudaNoiseStream(s)]) {
    const s = make(3);
    const empty = s.randn(0);
    assert.ok(empty instanceof Float64Array);
    assert.equal(empty.length, 0);
    assert.deepEqual(s.randn(20), make(3).randn(20));
    s.randn(1);
    s.randn(0);
    const t = make(3);
    t.randn(20);
    t.randn(1);
    assert.deepEqual(s.randn(5), t.randn(5));
  }
});

test('seeds: 0, 2^32 and 2^64-1; CPU uses the low 32 bits, CUDA all 64', () => {
  const cpu = (s: number | bigint, n = 20) => new TorchCpuNoiseStream(s).randn(n);
  const cuda = (s: number | bigint, n = 20) => new TorchCudaNoiseStream(s).randn(n);
  assert.equal(cpu(0).length, 20);
  assert.deepEqual(cpu(2 ** 32), cpu(0));
  assert.deepEqual(cpu(2n ** 32n), cpu(0));
  assert.deepEqual(cpu(2n ** 64n - 1n), cpu(2 ** 32 - 1));
  assert.deepEqual(cpu(123n), cpu(123));
  assert.notDeepEqual(cuda(2 ** 32), cuda(0));
  assert.deepEqual(cuda(2n ** 32n), cuda(2 ** 32));
  assert.notDeepEqual(cuda(2n ** 64n - 1n), cuda(2 ** 32 - 1));
  assert.deepEqual(cuda(123n), cuda(123));
  assert.deepEqual(cuda(Number.MAX_SAFE_INTEGER), cuda(BigInt(Number.MAX_SAFE_INTEGER)));
  for (const v of [...cpu(2n ** 64n - 1n, 40), ...cuda(2n ** 64n - 1n, 40)]) assert.ok(Number.isFinite(v) && Math.abs(v) < 7);
});

test('bad seeds and counts throw RangeError with a clear message', () => {
  for (const Stream of [TorchCpuNoiseStream, TorchCudaNoiseStream]) {
    for (const seed of [-1, 1.5, NaN, Infinity, -1n, 2n ** 64n, '5' as unknown as number]) {
      assert.throws(
        () => new Stream(seed),
        (e: unknown) => e instanceof RangeError && /seed must be a whole number from 0 to 2\^64-1/.test(e.message),
        `seed ${String(seed)}`,
      );
    }
    assert.throws(
      () => new Stream(2 ** 53),
      (e: unknown) => e instanceof RangeError && /pass it as a bigint/.test(e.message),
    );
    const s = new Stream(1);
    for (const count of [-1, 2.5, NaN]) {
      assert.throws(
        () => s.randn(count),
        (e: unknown) => e instanceof RangeError && /count must be a whole number >= 0/.test(e.message),
      );
    }
  }
});

test('both streams look like N(0, 1) over many draws', () => {
  for (const stream of [new TorchCpuNoiseStream(8), new TorchCudaNoiseStream(8)]) {
    const x = stream.randn(100003);
    let sum = 0,
      sq = 0;
    for (const v of x) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / x.length,
      variance = sq / x.length - mean * mean;
    assert.ok(Math.abs(mean) < 0.015, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.02, `variance ${variance}`);
    for (const v of x) assert.equal(v, Math.fround(v)); // float32 values
  }
});

test('the handler fails on a wrong value, a wrong sum, an unknown generator or a bad index', { skip: sharedSkip() }, () => {
  const base = cpuDoc.cases[0];
  const run = (c: object) => runTorchRandnVectors({ cases: [c as TorchRandnDoc['cases'][number]] })[0];
  assert.ok(run(base).pass);
  const offValue = clone(base);
  offValue.values[3] += 2e-6 * Math.max(1, Math.abs(offValue.values[3]));
  assert.equal(run(offValue).pass, false);
  const offSum = clone(base);
  offSum.sum *= 1.01;
  assert.equal(run(offSum).pass, false);
  const offSq = clone(base);
  offSq.sum_sq *= 1.01;
  assert.equal(run(offSq).pass, false);
  const wrongGenerator = clone(base);
  wrongGenerator.generator = 'cuda';
  assert.equal(run(wrongGenerator).pass, false);
  const unknown = clone(base);
  unknown.generator = 'mps';
  assert.match(run(unknown).detail, /unknown generator/);
  const badIndex = clone(base);
  badIndex.indices[0] = numel(base.shape);
  assert.equal(run(badIndex).pass, false);
});

test('the handler reads the generator from the reference text', { skip: sharedSkip() }, () => {
  const c = clone(cudaDoc.cases[3]);
  delete c.generator;
  assert.ok(runTorchRandnVectors({ reference: cudaDoc.reference, cases: [c] })[0].pass);
  assert.equal(runTorchRandnVectors({ cases: [c] })[0].pass, false); // nothing names the device
});

test("the handler reads string seeds and torch's negative seeds", () => {
  // A seed written as a string, and -1, which torch wraps to 2^64 - 1.
  const expected = new TorchCudaNoiseStream(2n ** 64n - 1n).randn(16);
  let sum = 0,
    sq = 0;
  for (const v of expected) {
    sum += v;
    sq += v * v;
  }
  const mk = (seed: string | number) => ({
    seed,
    shape: [16],
    generator: 'cuda',
    indices: [0, 15],
    values: [expected[0], expected[15]],
    sum,
    sum_sq: sq,
  });
  assert.ok(runTorchRandnVectors({ cases: [mk('18446744073709551615')] })[0].pass);
  assert.ok(runTorchRandnVectors({ cases: [mk(-1)] })[0].pass);
  assert.equal(runTorchRandnVectors({ cases: [mk(0)] })[0].pass, false);
});

test('NOISE_SOURCES names both torch sources', () => {
  assert.ok(Object.hasOwn(NOISE_SOURCES, 'torch-cpu'));
  assert.ok(Object.hasOwn(NOISE_SOURCES, 'torch-cuda'));
  assert.deepEqual(createNoiseStream('torch-cpu', 42).randn(32), new TorchCpuNoiseStream(42).randn(32));
  assert.deepEqual(createNoiseStream('torch-cuda', 42).randn(32), new TorchCudaNoiseStream(42).randn(32));
  assert.deepEqual(NOISE_SOURCES['torch-cpu'](2n ** 40n).randn(8), new TorchCpuNoiseStream(2 ** 40).randn(8));
});
