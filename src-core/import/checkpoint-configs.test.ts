import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inferConfigs, readConfigFolder, schedulerPrediction } from './checkpoint-configs.ts';
import { mapLdmCheckpoint } from './ldm-keys.ts';
import { SD15_DIMS, TINY_SD1, entrySource, ldmEntries, type LdmDims } from '../../tests/helpers/ldm-checkpoints.ts';
import { readSharedJson, sharedSkip } from '../../tests/helpers/shared.ts';

const SD21_DIMS: LdmDims = {
  ...SD15_DIMS,
  family: 'sd2',
  context: 1024,
  text: { hidden: 1024, layers: 24, ff: 4096, vocab: 49408, positions: 77 },
};

function configsOf(dims: LdmDims, prediction: 'epsilon' | 'v_prediction' | 'needs-test' = 'epsilon') {
  const mapped = mapLdmCheckpoint(entrySource(ldmEntries(dims)));
  return inferConfigs(mapped, dims.family, prediction);
}

function subset(config: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, config[k]]));
}

/** The config's values of the keys that `expected` has, against `expected`. */
function assertIncludes(config: Record<string, unknown>, expected: Record<string, unknown>): void {
  assert.deepEqual(subset(config, Object.keys(expected)), expected);
}

// Each inferred config against SD 1.5's own file: every key of the file but those listed. Left out: version stamps;
// the VAE's sample_size (256 in SD 1.5's repository, 512 from diffusers' from_single_file, as here; nothing reads it);
// the scheduler's class (from_single_file's PNDMScheduler where the repository has DDIMScheduler: the engine picks its own).
const SD15_CONFIG_FILES = [
  { component: 'unet', file: 'unet_config.json', ignored: ['_diffusers_version'] },
  { component: 'vae', file: 'vae_config.json', ignored: ['_diffusers_version', 'sample_size'] },
  { component: 'textEncoder', file: 'text_encoder_config.json', ignored: ['_name_or_path', 'torch_dtype', 'transformers_version'] },
  { component: 'scheduler', file: 'scheduler_config.json', ignored: ['_diffusers_version', '_class_name'] },
] as const;

test("an SD 1.5-sized checkpoint gives SD 1.5's own configs", { skip: sharedSkip() }, () => {
  const configs = configsOf(SD15_DIMS);
  for (const { component, file, ignored } of SD15_CONFIG_FILES) {
    const reference = readSharedJson<Record<string, unknown>>(`reference/sd15-configs/${file}`);
    const keys = Object.keys(reference).filter((key) => !(ignored as readonly string[]).includes(key));
    assert.deepEqual(subset(configs[component], keys), subset(reference, keys), component);
  }
});

test("an SD 2.1-sized checkpoint gives SD 2.1's configs (linear projections, 64-channel heads, 23 gelu text layers)", () => {
  const configs = configsOf(SD21_DIMS, 'v_prediction');
  assertIncludes(configs.unet, {
    attention_head_dim: [5, 10, 20, 20],
    cross_attention_dim: 1024,
    use_linear_projection: true,
    sample_size: 96,
    block_out_channels: [320, 640, 1280, 1280],
  });
  assertIncludes(configs.textEncoder, {
    hidden_act: 'gelu',
    hidden_size: 1024,
    intermediate_size: 4096,
    num_attention_heads: 16,
    num_hidden_layers: 23,
    projection_dim: 512,
  });
  assert.equal(configs.scheduler.prediction_type, 'v_prediction');
  assert.equal(configs.vae.sample_size, 768);
  assert.equal(configsOf(SD21_DIMS, 'needs-test').scheduler.prediction_type, 'epsilon');
});

test('sizes come from the shapes: a tiny three-level model', () => {
  const configs = configsOf({
    ...TINY_SD1,
    channels: [4, 8, 12],
    layers: 1,
    attention: [false, true, true],
    context: 6,
    vae: { channels: [4, 8], layers: 1, latent: 3 },
  });
  assertIncludes(configs.unet, {
    block_out_channels: [4, 8, 12],
    layers_per_block: 1,
    down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
    up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
    cross_attention_dim: 6,
    use_linear_projection: false,
  });
  assertIncludes(configs.vae, { block_out_channels: [4, 8], layers_per_block: 1, latent_channels: 3, in_channels: 3, out_channels: 3 });
  const text = { hidden_size: 6, num_hidden_layers: 2, intermediate_size: 12, vocab_size: 10, max_position_embeddings: 5 };
  assertIncludes(configs.textEncoder, text);
});

test('a config folder: the configs it has, its tokenizer, and clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'config-folder-'));
  try {
    assert.throws(() => readConfigFolder(join(dir, 'absent')), /does not exist/);
    assert.throws(() => readConfigFolder(dir), /has none of unet\/config\.json/);
    mkdirSync(join(dir, 'unet'));
    writeFileSync(join(dir, 'unet', 'config.json'), '{"attention_head_dim": 2}');
    mkdirSync(join(dir, 'scheduler'));
    writeFileSync(join(dir, 'scheduler', 'scheduler_config.json'), '{"prediction_type": "v_prediction"}');
    mkdirSync(join(dir, 'tokenizer'));
    writeFileSync(join(dir, 'tokenizer', 'vocab.json'), '{}');
    const folder = readConfigFolder(dir);
    assert.deepEqual(folder.unet, { attention_head_dim: 2 });
    assert.equal(folder.vae, undefined);
    assert.equal(folder.tokenizerDir, join(dir, 'tokenizer'));
    assert.equal(schedulerPrediction(folder.scheduler), 'v_prediction');
    assert.throws(() => schedulerPrediction({ prediction_type: 'sample' }), /prediction_type "sample" is not supported/);
    writeFileSync(join(dir, 'unet', 'config.json'), '{"attention_head_dim": ');
    assert.throws(() => readConfigFolder(dir), /cannot read .*unet\/config\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
