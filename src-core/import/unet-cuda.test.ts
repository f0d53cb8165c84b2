// The UNet's CUDA flavour (NHWC, onnxruntime's fused com.microsoft ops). Its CUDA-only ops have no CPU kernel, so
// here they are rewritten into standard ops as onnxruntime documents them (onnx/cuda-ops-reference.ts) and the
// network must give the portable graph's output; on a GPU the same graph runs the fused kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Graph } from '../onnx/graph.ts';
import { expandCudaOps } from '../onnx/cuda-ops-reference.ts';
import { channelsLastKernel, packedHeadsWeight } from '../onnx/cuda-layers.ts';
import { relativeError } from '../onnx/testing.ts';
import { buildUNet, type UNetConfig } from './unet-graph.ts';
import { randomUNetWeights, runUNetGraph, TINY_UNET, tinyUNetInputs, unetShapes } from './unet-testing.ts';
import { arrayWeight, weightMap, type WeightRef, type WeightSource } from './weights.ts';
import { sharedPath, sharedSkip } from '../../tests/helpers/shared.ts';

function opCounts(g: Graph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const node of g.nodes) counts[node.opType] = (counts[node.opType] ?? 0) + 1;
  return counts;
}

async function portableAndCuda(
  w: WeightSource,
  config: UNetConfig,
  feeds: ReturnType<typeof tinyUNetInputs>,
  float: 'float32' | 'float16' = 'float32',
) {
  const portable = await runUNetGraph(buildUNet(w, config, { float: 'float32', attention: 'plain' }), feeds);
  const cudaGraph = buildUNet(w, config, { float, target: 'cuda' });
  const fused = opCounts(cudaGraph);
  const { expanded } = expandCudaOps(cudaGraph);
  const cuda = await runUNetGraph(cudaGraph, feeds);
  return { portable, cuda, fused, expanded };
}

test('NhwcConv kernels are [M, kH, kW, C] and packed attention columns go head by head, then q, k, v', () => {
  const kernel = arrayWeight(
    [2, 3, 1, 2],
    Float32Array.from({ length: 12 }, (_, i) => i),
  ); // [M=2, C=3, 1, 2]
  // out[m, 0, kw, c] = in[m, c, 0, kw]
  assert.deepEqual([...channelsLastKernel(kernel).read()], [0, 2, 4, 1, 3, 5, 6, 8, 10, 7, 9, 11]);
  assert.deepEqual(channelsLastKernel(kernel).shape, [2, 1, 2, 3]);
  // Two heads of 1, input width 2: q = [[1, 2], [3, 4]], k = +10, v = +20 (rows are outputs).
  const linear = (offset: number): WeightRef =>
    arrayWeight(
      [2, 2],
      Float32Array.from([1, 2, 3, 4], (v) => v + offset),
    );
  const packed = packedHeadsWeight([linear(0), linear(10), linear(20)], 2);
  assert.deepEqual(packed.shape, [2, 6]);
  // Row k of the packed matrix is input k; columns: head 0 (q, k, v), head 1 (q, k, v).
  assert.deepEqual([...packed.read()], [1, 11, 21, 3, 13, 23, 2, 12, 22, 4, 14, 24]);
});

test('the CUDA flavour of the tiny UNet gives the portable output (batch 2, odd size, fused GroupNorm, packed attention)', async () => {
  const w = randomUNetWeights(unetShapes(TINY_UNET));
  const { portable, cuda, fused, expanded } = await portableAndCuda(w, TINY_UNET, tinyUNetInputs(2, 5, 7));
  assert.ok(relativeError(cuda, portable) < 1e-5, `relative error ${relativeError(cuda, portable)}`);
  // Every feature-map op is the fused one: no NCHW Conv or InstanceNormalization is left.
  assert.equal(fused.Conv, undefined);
  assert.equal(fused.InstanceNormalization, undefined);
  assert.ok(fused.NhwcConv > 0 && fused.GroupNorm > 0 && fused.SkipGroupNorm > 0 && fused.SkipLayerNormalization > 0);
  assert.equal(expanded.MultiHeadAttention, fused.MultiHeadAttention);
  assert.equal(expanded.SkipGroupNorm, fused.SkipGroupNorm);
});

