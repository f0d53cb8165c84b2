// Every layer in onnxruntime-node against a straightforward JS implementation of what torch computes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from './graph.ts';
import { attention, conv2d, gelu, groupNorm, layerNorm, linear, quickGelu, silu } from './layers.ts';
import { weightMap, type WeightRef } from '../import/weights.ts';
import { randomValues, randomWeight, relativeError, runGraph } from './testing.ts';
import { referenceAttention, referenceGelu, referenceLayerNorm, referenceLinear, referenceQuickGelu, sigmoid } from './reference.ts';

const TOLERANCE = 1e-5;

function source(entries: Record<string, WeightRef>) {
  return weightMap(new Map(Object.entries(entries)));
}

async function runOne(
  g: Graph,
  out: string,
  outShape: Array<number | string>,
  feeds: Record<string, { data: Float32Array; dims: number[] }>,
) {
  g.output('y', out, 'float32', outShape);
  return (await runGraph(g, feeds)).y as Float32Array;
}

test('linear is x @ W^T + b over the last axis, with and without a bias, batch and sequence symbolic', async () => {
  for (const withBias of [true, false]) {
    const [n, t, inF, outF] = [2, 3, 5, 4];
    const W = randomWeight([outF, inF], 1),
      b = randomWeight([outF], 2);
    const w = source(withBias ? { 'fc.weight': W, 'fc.bias': b } : { 'fc.weight': W });
    const g = new Graph('linear', 'float32');
    const x = randomValues(n * t * inF, 3);
    const y = await runOne(g, linear(g, w, g.input('x', 'float32', ['batch', 'seq', inF]), 'fc'), ['batch', 'seq', outF], {
      x: { data: x, dims: [n, t, inF] },
    });
    const expected = referenceLinear(x, W.read(), withBias ? b.read() : undefined, inF, outF);
    assert.ok(relativeError(y, expected) < TOLERANCE, `bias ${withBias}: ${relativeError(y, expected)}`);
  }
});

function referenceConv(
  x: Float32Array,
  [n, c, h, wd]: number[],
  W: Float32Array,
  [o, , kh, kw]: number[],
  bias: Float32Array | undefined,
  stride: number,
  [pt, pl, pb, pr]: number[],
) {
  const oh = Math.floor((h + pt + pb - kh) / stride) + 1,
    ow = Math.floor((wd + pl + pr - kw) / stride) + 1;
  const out = new Float32Array(n * o * oh * ow);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = bias ? bias[oc] : 0;
          for (let ic = 0; ic < c; ic++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const iy = y * stride - pt + i,
                  ix = xx * stride - pl + j;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                s += x[((b * c + ic) * h + iy) * wd + ix] * W[((oc * c + ic) * kh + i) * kw + j];
              }
          out[((b * o + oc) * oh + y) * ow + xx] = s;
        }
  return { out, dims: [n, o, oh, ow] };
}

test('conv2d: 3x3 same padding, stride 2 with pad 1, asymmetric pad [0,0,1,1], 1x1 without bias', async () => {
  const cases: Array<{ k: number; stride?: number; pad?: number | [number, number, number, number]; bias: boolean }> = [
    { k: 3, bias: true },
    { k: 3, stride: 2, pad: 1, bias: true },
    { k: 3, stride: 2, pad: [0, 0, 1, 1], bias: true },
    { k: 1, bias: false },
  ];
  for (const [index, { k, stride, pad, bias }] of cases.entries()) {
    const xDims = [2, 3, 7, 6],
      wDims = [4, 3, k, k];
    const W = randomWeight(wDims, 10 + index),
      B = randomWeight([4], 20 + index);
    const w = source(bias ? { 'conv.weight': W, 'conv.bias': B } : { 'conv.weight': W });
    const x = randomValues(2 * 3 * 7 * 6, 30 + index);
    const g = new Graph('conv', 'float32');
    const y = conv2d(g, w, g.input('x', 'float32', ['batch', 3, 'h', 'w']), 'conv', { stride, pad });
    const pads = typeof pad === 'number' ? [pad, pad, pad, pad] : (pad ?? Array(4).fill(Math.floor(k / 2)));
    const expected = referenceConv(x, xDims, W.read(), wDims, bias ? B.read() : undefined, stride ?? 1, pads);
    const actual = await runOne(g, y, ['batch', 4, 'oh', 'ow'], { x: { data: x, dims: xDims } });
    assert.equal(actual.length, expected.out.length, `case ${index} size`);
    assert.ok(relativeError(actual, expected.out) < TOLERANCE, `case ${index}: ${relativeError(actual, expected.out)}`);
  }
});

