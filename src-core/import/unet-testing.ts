// Test support for the UNet graph: seeded random weights under every diffusers name a config implies (so the
// builder can be run before any reference model exists), a source that records what is read, and a one-call runner.
// Used by unet-graph.test.ts only (its JS versions of torch's ops are vae-reference.ts's).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import type { Graph } from '../onnx/graph.ts';
import { writeModel } from '../onnx/write-model.ts';
import { fromHalfBits, toHalfBits } from '../model/half.ts';
import { randomValues } from '../onnx/testing.ts';
import { planUNet, type UNetConfig } from './unet-config.ts';
import { arrayWeight, weightMap, type WeightRef, type WeightSource } from './weights.ts';

/** Every UNet2DConditionModel tensor name of `config` with its shape, in diffusers' layout. */
export function unetShapes(config: UNetConfig, timeDim?: number): Map<string, number[]> {
  const plan = planUNet(config);
  const shapes = new Map<string, number[]>();
  const c0 = plan.down[0].channels,
    t = timeDim ?? 4 * c0;
  const layer = (prefix: string, weight: number[], bias = true) => {
    shapes.set(`${prefix}.weight`, weight);
    if (bias) shapes.set(`${prefix}.bias`, [weight[0]]);
  };
  const norm = (prefix: string, c: number) => layer(prefix, [c]);
  const resnet = (prefix: string, cin: number, cout: number) => {
    norm(`${prefix}.norm1`, cin);
    layer(`${prefix}.conv1`, [cout, cin, 3, 3]);
    layer(`${prefix}.time_emb_proj`, [cout, t]);
    norm(`${prefix}.norm2`, cout);
    layer(`${prefix}.conv2`, [cout, cout, 3, 3]);
    if (cin !== cout) layer(`${prefix}.conv_shortcut`, [cout, cin, 1, 1]);
  };
  const transformer = (prefix: string, c: number, layers: number) => {
    const cross = plan.crossAttentionDim;
    norm(`${prefix}.norm`, c);
    layer(`${prefix}.proj_in`, plan.linearProjection ? [c, c] : [c, c, 1, 1]);
    for (let i = 0; i < layers; i++) {
      const b = `${prefix}.transformer_blocks.${i}`;
      for (const n of ['norm1', 'norm2', 'norm3']) norm(`${b}.${n}`, c);
      for (const [attn, kv] of [
        ['attn1', c],
        ['attn2', cross],
      ] as const) {
        layer(`${b}.${attn}.to_q`, [c, c], false);
        layer(`${b}.${attn}.to_k`, [c, kv], false);
        layer(`${b}.${attn}.to_v`, [c, kv], false);
        layer(`${b}.${attn}.to_out.0`, [c, c]);
      }
      layer(`${b}.ff.net.0.proj`, [8 * c, c]);
      layer(`${b}.ff.net.2`, [c, 4 * c]);
    }
    layer(`${prefix}.proj_out`, plan.linearProjection ? [c, c] : [c, c, 1, 1]);
  };
  layer('time_embedding.linear_1', [t, c0]);
  layer('time_embedding.linear_2', [t, t]);
  layer('conv_in', [c0, plan.inChannels, plan.convInKernel, plan.convInKernel]);
  const skips = [c0];
  let c = c0;
  plan.down.forEach((level, i) => {
    for (let j = 0; j < level.resnets; j++) {
      resnet(`down_blocks.${i}.resnets.${j}`, c, level.channels);
      c = level.channels;
      if (level.crossAttention) transformer(`down_blocks.${i}.attentions.${j}`, c, level.transformerLayers);
      skips.push(c);
    }
    if (i < plan.down.length - 1) {
      layer(`down_blocks.${i}.downsamplers.0.conv`, [c, c, 3, 3]);
      skips.push(c);
    }
  });
  resnet('mid_block.resnets.0', c, c);
  transformer('mid_block.attentions.0', c, plan.mid.transformerLayers);
  resnet('mid_block.resnets.1', c, c);
  plan.up.forEach((level, i) => {
    for (let j = 0; j < level.resnets; j++) {
      resnet(`up_blocks.${i}.resnets.${j}`, c + skips.pop()!, level.channels);
      c = level.channels;
      if (level.crossAttention) transformer(`up_blocks.${i}.attentions.${j}`, c, level.transformerLayers);
    }
    if (i < plan.up.length - 1) layer(`up_blocks.${i}.upsamplers.0.conv`, [c, c, 3, 3]);
  });
  norm('conv_norm_out', c);
  layer('conv_out', [plan.outChannels, c, plan.convOutKernel, plan.convOutKernel]);
  return shapes;
}

