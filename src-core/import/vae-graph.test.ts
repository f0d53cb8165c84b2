// The VAE graphs run in real onnxruntime sessions and are checked against vae-reference.ts (float64
// JavaScript written from diffusers' definitions) on a tiny config with seeded random weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { toHalfBits } from '../model/half.ts';
import { readFloats } from '../model/tensors.ts';
import { Graph, type BuildOptions } from '../onnx/graph.ts';
import { writeModel } from '../onnx/write-model.ts';
import { downsample, resnetBlock } from './vae-blocks.ts';
import { buildVaeDecoder, buildVaeEncoder, vaeArchitecture, type VaeConfig } from './vae-graph.ts';
import * as ref from './vae-reference.ts';
import { openSafetensors, type SafetensorsFile } from './safetensors.ts';
import { arrayWeight, ImportError, weightMap, type WeightRef, type WeightSource } from './weights.ts';
import { IMPORT_FIXTURES, REFERENCE_MODELS, referenceSkip } from '../../tests/helpers/import-fixtures.ts';
import { loadTensors, type RefTensor } from '../../tests/helpers/references.ts';

const TINY: VaeConfig = {
  in_channels: 3,
  out_channels: 3,
  latent_channels: 4,
  block_out_channels: [8, 16, 16],
  layers_per_block: 2,
  norm_num_groups: 4,
  act_fn: 'silu',
  scaling_factor: 0.18215,
  down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
  up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'],
};
const ARCH = vaeArchitecture(TINY);
const WEIGHTS = ref.randomVaeWeights(ARCH, 1234);
const FP32: BuildOptions = { float: 'float32' };