test('the CUDA flavour with linear projections and two transformer layers per block (SD 2, SDXL) gives the portable output', async () => {
  const config: UNetConfig = { ...TINY_UNET, use_linear_projection: true, transformer_layers_per_block: [2, 2, 1] };
  const w = randomUNetWeights(unetShapes(config));
  const { portable, cuda } = await portableAndCuda(w, config, tinyUNetInputs(2, 6, 6));
  assert.ok(relativeError(cuda, portable) < 1e-5, `relative error ${relativeError(cuda, portable)}`);
});

test('group sizes the CUDA GroupNorm refuses (odd) get standard ops beside fused ones, with the portable output', async () => {
  // 16 groups: one channel per group at the first level (refused), two at the others (fused).
  const config: UNetConfig = { ...TINY_UNET, norm_num_groups: 16 };
  const w = randomUNetWeights(unetShapes(config));
  const { portable, cuda, fused } = await portableAndCuda(w, config, tinyUNetInputs(1, 6, 6));
  assert.ok(fused.InstanceNormalization > 0 && fused.GroupNorm + fused.SkipGroupNorm > 0, JSON.stringify(fused));
  assert.ok(relativeError(cuda, portable) < 1e-5, `relative error ${relativeError(cuda, portable)}`);
});

test('at SD widths (320 channels) BiasSplitGelu and BiasAdd are used and give the portable output; fp16 stays close', async () => {
  const config: UNetConfig = {
    ...TINY_UNET,
    block_out_channels: [320],
    layers_per_block: 1,
    down_block_types: ['CrossAttnDownBlock2D'],
    up_block_types: ['CrossAttnUpBlock2D'],
    attention_head_dim: 8,
    norm_num_groups: 32,
  };
  const w = randomUNetWeights(unetShapes(config));
  const feeds = tinyUNetInputs(1, 4, 4);
  const { portable, cuda, fused } = await portableAndCuda(w, config, feeds);
  assert.ok(fused.BiasSplitGelu > 0 && fused.BiasAdd > 0, JSON.stringify(fused));
  assert.ok(relativeError(cuda, portable) < 1e-5, `relative error ${relativeError(cuda, portable)}`);
  const half = await portableAndCuda(w, config, feeds, 'float16');
  assert.ok(relativeError(half.cuda, portable) < 2e-2, `fp16 relative error ${relativeError(half.cuda, portable)}`);
});

test(
  "SD 1.5's UNet in the CUDA flavour has the fused ops onnxruntime's optimizer makes (fp16, GroupNorm scales float32)",
  { skip: sharedSkip() },
  () => {
    const config = JSON.parse(readFileSync(sharedPath('reference/sd15-configs/unet_config.json'), 'utf8')) as UNetConfig;
    // Shapes only: building reads no weight values.
    const shapes = unetShapes(config, 1280);
    const w = weightMap(new Map([...shapes].map(([name, shape]) => [name, { shape, read: () => new Float32Array(0) }])));
    const g = buildUNet(w, config, { float: 'float16', target: 'cuda' });
    const counts = opCounts(g);
    // reports/gpu-bench: the optimizer fused 32 MultiHeadAttention, 16 GroupNorm + 45 SkipGroupNorm, 16 BiasSplitGelu,
    // 98 NhwcConv, 16 BiasAdd, 32 SkipLayerNormalization in this UNet.
    assert.equal(counts.NhwcConv, 98);
    assert.equal(counts.MultiHeadAttention, 32);
    assert.equal(counts.GroupNorm + counts.SkipGroupNorm, 61);
    assert.equal(counts.BiasSplitGelu, 16);
    assert.equal(counts.BiasAdd, 16);
    assert.equal(counts.SkipLayerNormalization, 32);
    assert.equal(counts.Transpose, 2, 'only the input and output change layout');
    const scales = g.weights.filter((x) => /norm[^.]*\.(weight|bias)\.f32$/.test(x.name));
    assert.equal(scales.length, 2 * 61);
    assert.ok(scales.every((x) => x.float === 'float32'));
    assert.ok(g.weights.filter((x) => !scales.includes(x)).every((x) => x.float === 'float16'));
  },
);
