// For the tests only: AutoencoderKL written out directly in float64 JavaScript from diffusers'
// definitions (not from vae-blocks.ts), plus seeded random weights for any config, so the ONNX graphs
// can be checked value by value without Python (its torch ops also check the UNet's resnet). Slow (plain loops): tiny configs.
import type { VaeArchitecture } from './vae-graph.ts';
import { arrayWeight, weightMap, type WeightRef, type WeightSource } from './weights.ts';

/** An NCHW tensor. */
export interface Tensor {
  shape: [number, number, number, number];
  data: Float64Array;
}

export function tensor(shape: [number, number, number, number], data: ArrayLike<number>): Tensor {
  return { shape, data: Float64Array.from(data) };
}

const values = (w: WeightSource, name: string): Float32Array => w.get(name).read();

/** torch Conv2d with bias; pads [top, left, bottom, right] of zeros. */
export function conv2d(x: Tensor, w: WeightSource, prefix: string, stride: number, pads: [number, number, number, number]): Tensor {
  const kernel = w.get(`${prefix}.weight`),
    k = values(w, `${prefix}.weight`),
    bias = values(w, `${prefix}.bias`);
  const [out, inC, kh, kw] = kernel.shape;
  const [n, c, h, wd] = x.shape;
  if (c !== inC) throw new Error(`${prefix}: ${c} channels in, kernel wants ${inC}`);
  const oh = Math.floor((h + pads[0] + pads[2] - kh) / stride) + 1,
    ow = Math.floor((wd + pads[1] + pads[3] - kw) / stride) + 1;
  const y = new Float64Array(n * out * oh * ow);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < out; o++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let sum = bias[o];
          for (let ci = 0; ci < c; ci++)
            for (let u = 0; u < kh; u++) {
              const row = i * stride + u - pads[0];
              if (row < 0 || row >= h) continue;
              for (let v = 0; v < kw; v++) {
                const col = j * stride + v - pads[1];
                if (col < 0 || col >= wd) continue;
                sum += x.data[((b * c + ci) * h + row) * wd + col] * k[((o * c + ci) * kh + u) * kw + v];
              }
            }
          y[((b * out + o) * oh + i) * ow + j] = sum;
        }
  return { shape: [n, out, oh, ow], data: y };
}

/** torch GroupNorm: biased variance over each group's channels and pixels, then the affine. */
export function groupNorm(x: Tensor, w: WeightSource, prefix: string, groups: number, eps = 1e-6): Tensor {
  const gamma = values(w, `${prefix}.weight`),
    beta = values(w, `${prefix}.bias`);
  const [n, c, h, wd] = x.shape,
    per = (c / groups) * h * wd;
  const y = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++)
    for (let gi = 0; gi < groups; gi++) {
      const start = (b * c + gi * (c / groups)) * h * wd;
      let mean = 0,
        variance = 0;
      for (let i = 0; i < per; i++) mean += x.data[start + i];
      mean /= per;
      for (let i = 0; i < per; i++) variance += (x.data[start + i] - mean) ** 2;
      const inv = 1 / Math.sqrt(variance / per + eps);
      for (let i = 0; i < per; i++) {
        const channel = gi * (c / groups) + Math.floor(i / (h * wd));
        y[start + i] = (x.data[start + i] - mean) * inv * gamma[channel] + beta[channel];
      }
    }
  return { shape: x.shape, data: y };
}

export const silu = (x: Tensor): Tensor => ({ shape: x.shape, data: x.data.map((v) => v / (1 + Math.exp(-v))) });
const add = (a: Tensor, b: Tensor): Tensor => ({ shape: a.shape, data: a.data.map((v, i) => v + b.data[i]) });

/** F.interpolate(scale_factor=2, mode="nearest"): output (i, j) reads input (i // 2, j // 2). */
export function upsampleNearest2(x: Tensor): Tensor {
  const [n, c, h, wd] = x.shape,
    y = new Float64Array(x.data.length * 4);
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < 2 * h; i++)
      for (let j = 0; j < 2 * wd; j++) {
        y[(p * 2 * h + i) * 2 * wd + j] = x.data[(p * h + (i >> 1)) * wd + (j >> 1)];
      }
  return { shape: [n, c, 2 * h, 2 * wd], data: y };
}

/** ResnetBlock2D without time embedding. */
export function resnet(x: Tensor, w: WeightSource, prefix: string, groups: number): Tensor {
  let h = silu(groupNorm(x, w, `${prefix}.norm1`, groups));
  h = conv2d(h, w, `${prefix}.conv1`, 1, [1, 1, 1, 1]);
  h = silu(groupNorm(h, w, `${prefix}.norm2`, groups));
  h = conv2d(h, w, `${prefix}.conv2`, 1, [1, 1, 1, 1]);
  const shortcut = w.has(`${prefix}.conv_shortcut.weight`) ? conv2d(x, w, `${prefix}.conv_shortcut`, 1, [0, 0, 0, 0]) : x;
  return add(shortcut, h);
}

