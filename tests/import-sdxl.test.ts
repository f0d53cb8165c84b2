// The importer against diffusers for SDXL: the tiny SDXL pipeline of tests/fixtures/sdxl (built with diffusers'
// classes and seeded weights by make_sdxl_fixtures.py), saved as a diffusers folder and as SGM single files (fp32,
// fp16), is imported into optimum's ONNX layout; the folder must have optimum's files and names, and each
// component, run on the reference inputs, must match diffusers to 1e-4 relative: both text encoders' penultimate
// hidden states (what SDXL conditions on), last_hidden_state, pooler_output and text_embeds, one UNet call with
// text_embeds and time_ids, VAE decode and encode; and the engine, loading the imported folder, must make
// StableDiffusionXLPipeline's images (Euler plain and Karras, seeds 7 and 42, CFG 5 and 7.5, empty and non-empty
// negative prompt, a custom original size and crop) to within 1/255 on 8-bit pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { importModel } from '../src-core/import/importer.ts';
import { loadTensors, relativeError, runComponent, tensor, type Tensors } from './helpers/references.ts';
import { assertErrorsBelow, assertSdxlImages } from './helpers/sdxl-parity.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'sdxl');
const skip = existsSync(join(FIXTURES, 'references', 'sdxl.json')) ? false : 'tests/fixtures/sdxl/references is absent';

const CASES = [
  { name: 'SDXL diffusers folder', source: 'diffusers', reference: 'sdxl', precision: 'fp32' },
  // The tiny model's head counts are not SDXL's 64-wide heads, so single files take the architecture from the folder.
  { name: 'SDXL SGM single file fp32', source: 'sdxl-sgm-fp32.safetensors', config: 'diffusers', reference: 'sdxl', precision: 'fp32' },
  {
    name: 'SDXL SGM single file fp16',
    source: 'sdxl-sgm-fp16.safetensors',
    config: 'diffusers',
    reference: 'sdxl-fp16',
    precision: 'fp32',
  },
  // fp16 output: components to 2e-2 (the graph itself computes in fp16; the VAE stays fp32), images as for fp32.
  { name: 'SDXL diffusers folder imported as fp16', source: 'diffusers', reference: 'sdxl', precision: 'fp16' },
] as const;

const PROMPT = 'a red circle on a blue background';

const references = new Map<string, Tensors>();
function reference(name: string): Tensors {
  if (!references.has(name)) references.set(name, loadTensors(FIXTURES, name));
  return references.get(name)!;
}

async function ioNames(path: string): Promise<{ inputs: string[]; outputs: string[] }> {
  const session = await ort.InferenceSession.create(path);
  try {
    return { inputs: [...session.inputNames], outputs: [...session.outputNames] };
  } finally {
    await session.release();
  }
}

const layersOf = (dir: string, component: string) =>
  (JSON.parse(readFileSync(join(dir, component, 'config.json'), 'utf8')) as { num_hidden_layers: number }).num_hidden_layers;

