// A1111's "Clip skip" against diffusers: the importer's tiny SD 1 model (2 CLIP layers), clip skip 2 = diffusers'
// clip_skip 1 (hidden_states[-2] through final_layer_norm). References by tests/fixtures/import/make_clip_skip_references.py:
// the prompt embeddings (plain and with A1111's emphasis applied after the norm) and two StableDiffusionPipeline images
// made from them (prompt and negative prompt both skipped, as A1111 encodes them). Also: clip skip 1 is the image of
// a request without it, byte for byte; SD 2 ignores it with a note, as A1111 does; a text encoder without hidden
// states (the embedded model) and a clip skip past the layers are refused in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestError } from '../src-core/contract/generate.ts';
import { parseCli } from '../src-core/cli/generate.ts';
import { preflight } from '../src-core/cli/preflight.ts';
import { clipSkipFor } from '../src-core/model/clip-skip.ts';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { loadModel } from '../src-core/model/model.ts';
import { encodePrompt, newTimings } from '../src-core/pipeline/components.ts';
import { parametersToRequest } from '../src-core/pipeline/metadata.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { loadTensors, maxPixelDifference, relativeDifference } from './helpers/references.ts';
import { withImportedModel } from './helpers/imported-model.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'import');
const PROMPT = 'a red circle on a blue background';
const EMPHASIS_PROMPT = 'a (red:1.5) circle on a blue background';

function request(seed: number, schedule: 'normal' | 'karras', clipSkip?: number) {
  return {
    prompt: PROMPT,
    negativePrompt: '',
    seed,
    steps: 8,
    cfgScale: 7.5,
    sampler: 'euler',
    schedule,
    noiseSource: 'torch-cpu',
    width: 64,
    height: 64,
    ...(clipSkip === undefined ? {} : { clipSkip }),
  } as const;
}

test('clip skip 2 on an imported SD 1 checkpoint matches diffusers (embeddings, emphasis after the norm, images)', async (t) => {
  const ref = loadTensors(FIXTURES, 'sd1-clip-skip');
  const last = loadTensors(FIXTURES, 'sd1');
  await withImportedModel('sd1/sd1-ldm-fp32.safetensors', 'sd1/diffusers', async (model) => {
    await t.test('prompt embeddings within 1e-5 relative', async () => {
      // Emphasis in "No norm" mode: see the reference script for why not "Original" on this model.
      const cases = [
        [PROMPT, 'original', 'clip_skip_2_prompt'],
        ['', 'original', 'clip_skip_2_empty'],
        [EMPHASIS_PROMPT, 'no-norm', 'clip_skip_2_no_norm_emphasis_prompt'],
      ] as const;
      for (const [text, emphasis, name] of cases) {
        const got = await encodePrompt(model, text, emphasis, newTimings(), 2);
        const error = relativeDifference(got.states, ref[name]!);
        t.diagnostic(`${name}: relative error ${error.toExponential(2)}`);
        assert.ok(error < 1e-5, `${name}: ${error}`);
      }
      // The reference is not last_hidden_state (else this test would prove nothing), and clip skip 1 still is.
      assert.ok(relativeDifference(ref.clip_skip_2_prompt!.data, last.text_last_hidden_state_prompt!) > 0.1);
      const plain = await encodePrompt(model, PROMPT, 'original', newTimings(), 1);
      assert.ok(relativeDifference(plain.states, last.text_last_hidden_state_prompt!) < 1e-5);
    });

    await t.test('images match StableDiffusionPipeline to 1/255 and say "Clip skip: 2"', async () => {
      for (const [seed, schedule, suffix] of [
        [7, 'normal', 'euler'],
        [42, 'karras', 'euler_karras'],
      ] as const) {
        const result = await generate(model, request(seed, schedule, 2));
        const image = result.images[0]!;
        const difference = maxPixelDifference(image.png, join(FIXTURES, 'references', `sd1-clipskip2-${suffix}-seed${seed}.png`));
        assert.ok(difference <= 1, `${suffix} seed ${seed}: max pixel difference ${difference}/255`);
        // The clip skip 1 reference is far from it: the comparison above can fail.
        const unskipped = maxPixelDifference(image.png, join(FIXTURES, 'references', `sd1-${suffix}-seed${seed}.png`));
        assert.ok(unskipped > 20, `clip skip 1's image differs by only ${unskipped}/255`);
        assert.match(image.parameters, /, Clip skip: 2,/);
        assert.equal(parametersToRequest(image.parameters).request.clipSkip, 2);
        assert.deepEqual(result.notes, []);
      }
    });

    await t.test('clip skip 1 is the image of a request without it, byte for byte, and PNGs do not mention it', async () => {
      const without = (await generate(model, request(7, 'normal'))).images[0]!;
      const one = (await generate(model, request(7, 'normal', 1))).images[0]!;
      assert.ok(Buffer.compare(without.png, one.png) === 0, 'same PNG bytes');
      assert.doesNotMatch(one.parameters, /Clip skip/);
    });

    await t.test('a clip skip past the text encoder layers is refused in words', async () => {
      // 2 layers: hidden_states[-3] is the embeddings (A1111 takes it too); -4 does not exist.
      await generate(model, { ...request(7, 'normal', 3), steps: 1 });
      await assert.rejects(generate(model, request(7, 'normal', 4)), (error: Error) => {
        assert.ok(error instanceof RequestError);
        assert.match(error.message, /Clip skip 4 is more than .* text encoder has layers \(2\): use at most 3/);
        return true;
      });
    });
  });
});