/** The encoder's Downsample2D: F.pad(x, (0, 1, 0, 1)), then a 3x3 conv of stride 2 and padding 0. */
export function downsample(x: Tensor, w: WeightSource, prefix: string): Tensor {
  return conv2d(x, w, `${prefix}.conv`, 2, [0, 0, 1, 1]);
}

/** torch Linear: x [rows, in] @ W^T + b. */
export function linear(
  x: ArrayLike<number>,
  rows: number,
  weight: ArrayLike<number>,
  [out, inp]: readonly number[],
  bias: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < out; o++) {
      let sum = bias[o];
      for (let i = 0; i < inp; i++) sum += x[r * inp + i] * weight[o * inp + i];
      y[r * out + o] = sum;
    }
  return y;
}

/** The mid block's one-head attention with group_norm and the residual. */
export function attentionBlock(x: Tensor, w: WeightSource, prefix: string, groups: number): Tensor {
  const [n, c, h, wd] = x.shape,
    t = h * wd;
  const normed = groupNorm(x, w, `${prefix}.group_norm`, groups);
  // tokens [t, c] per batch item -> [t, c]
  const project = (name: string, input: Float64Array): Float64Array =>
    linear(input, t, values(w, `${prefix}.${name}.weight`), [c, c], values(w, `${prefix}.${name}.bias`));
  const y = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++) {
    const tokens = new Float64Array(t * c);
    for (let ch = 0; ch < c; ch++) for (let i = 0; i < t; i++) tokens[i * c + ch] = normed.data[(b * c + ch) * t + i];
    const q = project('to_q', tokens),
      k = project('to_k', tokens),
      v = project('to_v', tokens);
    const mixed = new Float64Array(t * c);
    for (let i = 0; i < t; i++) {
      const scores = new Float64Array(t);
      for (let j = 0; j < t; j++) {
        let dot = 0;
        for (let ch = 0; ch < c; ch++) dot += q[i * c + ch] * k[j * c + ch];
        scores[j] = dot / Math.sqrt(c);
      }
      const top = Math.max(...scores);
      let total = 0;
      for (let j = 0; j < t; j++) total += scores[j] = Math.exp(scores[j] - top);
      for (let j = 0; j < t; j++) for (let ch = 0; ch < c; ch++) mixed[i * c + ch] += (scores[j] / total) * v[j * c + ch];
    }
    const out = project('to_out.0', mixed);
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < t; i++) {
        const at = (b * c + ch) * t + i;
        y[at] = out[i * c + ch] + x.data[at];
      }
  }
  return { shape: [n, c, h, wd], data: y };
}

function midBlock(x: Tensor, w: WeightSource, prefix: string, a: VaeArchitecture): Tensor {
  x = resnet(x, w, `${prefix}.resnets.0`, a.groups);
  if (a.midAttention) x = attentionBlock(x, w, `${prefix}.attentions.0`, a.groups);
  return resnet(x, w, `${prefix}.resnets.1`, a.groups);
}

/** AutoencoderKL.decode (post_quant_conv included, no scaling). */
export function decode(latent: Tensor, w: WeightSource, a: VaeArchitecture): Tensor {
  let x = a.postQuantConv ? conv2d(latent, w, 'post_quant_conv', 1, [0, 0, 0, 0]) : latent;
  x = midBlock(conv2d(x, w, 'decoder.conv_in', 1, [1, 1, 1, 1]), w, 'decoder.mid_block', a);
  const levels = a.blockOutChannels.length;
  for (let level = 0; level < levels; level++) {
    for (let i = 0; i <= a.layersPerBlock; i++) x = resnet(x, w, `decoder.up_blocks.${level}.resnets.${i}`, a.groups);
    if (level < levels - 1) x = conv2d(upsampleNearest2(x), w, `decoder.up_blocks.${level}.upsamplers.0.conv`, 1, [1, 1, 1, 1]);
  }
  x = silu(groupNorm(x, w, 'decoder.conv_norm_out', a.groups));
  return conv2d(x, w, 'decoder.conv_out', 1, [1, 1, 1, 1]);
}