/** Writes the graph, opens it with onnxruntime (CPU) and runs it on one float input; the output as [dims, values]. */
async function runGraph(graph: Graph, input: string, x: ref.Tensor): Promise<ref.Tensor> {
  const dir = await mkdtemp(join(tmpdir(), 'vae-graph-'));
  try {
    await writeModel(graph, dir);
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    const data = graph.float === 'float32' ? Float32Array.from(x.data) : toHalfBits(Float32Array.from(x.data));
    const results = await session.run({ [input]: new ort.Tensor(graph.float, data, x.shape) });
    const out = results[session.outputNames[0]];
    await session.release();
    return { shape: [...out.dims] as ref.Tensor['shape'], data: Float64Array.from(readFloats(out, 'output')) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** max |a - b| / max |b|: the parity measure of the issue. */
function relativeError(actual: ref.Tensor, expected: ref.Tensor): number {
  assert.deepEqual([...actual.shape], [...expected.shape]);
  let diff = 0,
    scale = 0;
  for (let i = 0; i < expected.data.length; i++) {
    diff = Math.max(diff, Math.abs(actual.data[i] - expected.data[i]));
    scale = Math.max(scale, Math.abs(expected.data[i]));
  }
  return diff / scale;
}

function randomTensor(shape: ref.Tensor['shape'], seed: number): ref.Tensor {
  const random = ref.seededUniform(seed);
  return ref.tensor(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, random));
}

test('decoder: latent [b, 4, h, w] -> sample [b, 3, 4h, 4w] for batch 1 and 2, square, non-square and odd sizes', async () => {
  const graph = buildVaeDecoder(WEIGHTS, TINY, FP32);
  for (const shape of [
    [1, 4, 4, 4],
    [2, 4, 4, 4],
    [1, 4, 3, 5],
    [2, 4, 5, 2],
  ] as const) {
    const out = await runGraph(graph, 'latent_sample', randomTensor([...shape], 7));
    assert.deepEqual(out.shape, [shape[0], 3, shape[2] * 4, shape[3] * 4]);
  }
});

test('decoder matches the float64 reference to 1e-4 relative (batch 2, odd non-square latent)', async (t) => {
  const latent = randomTensor([2, 4, 3, 5], 11);
  const out = await runGraph(buildVaeDecoder(WEIGHTS, TINY, FP32), 'latent_sample', latent);
  const error = relativeError(out, ref.decode(latent, WEIGHTS, ARCH));
  t.diagnostic(`decoder relative error ${error.toExponential(2)}`);
  assert.ok(error < 1e-4, `relative error ${error}`);
});

test('encoder: sample [b, 3, H, W] -> mean [b, 4, floor(H/4), floor(W/4)], matching the reference (odd sizes too)', async (t) => {
  const graph = buildVaeEncoder(WEIGHTS, TINY, FP32);
  for (const [shape, latent] of [
    [
      [1, 3, 16, 16],
      [4, 4],
    ],
    [
      [2, 3, 12, 20],
      [3, 5],
    ],
    [
      [1, 3, 13, 10],
      [3, 2],
    ],
  ] as const) {
    const pixels = randomTensor([...shape], 3);
    const out = await runGraph(graph, 'sample', pixels);
    assert.deepEqual(out.shape, [shape[0], 4, ...latent]);
    const error = relativeError(out, ref.encodeMean(pixels, WEIGHTS, ARCH));
    t.diagnostic(`encoder relative error ${error.toExponential(2)} for [${shape}]`);
    assert.ok(error < 1e-4, `relative error ${error} for ${shape}`);
  }
});

test('one Downsample2D pads only the bottom row and right column (odd and even sizes)', async () => {
  const prefix = 'encoder.down_blocks.0.downsamplers.0';
  for (const [h, w] of [
    [7, 6],
    [6, 9],
  ]) {
    const g = new Graph('downsample', 'float32');
    g.output('y', downsample(g, WEIGHTS, g.input('x', 'float32', [1, 8, h, w]), prefix, 8), 'float32', [1, 8, 'h', 'w']);
    const x = randomTensor([1, 8, h, w], 5);
    const out = await runGraph(g, 'x', x);
    assert.deepEqual(out.shape, [1, 8, Math.floor((h - 2) / 2) + 1, Math.floor((w - 2) / 2) + 1]);
    assert.ok(relativeError(out, ref.downsample(x, WEIGHTS, prefix)) < 1e-6);
    // Padding the top and left instead gives the same shape but other values: the check can tell them apart.
    assert.ok(relativeError(out, ref.conv2d(x, WEIGHTS, `${prefix}.conv`, 2, [1, 1, 0, 0])) > 1e-2);
  }
});

test('one ResnetBlock2D with a channel change (conv_shortcut) matches the reference', async () => {
  const prefix = 'decoder.up_blocks.1.resnets.0'; // 16 -> 16 in TINY; the encoder's level 1 changes 8 -> 16
  for (const [p, inC, out] of [
    [prefix, 16, 16],
    ['encoder.down_blocks.1.resnets.0', 8, 16],
  ] as const) {
    const g = new Graph('resnet', 'float32');
    g.output('y', resnetBlock(g, WEIGHTS, g.input('x', 'float32', [2, inC, 5, 3]), p, { in: inC, out, groups: 4 }), 'float32', [
      2,
      out,
      5,
      3,
    ]);
    const x = randomTensor([2, inC, 5, 3], 9);
    assert.ok(relativeError(await runGraph(g, 'x', x), ref.resnet(x, WEIGHTS, p, 4)) < 1e-6);
  }
});

test('the decoder takes the latent as it is: scaling_factor does not enter the graph (the engine divides by it)', async () => {
  const latent = randomTensor([1, 4, 2, 2], 6);
  const a = await runGraph(buildVaeDecoder(WEIGHTS, { ...TINY, scaling_factor: 1 }, FP32), 'latent_sample', latent);
  const b = await runGraph(buildVaeDecoder(WEIGHTS, TINY, FP32), 'latent_sample', latent);
  assert.deepEqual(a.data, b.data);
});

test('attention weights under the names of older diffusers folders and as LDM 1x1 convs give the same decoder', async () => {
  const prefix = 'decoder.mid_block.attentions.0';
  const legacy: Record<string, string> = { to_q: 'query', to_k: 'key', to_v: 'value', 'to_out.0': 'proj_attn' };
  const entries = new Map<string, WeightRef>();
  for (const name of WEIGHTS.names()) {
    const r = WEIGHTS.get(name);
    const m = name.startsWith(`${prefix}.`) ? /^(.*)\.(to_q|to_k|to_v|to_out\.0)\.(weight|bias)$/.exec(name) : null;
    if (!m) {
      entries.set(name, r);
      continue;
    }
    const shape = m[3] === 'weight' ? [...r.shape, 1, 1] : [...r.shape];
    entries.set(`${m[1]}.${legacy[m[2]]}.${m[3]}`, arrayWeight(shape, r.read()));
  }
  const latent = randomTensor([1, 4, 3, 3], 2);
  const renamed = await runGraph(buildVaeDecoder(weightMap(entries), TINY, FP32), 'latent_sample', latent);
  assert.ok(relativeError(renamed, ref.decode(latent, WEIGHTS, ARCH)) < 1e-5);
});

test('mha attention (com.microsoft MultiHeadAttention) and float16 build and agree with the reference', async () => {
  const latent = randomTensor([1, 4, 4, 3], 4);
  const expected = ref.decode(latent, WEIGHTS, ARCH);
  assert.ok(
    relativeError(
      await runGraph(buildVaeDecoder(WEIGHTS, TINY, { float: 'float32', attention: 'mha' }), 'latent_sample', latent),
      expected,
    ) < 1e-5,
  );
  const half = relativeError(await runGraph(buildVaeDecoder(WEIGHTS, TINY, { float: 'float16' }), 'latent_sample', latent), expected);
  assert.ok(half < 2e-2, `float16 relative error ${half}`);
});

test('mid_block_add_attention false, use_quant_conv / use_post_quant_conv false', async () => {
  const config: VaeConfig = { ...TINY, mid_block_add_attention: false, use_quant_conv: false, use_post_quant_conv: false };
  const arch = vaeArchitecture(config),
    weights = ref.randomVaeWeights(arch, 99);
  const latent = randomTensor([1, 4, 2, 3], 1),
    pixels = randomTensor([1, 3, 8, 8], 1);
  assert.ok(
    relativeError(await runGraph(buildVaeDecoder(weights, config, FP32), 'latent_sample', latent), ref.decode(latent, weights, arch)) <
      1e-5,
  );
  assert.ok(
    relativeError(await runGraph(buildVaeEncoder(weights, config, FP32), 'sample', pixels), ref.encodeMean(pixels, weights, arch)) < 1e-5,
  );
});

test('unsupported configs and mismatched tensors are ImportErrors that name the key or tensor', () => {
  const refused = (config: VaeConfig, pattern: RegExp, weights: WeightSource = WEIGHTS) =>
    assert.throws(
      () => buildVaeDecoder(weights, config, FP32),
      (e: unknown) => e instanceof ImportError && pattern.test(e.message),
    );
  refused({ ...TINY, act_fn: 'gelu' }, /act_fn/);
  refused(
    { ...TINY, up_block_types: ['UpDecoderBlock2D', 'AttnUpDecoderBlock2D', 'UpDecoderBlock2D'] },
    /up_block_types.*AttnUpDecoderBlock2D/,
  );
  refused({ ...TINY, down_block_types: ['DownEncoderBlock2D'] }, /down_block_types must list 3/);
  refused({ ...TINY, norm_num_groups: 5 }, /norm_num_groups/);
  refused({ ...TINY, shift_factor: 0.1159 }, /shift_factor/);
  refused({ ...TINY, layers_per_block: 0 }, /layers_per_block/);
  refused({ ...TINY, mid_block_add_attention: 'yes' as unknown as boolean }, /mid_block_add_attention/);
  refused({ ...TINY, latent_channels: 16 }, /post_quant_conv\.weight.*\[4, 4, 1, 1\].*\[16, 16, 1, 1\]/);
  const missing = new Map(
    WEIGHTS.names()
      .filter((n) => n !== 'decoder.up_blocks.2.resnets.1.conv2.bias')
      .map((n) => [n, WEIGHTS.get(n)]),
  );
  refused(TINY, /missing tensor decoder\.up_blocks\.2\.resnets\.1\.conv2\.bias/, weightMap(missing));
});

/** The fixture's weights through the importer's own reader; the fixtures are float32 throughout. */
function openF32Safetensors(path: string): SafetensorsFile {
  const file = openSafetensors(path);
  for (const name of file.names()) assert.equal(file.info(name).dtype, 'F32', `${name} is ${file.info(name).dtype}`);
  return file;
}

// Parity with diffusers: the fixtures' tiny SD 1 / SD 2 VAEs (seeded random weights, diffusers folders) and
// the outputs diffusers v0.30.3 computed from them (tests/fixtures/import/references/<family>.json).
for (const family of REFERENCE_MODELS) {
  test(
    `${family}: decoder and encoder mean match diffusers' AutoencoderKL to 1e-4 relative`,
    { skip: referenceSkip(family) },
    async (t) => {
      const vaeDir = join(IMPORT_FIXTURES, family, 'diffusers', 'vae');
      const config = JSON.parse(readFileSync(join(vaeDir, 'config.json'), 'utf8')) as VaeConfig;
      const file = openF32Safetensors(join(vaeDir, 'diffusion_pytorch_model.safetensors'));
      t.after(() => file.close());
      const weights = file.source();
      const tensors = loadTensors(IMPORT_FIXTURES, family);
      const asTensor = (r: RefTensor) => ref.tensor(r.shape as ref.Tensor['shape'], r.data);
      for (const attention of ['plain', 'mha'] as const) {
        const decoded = await runGraph(
          buildVaeDecoder(weights, config, { float: 'float32', attention }),
          'latent_sample',
          asTensor(tensors.vae_decoder_latent_sample),
        );
        const decodeError = relativeError(decoded, asTensor(tensors.vae_decoder_sample));
        const mean = await runGraph(
          buildVaeEncoder(weights, config, { float: 'float32', attention }),
          'sample',
          asTensor(tensors.vae_encoder_sample),
        );
        const meanError = relativeError(mean, asTensor(tensors.vae_encoder_latent_mean));
        t.diagnostic(
          `${family} ${attention}: decode ${decodeError.toExponential(2)}, encoder ` +
            `mean ${meanError.toExponential(2)} (max abs diff / max abs reference)`,
        );
        assert.ok(decodeError < 1e-4 && meanError < 1e-4, `decode ${decodeError}, encoder mean ${meanError}`);
      }
      // A float16 build (weights and activations in half precision) for the record; loosely bounded.
      const half = relativeError(
        await runGraph(
          buildVaeDecoder(weights, config, { float: 'float16' }),
          'latent_sample',
          asTensor(tensors.vae_decoder_latent_sample),
        ),
        asTensor(tensors.vae_decoder_sample),
      );
      t.diagnostic(`${family} float16 decode ${half.toExponential(2)}`);
      assert.ok(half < 1e-2, `float16 decode ${half}`);
    },
  );
}