test('an fp16 import (fp16 hidden states and final_layer_norm weights) stays within fp16 rounding of the reference', async () => {
  const ref = loadTensors(FIXTURES, 'sd1-clip-skip');
  await withImportedModel(
    'sd1/sd1-ldm-fp16.safetensors',
    'sd1/diffusers',
    async (model) => {
      assert.equal(model.textEncoders[0]!.statesFloat, 'float16');
      const got = await encodePrompt(model, PROMPT, 'original', newTimings(), 2);
      const error = relativeDifference(got.states, ref.clip_skip_2_prompt!);
      // fp16 weights move the text states by up to 2e-3 (tests/fixtures/import/README.md); clip skip 1 is 0.6 away.
      assert.ok(error < 5e-3, `relative error ${error}`);
    },
    'fp16',
  );
});

test('SD 2 ignores clip skip with a note, as A1111 does: the same image, no "Clip skip" in the PNG', async () => {
  await withImportedModel('sd2/diffusers', undefined, async (model) => {
    const without = (await generate(model, request(7, 'normal'))).images[0]!;
    const result = await generate(model, request(7, 'normal', 2));
    assert.ok(Buffer.compare(result.images[0]!.png, without.png) === 0, 'same PNG bytes');
    assert.doesNotMatch(result.images[0]!.parameters, /Clip skip/);
    assert.ok(
      result.notes.some((n) => /Clip skip 2 was ignored: .* is an SD 2\.x model/.test(n)),
      result.notes.join('; '),
    );
  });
});

test('a text encoder without hidden states (the embedded model) is refused before any work, naming the model and the remedy', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    const parsed = { ...request(7, 'normal', 2), width: undefined, height: undefined };
    const check = (error: Error) => {
      assert.ok(error instanceof RequestError, String(error));
      assert.match(error.message, /Clip skip 2 needs the text encoder's hidden states/);
      assert.ok(error.message.includes(model.info.name), error.message);
      assert.match(error.message, /import the checkpoint or diffusers folder .* with this app/);
      assert.match(error.message, /or use Clip skip 1/);
      return true;
    };
    // What the engine host checks before queueing, then generate itself (the CLI's path).
    assert.throws(() => clipSkipFor(model, { ...parsed, clipSkip: 2 } as never), check);
    let evaluations = 0;
    await assert.rejects(generate(model, parsed, { onProgress: () => evaluations++ }), check);
    assert.equal(evaluations, 0);
  } finally {
    await model.dispose();
  }
});

test('the command line: --clip-skip N goes into the request; a value outside 1..12 is refused before any model loads', () => {
  const parsed = parseCli(['--prompt', 'a castle', '--clip-skip', '2']);
  assert.ok(parsed !== 'help');
  assert.equal(parsed.request.clipSkip, 2);
  const plain = parseCli(['--prompt', 'a castle']);
  assert.ok(plain !== 'help' && !('clipSkip' in plain.request), 'left out when not given (byte-identical requests)');
  for (const bad of ['13', '0', '1.5']) {
    const options = parseCli(['--prompt', 'a castle', '--clip-skip', bad]);
    assert.ok(options !== 'help');
    assert.throws(() => preflight(options.request, tmpdir()), /invalid request: clipSkip/, bad);
  }
});
