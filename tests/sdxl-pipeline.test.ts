// The engine on SDXL against diffusers itself: the tiny SDXL pipeline of tests/fixtures/sdxl (diffusers' own
// classes, seeded weights) in optimum's ONNX layout (onnx/), loaded as any SDXL folder. Each piece of the
// conditioning (both encoders' penultimate states joined, the pooled vector, time_ids, the all-zero empty
// negative prompt), one UNet call and the VAE decode are compared with diffusers' values to 1e-4 relative, and
// whole images (Euler plain and Karras, seeds 7 and 42, CFG 5 and 7.5, empty and non-empty negative prompt,
// torch CPU noise) with StableDiffusionXLPipeline's to at most 1/255 on 8-bit pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../src-core/model/model.ts';
import { decodeLatents, newTimings, unetCall } from '../src-core/pipeline/components.ts';
import { sizeConditioningOf, timeIdsOf } from '../src-core/pipeline/size-conditioning.ts';
import { promptConditioning } from '../src-core/prompt/conditioning.ts';
import { chunkPrompt } from '../src-core/prompt/chunks.ts';
import { loadTensors, relativeDifference } from './helpers/references.ts';
import { assertErrorsBelow, assertSdxlImages } from './helpers/sdxl-parity.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'sdxl');
const MODEL = join(FIXTURES, 'onnx');
const PROMPT = 'a red circle on a blue background',
  NEGATIVE = 'a blurry green square';

const ref = loadTensors(FIXTURES, 'sdxl');

test('SDXL conditioning and components match diffusers to 1e-4 relative', async (t) => {
  const model = await loadModel(MODEL);
  try {
    const errors: Record<string, number> = {};
    // Token ids: both tokenizers, the second padding with "!" (0).
    for (const [which, text] of [
      ['prompt', PROMPT],
      ['negative', NEGATIVE],
      ['empty', ''],
    ] as const) {
      const [first, second] = model.textEncoders.map((part) => chunkPrompt(part.tokenizer, text).chunks[0].ids);
      assert.deepEqual([...first], ref[`input_ids_${which}`].data, `tokenizer ids (${which})`);
      assert.deepEqual([...second], ref[`input_ids_2_${which}`].data, `tokenizer_2 ids (${which})`);
    }
    const withNegative = await promptConditioning(
      model,
      { prompt: PROMPT, negativePrompt: NEGATIVE, emphasis: 'original', guided: true },
      newTimings(),
    );
    errors.prompt_embeds = relativeDifference(withNegative.cond.states, ref.prompt_embeds);
    errors.pooled_prompt_embeds = relativeDifference(withNegative.cond.pooled!, ref.pooled_prompt_embeds);
    errors.negative_prompt_embeds = relativeDifference(withNegative.uncond!.states, ref.negative_prompt_embeds_negative);
    errors.negative_pooled_prompt_embeds = relativeDifference(withNegative.uncond!.pooled!, ref.negative_pooled_prompt_embeds_negative);
    // The empty negative prompt: all zeros, states and pooled (diffusers' negative_prompt=None, A1111's "").
    const empty = await promptConditioning(model, { prompt: PROMPT, negativePrompt: '', emphasis: 'original', guided: true }, newTimings());
    assert.deepEqual([...empty.uncond!.states], ref.negative_prompt_embeds_none.data);
    assert.deepEqual([...empty.uncond!.pooled!], ref.negative_pooled_prompt_embeds_none.data);
    assert.ok(empty.uncond!.states.every((v) => v === 0) && empty.uncond!.pooled!.every((v) => v === 0));

    // time_ids: defaults (original = target = image size, crop 0, 0) and diffusers' custom (96, 128), (8, 4).
    assert.deepEqual([...timeIdsOf(sizeConditioningOf({}, { width: 64, height: 64 }))], ref.add_time_ids_default.data);
    const custom = sizeConditioningOf({ originalWidth: 128, originalHeight: 96, cropTop: 8, cropLeft: 4 }, { width: 64, height: 64 });
    assert.deepEqual([...timeIdsOf(custom)], ref.add_time_ids_custom.data);

    // One UNet call, batch 2 (default and custom time_ids), through the engine's own feed code.
    const run = unetCall(model, 8, 8, newTimings());
    const out = await run({
      sample: Float32Array.from(ref.unet_sample.data),
      batch: 2,
      timestep: ref.unet_scalar_timestep.data[0],
      encoderHiddenStates: Float32Array.from(ref.unet_encoder_hidden_states.data),
      textEmbeds: Float32Array.from(ref.unet_text_embeds.data),
      timeIds: Float32Array.from(ref.unet_time_ids.data),
    });
    errors.unet = relativeDifference(out, ref.unet_out_sample_scalar_timestep);

    // VAE decode: the engine divides by the scaling factor (0.13025) first, as the pipeline does.
    assert.equal(model.info.scalingFactor, 0.13025);
    const latents = Float64Array.from(ref.vae_decoder_latent_sample.data, (v) => v * model.info.scalingFactor);
    const [decoded] = await decodeLatents(model, latents, 1, 8, 8, newTimings());
    errors.vae_decode = relativeDifference(decoded, ref.vae_decoder_sample);

    assertErrorsBelow(t, errors, 1e-4);
  } finally {
    await model.dispose();
  }
});

test('SDXL images match diffusers StableDiffusionXLPipeline to 1/255', async (t) => {
  await assertSdxlImages(t, MODEL, PROMPT, 'sdxl', 16);
});