/** AutoencoderKL.encode(...).latent_dist.mean. */
export function encodeMean(pixels: Tensor, w: WeightSource, a: VaeArchitecture): Tensor {
  let x = conv2d(pixels, w, 'encoder.conv_in', 1, [1, 1, 1, 1]);
  const levels = a.blockOutChannels.length;
  for (let level = 0; level < levels; level++) {
    for (let i = 0; i < a.layersPerBlock; i++) x = resnet(x, w, `encoder.down_blocks.${level}.resnets.${i}`, a.groups);
    if (level < levels - 1) x = downsample(x, w, `encoder.down_blocks.${level}.downsamplers.0`);
  }
  x = midBlock(x, w, 'encoder.mid_block', a);
  x = conv2d(silu(groupNorm(x, w, 'encoder.conv_norm_out', a.groups)), w, 'encoder.conv_out', 1, [1, 1, 1, 1]);
  if (a.quantConv) x = conv2d(x, w, 'quant_conv', 1, [0, 0, 0, 0]);
  const [n, , h, wd] = x.shape,
    l = a.latentChannels,
    plane = h * wd;
  const mean = new Float64Array(n * l * plane);
  for (let b = 0; b < n; b++) mean.set(x.data.subarray(b * 2 * l * plane, (b * 2 + 1) * l * plane), b * l * plane);
  return { shape: [n, l, h, wd], data: mean };
}

/** A seeded generator of uniform values in [-1, 1) (mulberry32). */
export function seededUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** Every AutoencoderKL tensor name and shape for an architecture, in diffusers' naming. */
export function vaeTensorShapes(a: VaeArchitecture): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const conv = (p: string, out: number, inC: number, k: number) => {
    shapes.set(`${p}.weight`, [out, inC, k, k]);
    shapes.set(`${p}.bias`, [out]);
  };
  const norm = (p: string, c: number) => {
    shapes.set(`${p}.weight`, [c]);
    shapes.set(`${p}.bias`, [c]);
  };
  const block = (p: string, inC: number, out: number) => {
    norm(`${p}.norm1`, inC);
    conv(`${p}.conv1`, out, inC, 3);
    norm(`${p}.norm2`, out);
    conv(`${p}.conv2`, out, out, 3);
    if (inC !== out) conv(`${p}.conv_shortcut`, out, inC, 1);
  };
  const mid = (p: string, c: number) => {
    block(`${p}.resnets.0`, c, c);
    block(`${p}.resnets.1`, c, c);
    if (!a.midAttention) return;
    norm(`${p}.attentions.0.group_norm`, c);
    for (const name of ['to_q', 'to_k', 'to_v', 'to_out.0']) {
      shapes.set(`${p}.attentions.0.${name}.weight`, [c, c]);
      shapes.set(`${p}.attentions.0.${name}.bias`, [c]);
    }
  };
  const ch = a.blockOutChannels,
    last = ch[ch.length - 1],
    l = a.latentChannels;
  conv('encoder.conv_in', ch[0], a.inChannels, 3);
  ch.forEach((out, level) => {
    for (let i = 0; i < a.layersPerBlock; i++)
      block(`encoder.down_blocks.${level}.resnets.${i}`, i === 0 ? ch[Math.max(0, level - 1)] : out, out);
    if (level < ch.length - 1) conv(`encoder.down_blocks.${level}.downsamplers.0.conv`, out, out, 3);
  });
  mid('encoder.mid_block', last);
  norm('encoder.conv_norm_out', last);
  conv('encoder.conv_out', 2 * l, last, 3);
  if (a.quantConv) conv('quant_conv', 2 * l, 2 * l, 1);
  if (a.postQuantConv) conv('post_quant_conv', l, l, 1);
  const up = [...ch].reverse();
  conv('decoder.conv_in', last, l, 3);
  mid('decoder.mid_block', last);
  up.forEach((out, level) => {
    for (let i = 0; i <= a.layersPerBlock; i++)
      block(`decoder.up_blocks.${level}.resnets.${i}`, i === 0 ? up[Math.max(0, level - 1)] : out, out);
    if (level < up.length - 1) conv(`decoder.up_blocks.${level}.upsamplers.0.conv`, out, out, 3);
  });
  norm('decoder.conv_norm_out', ch[0]);
  conv('decoder.conv_out', a.outChannels, ch[0], 3);
  return shapes;
}

/** Seeded random weights for every tensor: norms near 1 (weights) and 0 (biases), kernels scaled by 1/sqrt(fan in). */
export function randomVaeWeights(a: VaeArchitecture, seed: number): WeightSource {
  const random = seededUniform(seed),
    entries = new Map<string, WeightRef>();
  for (const [name, shape] of vaeTensorShapes(a)) {
    const count = shape.reduce((x, y) => x * y, 1),
      fanIn = shape.length > 1 ? count / shape[0] : 1;
    const isNormWeight = shape.length === 1 && name.endsWith('.weight');
    const data = Float32Array.from({ length: count }, () =>
      isNormWeight ? 1 + 0.2 * random() : (shape.length === 1 ? 0.2 : Math.sqrt(3 / fanIn)) * random(),
    );
    entries.set(name, arrayWeight(shape, data));
  }
  return weightMap(entries);
}
