import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyCheckpoint, detectCheckpoint, predictionFromYaml, type Architecture } from './detect.ts';
import { arrayWeight, weightMap, type WeightRef, type WeightSource } from './weights.ts';
import { SD15_DIMS, TINY_SD1, TINY_SD2, entrySource, ldmEntries } from '../../tests/helpers/ldm-checkpoints.ts';

const dir = mkdtempSync(join(tmpdir(), 'detect-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A source with these names; shapes [1] unless given. */
function keys(names: string[], shapes: Record<string, number[]> = {}): WeightSource {
  const refs = new Map<string, WeightRef>();
  for (const name of names) {
    const shape = shapes[name] ?? [1];
    refs.set(name, arrayWeight(shape, new Float32Array(shape.reduce((a, b) => a * b, 1))));
  }
  return weightMap(refs);
}

const convIn = (channels: number) => ({ 'model.diffusion_model.input_blocks.0.0.weight': [320, channels, 3, 3] });
const unetIn = 'model.diffusion_model.input_blocks.0.0.weight';

test('SD 1 and SD 2 checkpoints are told apart by their text encoders', () => {
  assert.equal(classifyCheckpoint(entrySource(ldmEntries(TINY_SD1))), 'sd1');
  assert.equal(classifyCheckpoint(entrySource(ldmEntries(SD15_DIMS))), 'sd1');
  assert.equal(classifyCheckpoint(entrySource(ldmEntries(TINY_SD2))), 'sd2');
});

test('each unsupported architecture is recognised by its keys and named in the error', () => {
  const cases: Array<[Architecture, WeightSource, RegExp]> = [
    [
      'sdxl-edm',
      keys(
        [
          unetIn,
          'conditioner.embedders.0.transformer.text_model.embeddings.position_embedding.weight',
          'conditioner.embedders.1.model.ln_final.weight',
          'edm_mean',
          'edm_std',
        ],
        convIn(4),
      ),
      /Playground v2\.5\): not supported yet; SD 1\.x, SD 2\.x and SDXL base checkpoints can be imported/,
    ],
    ['sdxl-inpainting', keys([unetIn, 'conditioner.embedders.1.model.ln_final.weight'], convIn(9)), /SDXL inpainting/],
    [
      'sdxl-refiner',
      keys([unetIn, 'conditioner.embedders.0.model.ln_final.weight'], convIn(4)),
      /the Stable Diffusion XL refiner \(it refines SDXL base images; import the base model\): not supported yet/,
    ],
    [
      'sd3',
      keys(['model.diffusion_model.joint_blocks.0.context_block.adaLN_modulation.1.bias', 'model.diffusion_model.x_embedder.proj.weight']),
      /Stable Diffusion 3: not supported yet/,
    ],
    ['flux', keys(['double_blocks.0.img_attn.norm.key_norm.scale', 'img_in.weight']), /FLUX\.1/],
    ['flux', keys(['model.diffusion_model.double_blocks.0.img_attn.norm.key_norm.scale']), /FLUX\.1/],
    [
      'sd1-inpainting',
      keys([unetIn, 'cond_stage_model.transformer.text_model.final_layer_norm.weight'], convIn(9)),
      /SD 1\.x inpainting model \(UNet with 9 input channels\)/,
    ],
    [
      'sd2-inpainting',
      keys([unetIn, 'cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight'], convIn(9)),
      /SD 2\.x inpainting/,
    ],
    [
      'instruct-pix2pix',
      keys([unetIn, 'cond_stage_model.transformer.text_model.final_layer_norm.weight'], convIn(8)),
      /InstructPix2Pix model \(UNet with 8 input channels\)/,
    ],
    [
      'lora',
      keys(['lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight', 'lora_te_text_model_encoder_layers_0_mlp_fc1.alpha']),
      /a LoRA/,
    ],
    ['lora', keys(['unet.down_blocks.0.attentions.0.proj_in.lora_A.weight']), /a LoRA/],
    ['vae', keys(['encoder.conv_in.weight', 'decoder.conv_in.weight', 'quant_conv.weight', 'post_quant_conv.weight']), /a VAE on its own/],
    ['vae', keys(['first_stage_model.encoder.conv_in.weight', 'first_stage_model.decoder.conv_in.weight']), /a VAE on its own/],
    ['controlnet', keys(['control_model.time_embed.0.weight', 'control_model.input_hint_block.0.weight']), /a ControlNet/],
    ['diffusers-component', keys(['down_blocks.0.resnets.0.conv1.weight', 'conv_in.weight']), /single diffusers component/],
    ['unknown', keys(['foo.bar']), /not a Stable Diffusion checkpoint this importer recognises/],
    ['unknown', keys([unetIn], convIn(4)), /not a Stable Diffusion checkpoint/],
  ];
  for (const [architecture, source, message] of cases) {
    assert.equal(classifyCheckpoint(source), architecture, `${architecture}: ${source.names()[0]}`);
    assert.throws(
      () => detectCheckpoint(source, { path: join(dir, 'model.safetensors') }),
      (error: Error) => {
        assert.equal(error.name, 'ImportError');
        assert.match(error.message, /^model\.safetensors is /);
        assert.match(error.message, message);
        return true;
      },
      architecture,
    );
  }
});

test('prediction: user choice, then a .yaml beside the file, then a config, then SD 1 epsilon / SD 2 needs a UNet test', () => {
  const sd1 = entrySource(ldmEntries(TINY_SD1)),
    sd2 = entrySource(ldmEntries(TINY_SD2));
  const path = join(dir, 'plain.safetensors');
  assert.deepEqual(pick(detectCheckpoint(sd1, { path })), ['sd1', 'epsilon', 'default']);
  assert.deepEqual(pick(detectCheckpoint(sd2, { path })), ['sd2', 'needs-test', 'needs-test']);
  assert.deepEqual(pick(detectCheckpoint(sd2, { path, configPrediction: 'v_prediction' })), ['sd2', 'v_prediction', 'config']);
  assert.deepEqual(pick(detectCheckpoint(sd2, { path, prediction: 'epsilon', configPrediction: 'v_prediction' })), [
    'sd2',
    'epsilon',
    'user',
  ]);

  const withYaml = join(dir, 'v-model.safetensors');
  writeFileSync(
    join(dir, 'v-model.yaml'),
    'model:\n  base_learning_rate: 1.0e-4\n  target: ldm.models.diffusion.ddpm.LatentDiffusion\n' +
      '  params:\n    parameterization: "v"\n    linear_start: 0.00085\n',
  );
  assert.deepEqual(pick(detectCheckpoint(sd2, { path: withYaml })), ['sd2', 'v_prediction', 'yaml']);
  assert.deepEqual(pick(detectCheckpoint(sd1, { path: withYaml })), ['sd1', 'v_prediction', 'yaml']);
  assert.deepEqual(pick(detectCheckpoint(sd2, { path: withYaml, prediction: 'epsilon' })), ['sd2', 'epsilon', 'user']);
  assert.match(detectCheckpoint(sd2, { path: withYaml }).notes.join('\n'), /from v-model\.yaml/);
});

test('SDXL base (SGM layout): epsilon unless the file has a v_pred key; a user choice wins', () => {
  const names = [
    unetIn,
    'conditioner.embedders.0.transformer.text_model.embeddings.position_embedding.weight',
    'conditioner.embedders.1.model.ln_final.weight',
  ];
  const path = join(dir, 'xl.safetensors');
  assert.equal(classifyCheckpoint(keys(names, convIn(4))), 'sdxl');
  assert.deepEqual(pick(detectCheckpoint(keys(names, convIn(4)), { path })), ['sdxl', 'epsilon', 'default']);
  const v = detectCheckpoint(keys([...names, 'v_pred', 'ztsnr'], convIn(4)), { path });
  assert.deepEqual(pick(v), ['sdxl', 'v_prediction', 'detected']);
  assert.match(v.notes.join('\n'), /v_pred key.*zero terminal SNR/);
  assert.deepEqual(pick(detectCheckpoint(keys([...names, 'v_pred'], convIn(4)), { path, prediction: 'epsilon' })), [
    'sdxl',
    'epsilon',
    'user',
  ]);
});

test('LDM yaml parameterization values', () => {
  assert.equal(predictionFromYaml('model:\n  params:\n    linear_start: 0.00085\n'), 'epsilon');
  assert.equal(predictionFromYaml('    parameterization: eps\n'), 'epsilon');
  assert.equal(predictionFromYaml("    parameterization: 'v'  # v-model\n"), 'v_prediction');
  assert.throws(() => predictionFromYaml('    parameterization: "x0"\n'), /parameterization "x0"/);
});

function pick(d: { family: string; prediction: string; predictionSource: string }): string[] {
  return [d.family, d.prediction, d.predictionSource];
}