test('groupNorm matches torch GroupNorm (biased variance over each group of channels and pixels, then the affine)', async () => {
  const [n, c, h, wd, groups, eps] = [2, 8, 3, 5, 4, 1e-6];
  const gamma = randomWeight([c], 40),
    beta = randomWeight([c], 41);
  const x = randomValues(n * c * h * wd, 42, 3);
  for (let i = 0; i < x.length; i++) x[i] += 1.5; // a non-zero mean, as activations have
  const g = new Graph('groupnorm', 'float32');
  const y = groupNorm(g, source({ 'norm.weight': gamma, 'norm.bias': beta }), g.input('x', 'float32', ['batch', c, 'h', 'w']), 'norm', {
    groups,
    eps,
  });
  const actual = await runOne(g, y, ['batch', c, 'h', 'w'], { x: { data: x, dims: [n, c, h, wd] } });
  const expected = new Float32Array(x.length),
    per = (c / groups) * h * wd,
    gv = gamma.read(),
    bv = beta.read();
  for (let b = 0; b < n; b++)
    for (let gr = 0; gr < groups; gr++) {
      const start = (b * groups + gr) * per;
      let mean = 0,
        variance = 0;
      for (let i = 0; i < per; i++) mean += x[start + i] / per;
      for (let i = 0; i < per; i++) variance += (x[start + i] - mean) ** 2 / per;
      for (let i = 0; i < per; i++) {
        const channel = gr * (c / groups) + Math.floor(i / (h * wd));
        expected[start + i] = ((x[start + i] - mean) / Math.sqrt(variance + eps)) * gv[channel] + bv[channel];
      }
    }
  assert.ok(relativeError(actual, expected) < TOLERANCE, String(relativeError(actual, expected)));
});

test('layerNorm matches torch LayerNorm over the last axis', async () => {
  const [width, eps] = [10, 1e-5];
  const gamma = randomWeight([width], 50),
    beta = randomWeight([width], 51);
  const x = randomValues(6 * width, 52, 2);
  const g = new Graph('layernorm', 'float32');
  const y = layerNorm(g, source({ 'ln.weight': gamma, 'ln.bias': beta }), g.input('x', 'float32', ['batch', 'seq', width]), 'ln', eps);
  const actual = await runOne(g, y, ['batch', 'seq', width], { x: { data: x, dims: [2, 3, width] } });
  const expected = referenceLayerNorm(x, gamma.read(), beta.read(), width, eps);
  assert.ok(relativeError(actual, expected) < TOLERANCE, String(relativeError(actual, expected)));
});

test('silu, gelu (erf form) and quick_gelu', async () => {
  const x = randomValues(64, 60, 5);
  const cases = [
    { name: 'silu', build: silu, f: (v: number) => v * sigmoid(v) },
    { name: 'gelu', build: gelu, f: referenceGelu },
    { name: 'quickGelu', build: quickGelu, f: referenceQuickGelu },
  ];
  for (const { name, build, f } of cases) {
    const g = new Graph(name, 'float32');
    const actual = await runOne(g, build(g, g.input('x', 'float32', ['n'])), ['n'], { x: { data: x, dims: [64] } });
    assert.ok(relativeError(actual, x.map(f)) < TOLERANCE, `${name}: ${relativeError(actual, x.map(f))}`);
  }
});

test('attention: plain and MultiHeadAttention, self and cross, causal, against the reference', async () => {
  const [n, t, s, c, heads] = [2, 5, 7, 12, 3];
  const cases = [
    { mode: 'plain', causal: false, cross: true },
    { mode: 'mha', causal: false, cross: true },
    { mode: 'plain', causal: true, cross: false },
    { mode: 'mha', causal: true, cross: false },
    { mode: 'plain', causal: false, cross: false, channels: c },
  ] as const;
  for (const [index, { mode, causal, cross, ...rest }] of cases.entries()) {
    const kv = cross ? s : t;
    const q = randomValues(n * t * c, 70 + index, 2),
      k = randomValues(n * kv * c, 80 + index, 2),
      v = randomValues(n * kv * c, 90 + index);
    const g = new Graph('attention', 'float32');
    const qIn = g.input('q', 'float32', ['batch', 'tokens', c]);
    const kIn = cross ? g.input('k', 'float32', ['batch', 'context', c]) : qIn;
    const vIn = cross ? g.input('v', 'float32', ['batch', 'context', c]) : g.input('v', 'float32', ['batch', 'tokens', c]);
    const y = attention(g, qIn, kIn, vIn, heads, { mode, causal, channels: 'channels' in rest ? rest.channels : undefined });
    const feeds: Record<string, { data: Float32Array; dims: number[] }> = {
      q: { data: q, dims: [n, t, c] },
      v: { data: v, dims: [n, kv, c] },
    };
    if (cross) feeds.k = { data: k, dims: [n, s, c] };
    const actual = await runOne(g, y, ['batch', 'tokens', c], feeds);
    const expected = referenceAttention(q, cross ? k : q, v, n, t, kv, c, heads, causal);
    assert.ok(relativeError(actual, expected) < TOLERANCE, `${mode} causal=${causal} cross=${cross}: ${relativeError(actual, expected)}`);
  }
});
