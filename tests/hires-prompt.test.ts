// Hires fix's own prompt and negative prompt (A1111's hr_prompt, hr_negative_prompt: processing.py calculate_hr_conds
// encodes them for the second pass; create_infotext writes "Hires prompt" / "Hires negative prompt" only where they
// differ from the prompts, quoted as any value). Real runs on the embedded model, recorded (helpers/unet-recorder.ts):
// no field, an empty one or the prompt itself gives the same bytes; another text changes the second pass only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../src-core/model/model.ts';
import { parametersToRequest } from '../src-core/pipeline/metadata.ts';
import { parseCli } from '../src-core/cli/generate.ts';
import { checkPromptSyntax } from '../src-core/prompt/syntax-check.ts';
import { checkHiresLoras } from '../src-core/adapters/hires-tags.ts';
import { nameCalls, recordUnet, type RecordedCall } from './helpers/unet-recorder.ts';
import { EMBEDDED_MODEL, runWithPassPreviews } from './helpers/hires-runs.ts';

const model = await loadModel(EMBEDDED_MODEL);
test.after(() => model.dispose());

const RED = 'a red circle on a blue background';
const SQUARE = 'a yellow square on a green background';
const base = { prompt: RED, negativePrompt: 'blurry', seed: 11, steps: 8, sampler: 'euler', cfgScale: 7, noiseSource: 'torch-cpu' };
const hires = { scale: 1.5, steps: 4, strength: 0.6, upscaler: 'latent' as const };

/** One image, its UNet calls, and its previews split by pass. */
async function run(request: Record<string, unknown>) {
  const recorder = recordUnet(model);
  try {
    const { png, text, previews } = await runWithPassPreviews(model, { ...base, ...request });
    return { png, text, calls: recorder.calls as RecordedCall[], previews };
  } finally {
    recorder.stop();
  }
}
const repeat = (name: string, n: number) => Array<string>(n).fill(name);

test('real runs: no hires prompt, an empty one or the prompt gives the same bytes; another changes the second pass only', async () => {
  const plain = await run({ hires });
  const square = await run({ prompt: SQUARE, hires });
  const names = { A: plain.calls[0].cond, B: square.calls[0].cond };
  for (const same of [{ prompt: '' }, { prompt: RED }, { negativePrompt: '' }, { negativePrompt: 'blurry' }]) {
    const again = await run({ hires: { ...hires, ...same } });
    assert.ok(again.png.equals(plain.png), `byte-identical with ${JSON.stringify(same)}`);
  }
  assert.doesNotMatch(plain.text, /Hires prompt|Hires negative prompt/);

  const other = await run({ hires: { ...hires, prompt: SQUARE } });
  assert.deepEqual(nameCalls(other.calls, 'cond', names), [...repeat('A', 8), ...repeat('B', 4)]);
  assert.ok(!other.png.equals(plain.png));
  assert.equal(other.previews.first.length, 8);
  assert.deepEqual(other.previews.first, plain.previews.first, 'the first pass is untouched');
  assert.notDeepEqual(other.previews.second, plain.previews.second);
  assert.match(other.text, new RegExp(`Hires prompt: ${SQUARE}(,|$)`));
  assert.deepEqual(parametersToRequest(other.text).request.hires, { ...hires, prompt: SQUARE });
});

test('real runs: a hires negative prompt changes the second pass uncond only', async () => {
  const plain = await run({ hires });
  const dark = await run({ negativePrompt: 'dark, ugly', hires });
  const names = { N: plain.calls[0].uncond, D: dark.calls[0].uncond };
  const other = await run({ hires: { ...hires, negativePrompt: 'dark, ugly' } });
  assert.deepEqual(nameCalls(other.calls, 'uncond', names), [...repeat('N', 8), ...repeat('D', 4)]);
  assert.deepEqual(other.previews.first, plain.previews.first);
  assert.notDeepEqual(other.previews.second, plain.previews.second);
  // A value with a comma is quoted (A1111's quote: json.dumps), and read back.
  assert.match(other.text, /Hires negative prompt: "dark, ugly"(,|$)/);
  assert.equal(parametersToRequest(other.text).request.hires?.negativePrompt, 'dark, ugly');
});

test('prompt editing inside the hires prompt counts as in the second pass (whole steps from the first pass end)', async () => {
  const plain = await run({ hires });
  const square = await run({ prompt: SQUARE, hires });
  const names = { A: plain.calls[0].cond, B: square.calls[0].cond };
  // [A:B:10] in the hires prompt only: the second pass switches at 10 - 8 = 2, so A at evaluations 0..2, B at 3.
  const edited = await run({ hires: { ...hires, prompt: `[${RED}:${SQUARE}:10]` } });
  assert.deepEqual(nameCalls(edited.calls, 'cond', names), [...repeat('A', 8), 'A', 'A', 'A', 'B']);
});

test('AND: a hires prompt with as many parts runs; a different number of parts is refused in words', async () => {
  const both = `${RED} AND ${SQUARE}`;
  const composed = await run({ prompt: both, hires });
  const reweighted = await run({ prompt: both, hires: { ...hires, prompt: `${RED} :0.5 AND ${SQUARE}` } });
  assert.ok(!reweighted.png.equals(composed.png));
  assert.deepEqual(reweighted.previews.first, composed.previews.first);
  await assert.rejects(run({ hires: { ...hires, prompt: both } }), /the hires prompt has 2 AND parts and the prompt no AND parts/);
});

test("the syntax check before queueing reads the hires texts; LoRA tags must be the prompt's", () => {
  const passes = [{ steps: 8 }, { steps: 4, hires: { firstPassSteps: 8 }, prompt: 'a (cat:1.2.3)' }];
  assert.throws(() => checkPromptSyntax({ prompt: 'a cat', negativePrompt: '' }, passes), /: hires prompt: emphasis weight "1\.2\.3"/);
  const negative = [{ steps: 8 }, { steps: 4, hires: { firstPassSteps: 8 }, negativePrompt: 'x [y:(b:1.2.3):10]' }];
  assert.throws(
    () => checkPromptSyntax({ prompt: 'a cat', negativePrompt: '' }, negative),
    /: hires negative prompt \(in "x \(b:1\.2\.3\)", a text prompt editing makes\)/,
  );
  assert.doesNotThrow(() => checkHiresLoras('a cat <lora:s:0.8>', 'a dog <lora:s:0.8>'));
  assert.doesNotThrow(() => checkHiresLoras('a cat <lora:s:0.8>', undefined));
  assert.throws(() => checkHiresLoras('a cat <lora:s:0.8>', 'a dog <lora:s:0.5>'), /hires prompt's LoRA tags .* are not the prompt's/);
  assert.throws(() => checkHiresLoras('a cat', 'a dog <lora:s>'), /LoRA set for the second pass alone is not supported/);
});

test('CLI --hires-prompt and --hires-negative-prompt, which need hires fix on', () => {
  const parsed = parseCli(['--prompt', 'x', '--seed', '1', '--hires-scale', '2', '--hires-prompt', 'y', '--hires-negative-prompt', 'z']);
  assert.ok(parsed !== 'help');
  assert.deepEqual(parsed.request.hires, { scale: 2, prompt: 'y', negativePrompt: 'z' });
  assert.throws(() => parseCli(['--prompt', 'x', '--hires-prompt', 'y']), /--hires-prompt needs --hires-scale or --hires-resize/);
});
