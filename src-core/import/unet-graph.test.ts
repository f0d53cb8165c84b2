// The UNet graph in onnxruntime-node: its pieces against JS references, the whole tiny network for batch 1
// and 2, odd latent sizes and fp16, refused configs, and (once the fixtures are there) one call against
// diffusers' own output for the SD 1 and SD 2 test models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Graph } from '../onnx/graph.ts';
import { randomValues, relativeError, runGraph } from '../onnx/testing.ts';
import { buildUNet, type UNetConfig } from './unet-graph.ts';
import { resnetBlock, timestepFeatures, type BlockContext } from './unet-blocks.ts';
import {
  randomUNetWeights,
  recordingSource,
  runUNetGraph,
  TINY_UNET as TINY,
  tinyUNetInputs as tinyInputs,
  unetShapes,
} from './unet-testing.ts';
import { ImportError, weightMap, arrayWeight, type WeightSource } from './weights.ts';
import * as ref from './vae-reference.ts';
import { IMPORT_FIXTURES, REFERENCE_MODELS, referenceSkip, withDiffusersFolder } from '../../tests/helpers/import-fixtures.ts';
import { loadTensors } from '../../tests/helpers/references.ts';

async function runUNet(
  w: WeightSource,
  config: UNetConfig,
  feeds: ReturnType<typeof tinyInputs>,
  options: { float?: 'float32' | 'float16'; attention?: 'plain' | 'mha' } = {},
) {
  const g = buildUNet(w, config, { float: options.float ?? 'float32', attention: options.attention ?? 'plain' });
  return runUNetGraph(g, feeds);
}

test('timestep features are diffusers get_timestep_embedding: cat(cos, sin) of t * exp(-ln(1e4) i / (half - shift))', async () => {
  for (const [channels, flip, shift] of [
    [16, true, 0],
    [10, false, 1],
    [7, true, 0],
  ] as const) {
    const g = new Graph('t', 'float32');
    const t = g.input('t', 'float32', ['batch']);
    g.output('y', timestepFeatures(g, t, channels, { flipSinToCos: flip, freqShift: shift }), 'float32', ['batch', channels]);
    const ts = [0, 1, 500.5, 999];
    const y = (await runGraph(g, { t: { data: Float32Array.from(ts), dims: [4] } })).y as Float32Array;
    const half = Math.floor(channels / 2);
    const expected = new Float32Array(4 * channels);
    ts.forEach((tv, b) => {
      for (let i = 0; i < half; i++) {
        const arg = tv * Math.exp((-Math.log(10000) * i) / (half - shift));
        expected[b * channels + (flip ? half : 0) + i] = Math.sin(arg);
        expected[b * channels + (flip ? 0 : half) + i] = Math.cos(arg);
      }
    });
    // float32 arguments up to 999 carry ~6e-5 of rounding, as in torch.
    assert.ok(relativeError(y, expected) < 2e-4, `channels ${channels}: ${relativeError(y, expected)}`);
  }
});