/** Seeded weights for `shapes`: norms' scales near 1, everything else uniform in +-1/sqrt(fan in). */
export function randomUNetWeights(shapes: Map<string, number[]>, seed = 1): WeightSource {
  const entries = new Map<string, WeightRef>();
  let s = seed;
  for (const [name, shape] of shapes) {
    const count = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length > 1 ? count / shape[0] : 1;
    const values = randomValues(count, ++s * 7919, shape.length > 1 ? 1 / Math.sqrt(fanIn) : 0.1);
    if (shape.length === 1 && /norm[^.]*\.weight$/.test(name)) for (let i = 0; i < count; i++) values[i] += 1;
    entries.set(name, arrayWeight(shape, values));
  }
  return weightMap(entries);
}

/** A WeightSource that records which names were asked for (to check that a graph uses every tensor). */
export function recordingSource(inner: WeightSource): { source: WeightSource; used: Set<string> } {
  const used = new Set<string>();
  return {
    used,
    source: {
      has: (n) => inner.has(n),
      names: () => inner.names(),
      get: (n) => {
        used.add(n);
        return inner.get(n);
      },
    },
  };
}

/**
 * Runs a UNet graph on CPU and returns out_sample as float32. Unlike onnx/testing.ts's runGraph, the timestep
 * stays float32 in an fp16 graph (only sample and encoder_hidden_states take the graph's float type).
 */
export async function runUNetGraph(
  graph: Graph,
  feeds: Record<'sample' | 'timestep' | 'encoder_hidden_states', { data: Float32Array; dims: number[] }>,
): Promise<Float32Array> {
  const dir = await mkdtemp(join(tmpdir(), 'unet-graph-'));
  try {
    await writeModel(graph, dir);
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    const half = graph.float === 'float16';
    const floatTensor = ({ data, dims }: { data: Float32Array; dims: number[] }) =>
      half ? new ort.Tensor('float16', toHalfBits(data), dims) : new ort.Tensor(data, dims);
    const out = (
      await session.run({
        sample: floatTensor(feeds.sample),
        encoder_hidden_states: floatTensor(feeds.encoder_hidden_states),
        timestep: new ort.Tensor(feeds.timestep.data, feeds.timestep.dims),
      })
    ).out_sample;
    await session.release();
    return half ? fromHalfBits(out.data as Uint16Array) : (out.data as Float32Array);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Three levels, both block kinds, per-level heads, two resnets per down level: small enough to run in ms. */
export const TINY_UNET: UNetConfig = {
  in_channels: 4,
  out_channels: 4,
  block_out_channels: [16, 32, 32],
  layers_per_block: 2,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  attention_head_dim: [2, 4, 4],
  cross_attention_dim: 24,
  norm_num_groups: 8,
  norm_eps: 1e-5,
  flip_sin_to_cos: true,
  freq_shift: 0,
  use_linear_projection: false,
};

export function tinyUNetInputs(batch: number, h: number, w: number, seed = 5, timesteps = [981, 17.5]) {
  return {
    sample: { data: randomValues(batch * 4 * h * w, seed), dims: [batch, 4, h, w] },
    timestep: { data: Float32Array.from(timesteps.slice(0, batch)), dims: [batch] },
    encoder_hidden_states: { data: randomValues(batch * 7 * 24, seed + 1), dims: [batch, 7, 24] },
  };
}