for (const c of CASES) {
  test(`SDXL import parity with diffusers: ${c.name}`, { skip }, async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'import-sdxl-'));
    try {
      const out = join(work, 'model');
      const config = 'config' in c ? join(FIXTURES, c.config) : undefined;
      const result = await importModel(join(FIXTURES, c.source), { out, config, precision: c.precision });
      assert.equal(result.family, 'sdxl');
      assert.equal(result.prediction, 'epsilon');
      const ref = reference(c.reference);
      const float = c.precision === 'fp16' ? 'float16' : 'float32';
      const limit = c.precision === 'fp16' ? 2e-2 : 1e-4;

      await t.test("optimum's SDXL layout: files, model_index.json, tokenizers, input and output names", async () => {
        const optimum = join(FIXTURES, 'onnx');
        assert.deepEqual(
          readdirSync(out)
            .filter((f) => f !== 'import_info.json')
            .sort(),
          readdirSync(optimum).sort(),
        );
        assert.deepEqual(
          JSON.parse(readFileSync(join(out, 'model_index.json'), 'utf8')),
          JSON.parse(readFileSync(join(optimum, 'model_index.json'), 'utf8')),
        );
        for (const tokenizer of ['tokenizer', 'tokenizer_2']) {
          for (const file of readdirSync(join(optimum, tokenizer))) {
            assert.deepEqual(
              readFileSync(join(out, tokenizer, file)),
              readFileSync(join(optimum, tokenizer, file)),
              `${tokenizer}/${file}`,
            );
          }
        }
        for (const component of ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder']) {
          const ours = await ioNames(join(out, component, 'model.onnx')),
            theirs = await ioNames(join(optimum, component, 'model.onnx'));
          assert.deepEqual(ours, theirs, component);
        }
        const vae = JSON.parse(readFileSync(join(out, 'vae_decoder', 'config.json'), 'utf8')) as Record<string, unknown>;
        assert.equal(vae.scaling_factor, 0.13025);
        assert.equal(vae.force_upcast, true);
      });

      await t.test(`components match diffusers (${c.precision === 'fp16' ? 'fp16 output, 2e-2' : '1e-4'} relative)`, async () => {
        const errors: Record<string, number> = {};
        const note = (name: string, error: number) => {
          errors[name] = Math.max(errors[name] ?? 0, error);
        };
        // SDXL conditions on hidden_states[-2] of each encoder: with N layers, output hidden_states.(N-1).
        const penultimate1 = `hidden_states.${layersOf(out, 'text_encoder') - 1}`,
          penultimate2 = `hidden_states.${layersOf(out, 'text_encoder_2') - 1}`;
        for (const which of ['prompt', 'negative', 'empty']) {
          const one = await runComponent(out, 'text_encoder', { input_ids: tensor(ref[`input_ids_${which}`]!) });
          note('text_encoder penultimate', relativeError(one[penultimate1], ref[`text_encoder_penultimate_${which}`]!));
          note('text_encoder last_hidden_state', relativeError(one.last_hidden_state, ref[`text_encoder_last_hidden_state_${which}`]!));
          note('text_encoder pooler_output', relativeError(one.pooler_output, ref[`text_encoder_pooler_output_${which}`]!));
          const two = await runComponent(out, 'text_encoder_2', { input_ids: tensor(ref[`input_ids_2_${which}`]!) });
          note('text_encoder_2 penultimate', relativeError(two[penultimate2], ref[`text_encoder_2_penultimate_${which}`]!));
          note('text_encoder_2 last_hidden_state', relativeError(two.last_hidden_state, ref[`text_encoder_2_last_hidden_state_${which}`]!));
          note('text_encoder_2 text_embeds', relativeError(two.text_embeds, ref[`text_encoder_2_text_embeds_${which}`]!));
        }
        const feeds = {
          sample: tensor(ref.unet_sample!, float),
          timestep: tensor(ref.unet_timestep!),
          encoder_hidden_states: tensor(ref.unet_encoder_hidden_states!, float),
          text_embeds: tensor(ref.unet_text_embeds!, float),
          time_ids: tensor(ref.unet_time_ids!, float),
        };
        note('unet', relativeError((await runComponent(out, 'unet', feeds)).out_sample, ref.unet_out_sample!));
        // One timestep for the whole batch (optimum's scalar input) is a [1] tensor here, broadcast as diffusers does.
        const single = new ort.Tensor('float32', Float32Array.from(ref.unet_scalar_timestep!.data), [1]);
        note(
          'unet, one timestep',
          relativeError((await runComponent(out, 'unet', { ...feeds, timestep: single })).out_sample, ref.unet_out_sample_scalar_timestep!),
        );
        note(
          'vae decode',
          relativeError(
            (await runComponent(out, 'vae_decoder', { latent_sample: tensor(ref.vae_decoder_latent_sample!) })).sample,
            ref.vae_decoder_sample!,
          ),
        );
        note(
          'vae encode (mean)',
          relativeError(
            (await runComponent(out, 'vae_encoder', { sample: tensor(ref.vae_encoder_sample!) })).latent_sample,
            ref.vae_encoder_latent_mean!,
          ),
        );
        assertErrorsBelow(t, errors, limit);
      });

      await t.test("the engine makes StableDiffusionXLPipeline's images from the imported folder, to 1/255", async () => {
        await assertSdxlImages(t, out, PROMPT, c.reference, 2);
      });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}