test('ResnetBlock2D matches a JS reference (GroupNorm, SiLU, conv, time projection, 1x1 shortcut)', async () => {
  const [n, cin, cout, h, wd, temb, groups, eps] = [2, 8, 16, 5, 3, 12, 4, 1e-5];
  const shapes = new Map<string, number[]>([
    ['r.norm1.weight', [cin]],
    ['r.norm1.bias', [cin]],
    ['r.conv1.weight', [cout, cin, 3, 3]],
    ['r.conv1.bias', [cout]],
    ['r.time_emb_proj.weight', [cout, temb]],
    ['r.time_emb_proj.bias', [cout]],
    ['r.norm2.weight', [cout]],
    ['r.norm2.bias', [cout]],
    ['r.conv2.weight', [cout, cout, 3, 3]],
    ['r.conv2.bias', [cout]],
    ['r.conv_shortcut.weight', [cout, cin, 1, 1]],
    ['r.conv_shortcut.bias', [cout]],
  ]);
  const w = randomUNetWeights(shapes, 3);
  const v = (name: string) => w.get(name).read();
  const g = new Graph('resnet', 'float32');
  const ctx: BlockContext = { g, w, groups, eps, attention: 'plain', linearProjection: false };
  const x = g.input('x', 'float32', ['batch', cin, 'h', 'w']);
  const e = g.input('e', 'float32', ['batch', temb]);
  g.output('y', resnetBlock(ctx, x, e, 'r', { inChannels: cin, outChannels: cout, tembChannels: temb }), 'float32', [
    'batch',
    cout,
    'h',
    'w',
  ]);
  const xs = randomValues(n * cin * h * wd, 11),
    es = randomValues(n * temb, 12);
  const y = (await runGraph(g, { x: { data: xs, dims: [n, cin, h, wd] }, e: { data: es, dims: [n, temb] } })).y as Float32Array;

  // diffusers' ResnetBlock2D with the float64 torch ops of vae-reference.ts (the VAE's resnets are the same ops).
  const input = ref.tensor([n, cin, h, wd], xs);
  let hs = ref.conv2d(ref.silu(ref.groupNorm(input, w, 'r.norm1', groups, eps)), w, 'r.conv1', 1, [1, 1, 1, 1]);
  const proj = ref.linear(es, n, v('r.time_emb_proj.weight'), [cout, temb], v('r.time_emb_proj.bias'));
  hs = ref.tensor(
    hs.shape,
    hs.data.map((val, i) => val + proj[Math.floor(i / (h * wd) / cout) * cout + (Math.floor(i / (h * wd)) % cout)]),
  );
  hs = ref.conv2d(ref.silu(ref.groupNorm(hs, w, 'r.norm2', groups, eps)), w, 'r.conv2', 1, [1, 1, 1, 1]);
  const shortcut = ref.conv2d(input, w, 'r.conv_shortcut', 1, [0, 0, 0, 0]);
  const expected = hs.data.map((val, i) => val + shortcut.data[i]);
  assert.ok(relativeError(y, expected) < 1e-5, `${relativeError(y, expected)}`);
});

test('the tiny UNet runs for batch 1 and 2, uses every tensor, and batch items are independent', async () => {
  const { source, used } = recordingSource(randomUNetWeights(unetShapes(TINY)));
  const two = await runUNet(source, TINY, tinyInputs(2, 8, 8));
  assert.equal(two.length, 2 * 4 * 8 * 8);
  assert.ok(two.every(Number.isFinite));
  assert.deepEqual(
    source.names().filter((name) => !used.has(name)),
    [],
  );
  // Item 0 alone gives what it gave in the batch (nothing leaks across the batch axis).
  const one = await runUNet(source, TINY, tinyInputs(1, 8, 8));
  const fromBatch = tinyInputs(2, 8, 8);
  const single = {
    ...tinyInputs(1, 8, 8),
    sample: { data: fromBatch.sample.data.slice(0, 4 * 64), dims: [1, 4, 8, 8] },
    encoder_hidden_states: { data: fromBatch.encoder_hidden_states.data.slice(0, 7 * 24), dims: [1, 7, 24] },
  };
  const alone = await runUNet(source, TINY, single);
  assert.ok(relativeError(alone, two.slice(0, 4 * 64)) < 1e-5);
  assert.equal(one.length, 4 * 64);
});

test('a [1] timestep is broadcast to the batch', async () => {
  const w = randomUNetWeights(unetShapes(TINY));
  const both = tinyInputs(2, 8, 8, 5, [300, 300]);
  const broadcast = { ...both, timestep: { data: Float32Array.of(300), dims: [1] } };
  const a = await runUNet(w, TINY, both),
    b = await runUNet(w, TINY, broadcast);
  assert.ok(relativeError(b, a) < 1e-6);
});

test('odd latent sizes keep their shape (the up path resizes to each skip connection)', async () => {
  const w = randomUNetWeights(unetShapes(TINY));
  for (const [h, wd] of [
    [9, 7],
    [5, 12],
    [3, 3],
  ]) {
    const out = await runUNet(w, TINY, tinyInputs(1, h, wd));
    assert.equal(out.length, 4 * h * wd, `${h}x${wd}`);
    assert.ok(out.every(Number.isFinite));
  }
});

test('linear projections (SD 2), fp16 and com.microsoft attention give the plain fp32 result', async () => {
  const config = { ...TINY, use_linear_projection: true };
  const w = randomUNetWeights(unetShapes(config));
  const feeds = tinyInputs(2, 6, 6);
  const plain = await runUNet(w, config, feeds);
  const mha = await runUNet(w, config, feeds, { attention: 'mha' });
  assert.ok(relativeError(mha, plain) < 1e-5, `mha ${relativeError(mha, plain)}`);
  const half = await runUNet(w, config, feeds, { float: 'float16' });
  assert.ok(relativeError(half, plain) < 2e-2, `fp16 ${relativeError(half, plain)}`);
});

