// Prompt editing on SDXL (the tiny SDXL pipeline of tests/fixtures/sdxl, two text encoders and a pooled vector),
// through whole jobs with a recording stand-in around the real UNet session (helpers/unet-recorder.ts). A1111's rules
// the expected values come from:
// - prompt_parser.get_learned_conditioning: for SDXL the model returns a dict {crossattn, vector} for the schedule's
//   texts encoded together, and each scheduled text keeps its own dict ({k: v[i]}); reconstruct_cond_batch picks the
//   whole dict of the text in use at the step, so the pooled vector (in `vector`) switches with the states;
// - sd_models_xl.get_learned_conditioning: a negative prompt's texts are zeros (force_zero_embeddings) when every text
//   of the call is empty, `all(x == '' for x in batch)`, and the call is one prompt's scheduled texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { decodeInputImage } from '../src-core/image/decode.ts';
import { nameCalls, recordUnet, type RecordedCall } from './helpers/unet-recorder.ts';

const model = await loadModel(join(import.meta.dirname, 'fixtures', 'sdxl', 'onnx'));
test.after(() => model.dispose());

const A = 'a red circle on a blue background',
  B = 'a yellow square on a green background';
const base = { seed: 7, steps: 4, sampler: 'euler' as const, cfgScale: 5, width: 64, height: 64, negativePrompt: 'blurry' };

async function run(request: Record<string, unknown>): Promise<{ data: Uint8Array; calls: RecordedCall[] }> {
  const recorder = recordUnet(model);
  try {
    const result = await generate(model, { ...base, ...request });
    return { data: (await decodeInputImage(result.images[0].png)).data, calls: recorder.calls };
  } finally {
    recorder.stop();
  }
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

test('SDXL: the states and the pooled vector switch together, each text with its own pooled vector', async () => {
  const a = await run({ prompt: A });
  const b = await run({ prompt: B });
  const states = { A: a.calls[0].cond, B: b.calls[0].cond };
  const pooled = { A: a.calls[0].pooled, B: b.calls[0].pooled };
  assert.ok(pooled.A && pooled.B && pooled.A !== pooled.B);
  // [A:B:2] of 4 Euler steps: A at evaluations 0..2, B at 3, the pooled vector with it.
  const edit = await run({ prompt: `[${A}:${B}:2]` });
  assert.deepEqual(nameCalls(edit.calls, 'cond', states), ['A', 'A', 'A', 'B']);
  assert.deepEqual(nameCalls(edit.calls, 'pooled', pooled), ['A', 'A', 'A', 'B']);
  assert.ok(edit.calls.every((c) => c.uncond === a.calls[0].uncond && c.uncondPooled === a.calls[0].uncondPooled));
  assert.ok(!same(edit.data, a.data) && !same(edit.data, b.data));
  // Past the last evaluation: A's pixels exactly; at 0: B's.
  assert.ok(same((await run({ prompt: `[${A}:${B}:3]` })).data, a.data));
  assert.ok(same((await run({ prompt: `[${A}:${B}:0]` })).data, b.data));
});

test('SDXL: a negative prompt whose scheduled texts are all empty is all zeros, as the empty negative prompt', async () => {
  const empty = await run({ prompt: A, negativePrompt: '' });
  const emptyTexts = await run({ prompt: A, negativePrompt: '[blurry::0]' });
  assert.ok(same(emptyTexts.data, empty.data), '[blurry::0] is "" at every step: zeros, as A1111');
  assert.deepEqual(
    emptyTexts.calls.map((c) => [c.uncond, c.uncondPooled]),
    empty.calls.map((c) => [c.uncond, c.uncondPooled]),
  );
  // Alternating between empty texts: every text is "", zeros too.
  assert.ok(same((await run({ prompt: A, negativePrompt: '[|]' })).data, empty.data));
  // One non-empty text: the empty one is encoded as a text (not zeros) while it is in use.
  const partly = await run({ prompt: A, negativePrompt: '[:blurry:2]' });
  const blurry = await run({ prompt: A, negativePrompt: 'blurry' });
  const zeros = empty.calls[0].uncond;
  assert.ok(partly.calls.slice(0, 3).every((c) => c.uncond !== zeros && c.uncond !== blurry.calls[0].uncond));
  assert.ok(partly.calls[3].uncond === blurry.calls[0].uncond);
});