test('configs the builder does not implement are refused by key', () => {
  const w = randomUNetWeights(unetShapes(TINY));
  const refusals: Array<[Partial<UNetConfig>, RegExp]> = [
    [{ addition_embed_type: 'text_image' }, /addition_embed_type = "text_image" is not supported/],
    [{ addition_embed_type: 'text_time' }, /addition_time_embed_dim = undefined is not a positive integer/],
    [{ class_embed_type: 'timestep' }, /class_embed_type/],
    [{ time_cond_proj_dim: 256 }, /time_cond_proj_dim/],
    [{ resnet_time_scale_shift: 'scale_shift' }, /resnet_time_scale_shift/],
    [{ act_fn: 'gelu' }, /act_fn/],
    [{ only_cross_attention: true }, /only_cross_attention/],
    [{ mid_block_type: 'UNetMidBlock2D' }, /mid_block_type/],
    [{ down_block_types: ['AttnDownBlock2D', 'DownBlock2D', 'DownBlock2D'] }, /AttnDownBlock2D/],
    [{ time_embedding_type: 'fourier' }, /time_embedding_type/],
    [{ attention_head_dim: [2, 4] }, /attention_head_dim/],
    [{ cross_attention_dim: [24, 24, 32] }, /cross_attention_dim/],
    [{ encoder_hid_dim: 64 }, /encoder_hid_dim/],
  ];
  for (const [change, key] of refusals) {
    assert.throws(
      () => buildUNet(w, { ...TINY, ...change } as UNetConfig, { float: 'float32' }),
      (e: unknown) => e instanceof ImportError && key.test(e.message),
      JSON.stringify(change),
    );
  }
});

test('a missing or mis-shaped tensor is named', () => {
  const shapes = unetShapes(TINY);
  const entries = new Map(
    randomUNetWeights(shapes)
      .names()
      .map((n) => [n, arrayWeight(shapes.get(n)!, new Float32Array(shapes.get(n)!.reduce((a, b) => a * b, 1)))]),
  );
  entries.set('mid_block.attentions.0.proj_in.weight', arrayWeight([32, 32], new Float32Array(32 * 32)));
  assert.throws(
    () => buildUNet(weightMap(entries), TINY, { float: 'float32' }),
    /mid_block\.attentions\.0\.proj_in\.weight has shape \[32, 32\]/,
  );
  entries.delete('up_blocks.1.resnets.2.conv2.bias');
  entries.set('mid_block.attentions.0.proj_in.weight', arrayWeight([32, 32, 1, 1], new Float32Array(32 * 32)));
  assert.throws(() => buildUNet(weightMap(entries), TINY, { float: 'float32' }), /missing tensor up_blocks\.1\.resnets\.2\.conv2\.bias/);
});

for (const model of REFERENCE_MODELS) {
  test(
    `${model} diffusers folder: one UNet call matches diffusers' out_sample to 1e-4 relative (plain and mha; fp16 recorded)`,
    { skip: referenceSkip(model) },
    async (t) => {
      const tensors = loadTensors(IMPORT_FIXTURES, model);
      const feed = (name: string) => ({ data: Float32Array.from(tensors[name].data), dims: tensors[name].shape });
      await withDiffusersFolder(join(IMPORT_FIXTURES, model, 'diffusers'), async (folder) => {
        const { source, used } = recordingSource(folder.weights.unet);
        for (const [float, attention] of [
          ['float32', 'plain'],
          ['float32', 'mha'],
          ['float16', 'plain'],
        ] as const) {
          const graph = buildUNet(source, folder.configs.unet as UNetConfig, { float, attention });
          const out = await runUNetGraph(graph, {
            sample: feed('unet_sample'),
            timestep: feed('unet_timestep'),
            encoder_hidden_states: feed('unet_encoder_hidden_states'),
          });
          const reference = tensors.unet_out_sample.data;
          const error = relativeError(out, reference);
          const maxAbs = reference.reduce((m, v, i) => Math.max(m, Math.abs(out[i] - v)), 0);
          t.diagnostic(`${model} ${float} ${attention}: max abs diff ${maxAbs.toExponential(2)}, relative ${error.toExponential(2)}`);
          // fp16 is recorded, and only held to what half precision can give.
          assert.ok(error < (float === 'float32' ? 1e-4 : 2e-2), `${model} ${float} ${attention}: ${error}`);
        }
        assert.deepEqual(
          source.names().filter((name) => !used.has(name)),
          [],
          'every unet tensor is used',
        );
      });
    },
  );
}
