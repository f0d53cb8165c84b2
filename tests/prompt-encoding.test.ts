// A1111 prompts through the real pipeline: emphasis weights on the embedded model's text encoder (checked
// against the formula computed here from the encoder's raw outputs), long prompts in 77-position chunks,
// images that change with weights and with tokens past 75, and a real UNet export with a fixed text length
// (tests/fixtures/tiny-sd-fixed77).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { decode as decodePng } from 'fast-png';
import { loadModel, type StableDiffusionModel } from '../src-core/model/model.ts';
import { encodePrompt, newTimings } from '../src-core/pipeline/components.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { parametersToRequest } from '../src-core/pipeline/metadata.ts';
import { readTextChunks } from '../src-core/png/text-chunks.ts';
import { fixedUnetPositions, promptConditioning } from '../src-core/prompt/conditioning.ts';
import { countPrompt } from '../src-core/prompt/count.ts';
import { modelFolder } from './helpers/model-folders.ts';

const EMBEDDED = fileURLToPath(new URL('../models/restart-shapes-64/', import.meta.url));
const model = await loadModel(EMBEDDED);
const HIDDEN = model.info.textHidden;
test.after(() => model.dispose());

/** The text encoder's raw output for plain text, run here without the pipeline. */
async function rawStates(m: StableDiffusionModel, text: string): Promise<Float32Array> {
  const ids = m.tokenizer.encodePadded(text, 77);
  const out = await m.textEncoder.session.run({ input_ids: new ort.Tensor('int32', Int32Array.from(ids), [1, 77]) });
  return out.last_hidden_state.data as Float32Array;
}

const mean = (values: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
};

function assertClose(got: Float32Array, expected: ArrayLike<number>, what: string) {
  assert.equal(got.length, expected.length, what);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
  assert.ok(worst <= 1e-5, `${what}: max difference ${worst}`);
}

const CASES: Array<{ prompt: string; plain: string; weights: number[] }> = [
  { prompt: '(red:1.5) circle', plain: 'red circle', weights: [1.5, 1] },
  { prompt: '[circle]', plain: 'circle', weights: [1 / 1.1] },
  { prompt: 'a ((red) circle:1.2)', plain: 'a red circle', weights: [1, 1.1 * 1.2, 1.2] },
];

test("emphasis weights on the real text encoder follow A1111's formula (Original, No norm, Ignore)", async () => {
  for (const { prompt, plain, weights } of CASES) {
    assert.equal(model.tokenizer.encode(plain).length, weights.length + 2, `${plain}: one weight per token`);
    const raw = await rawStates(model, plain);
    const perPosition = [1, ...weights, ...Array(77 - 1 - weights.length).fill(1)];
    const scaled = Array.from(raw, (v, i) => v * perPosition[Math.floor(i / HIDDEN)]);
    const rescale = mean(raw) / mean(scaled);
    const original = scaled.map((v) => v * rescale);

    const got = await encodePrompt(model, prompt, 'original', newTimings());
    assert.equal(got.tokens, 77);
    assertClose(got.states, original, `${prompt} original`);
    assertClose((await encodePrompt(model, prompt, 'no-norm', newTimings())).states, scaled, `${prompt} no-norm`);
    assertClose((await encodePrompt(model, prompt, 'ignore', newTimings())).states, raw, `${prompt} ignore`);
    // The weights did change something (so the comparison above could fail).
    assert.ok(Math.abs(original[HIDDEN + 3] - raw[HIDDEN + 3]) > 1e-4, `${prompt}: weighted states differ from raw ones`);
  }
});

const words = (list: string[], n: number) => Array.from({ length: n }, (_, i) => list[i % list.length]).join(' ');
const FIRST_75 = words(['red', 'circle', 'blue', 'background'], 75);
const PROMPT_120 = `${FIRST_75} ${words(['green', 'square'], 45)}`;

test('a 120-token prompt is 2 x 77 positions, a BREAK prompt 2 chunks, the empty negative prompt one chunk padded to match', async () => {
  assert.equal(model.tokenizer.encode(PROMPT_120).length, 122);
  const long = await encodePrompt(model, PROMPT_120, 'original', newTimings());
  assert.equal(long.chunks, 2);
  assert.equal(long.tokens, 2 * 77);
  assert.equal((await encodePrompt(model, 'a red circle BREAK on a blue background', 'original', newTimings())).chunks, 2);
  const empty = await encodePrompt(model, '', 'original', newTimings());
  assert.equal(empty.chunks, 1);
  assertClose(empty.states, await rawStates(model, ''), 'empty prompt: start token then 76 end tokens, unweighted');

  const pair = await promptConditioning(
    model,
    { prompt: PROMPT_120, negativePrompt: '', emphasis: 'original', guided: true },
    newTimings(),
  );
  assert.equal(pair.cond.tokens, 154);
  assert.equal(pair.uncond!.tokens, 154);
  assertClose(pair.uncond!.states.subarray(77 * HIDDEN), empty.states, 'negative padded with the empty chunk');
  assert.deepEqual(pair.notes, []);
});

const pixels = async (prompt: string, extra: Record<string, unknown> = {}) => {
  const result = await generate(model, { prompt, seed: 7, steps: 4, sampler: 'euler', ...extra });
  return result.images[0];
};

test('tokens past 75 change the image; emphasis changes the image and the PNG keeps the prompt as typed', async () => {
  const [long, first75] = [await pixels(PROMPT_120), await pixels(FIRST_75)];
  assert.ok(!long.png.equals(first75.png), 'the 120-token prompt gives a different image from its first 75 tokens');

  const weighted = await pixels('a (red:1.4) circle on a blue background');
  const plain = await pixels('a red circle on a blue background');
  assert.ok(!weighted.png.equals(plain.png), '(red:1.4) changes the image');
  const text = readTextChunks(weighted.png).parameters;
  assert.ok(text.startsWith('a (red:1.4) circle on a blue background\n'), text);
  assert.doesNotMatch(text, /Emphasis:/);

  const noNorm = await pixels('a (red:1.4) circle on a blue background', { emphasis: 'no-norm' });
  const noNormText = readTextChunks(noNorm.png).parameters;
  assert.match(noNormText, /Emphasis: No norm/);
  assert.equal(parametersToRequest(noNormText).request.emphasis, 'no-norm');
  assert.equal(parametersToRequest(noNormText).request.prompt, 'a (red:1.4) circle on a blue background');
});

test('an unreadable weight is refused with its position', async () => {
  await assert.rejects(pixels('a (red:1.2.3) circle'), (error: Error) => {
    assert.equal(error.name, 'RequestError');
    assert.match(error.message, /^prompt: emphasis weight "1\.2\.3" at character 8/);
    return true;
  });
});

test(
  'a real fixed-77 UNet export (tiny-sd-fixed77) gets the first chunk, with a note on the dropped tokens; ' + 'a short prompt gets none',
  async () => {
    const fixed = await loadModel(modelFolder('tiny-sd-fixed77'));
    try {
      // The export itself fixes the text length (no metadata edited here): text encoder input_ids [1, 77], UNet
      // encoder_hidden_states [batch, 77, hidden], and onnxruntime refuses two chunks' 154 positions.
      assert.deepEqual(fixed.textEncoder.inputs.get('input_ids')!.shape, [1, 77]);
      assert.deepEqual(fixed.unet.inputs.get('encoder_hidden_states')!.shape, ['batch', 77, 8]);
      assert.equal(fixed.info.tokens, 77);
      assert.equal(fixedUnetPositions(fixed), 77);
      await assert.rejects(
        fixed.unet.session.run({
          sample: new ort.Tensor('float32', new Float32Array(4 * 4 * 4), [1, 4, 4, 4]),
          timestep: new ort.Tensor('int64', BigInt64Array.from([1n]), [1]),
          encoder_hidden_states: new ort.Tensor('float32', new Float32Array(154 * 8), [1, 154, 8]),
        }),
        /encoder_hidden_states/,
        'the fixture UNet refuses 154 positions',
      );

      const seen: number[] = [];
      const run = fixed.unet.session.run.bind(fixed.unet.session);
      fixed.unet.session.run = ((feeds: Record<string, ort.Tensor>, ...rest: unknown[]) => {
        seen.push(feeds.encoder_hidden_states.dims[1]);
        return (run as (...args: unknown[]) => ReturnType<typeof run>)(feeds, ...rest);
      }) as typeof fixed.unet.session.run;
      const options = { seed: 1, steps: 2, width: 32, height: 32 };
      const result = await generate(fixed, { prompt: PROMPT_120, ...options });
      assert.deepEqual(result.notes, [
        "this model's UNet takes 77 text positions, so the prompt was cut after 75 tokens: 45 tokens dropped",
      ]);
      assert.ok(seen.length > 0 && seen.every((n) => n === 77), `positions given to the UNet: ${seen}`);
      assert.equal(result.images.length, 1);
      const image = decodePng(result.images[0].png);
      assert.deepEqual([image.width, image.height], [32, 32]);
      assert.ok(readTextChunks(result.images[0].png).parameters.startsWith(`${PROMPT_120}\n`), 'the PNG keeps the whole prompt as typed');
      // What the UNet saw is the first 75 tokens: the same pixels as the prompt of those tokens alone.
      const first75 = await generate(fixed, { prompt: FIRST_75, ...options });
      assert.deepEqual(first75.notes, []);
      assert.ok(Buffer.from(decodePng(first75.images[0].png).data).equals(Buffer.from(image.data)), 'tokens past 75 were dropped');

      // A long negative prompt is cut too, with its own note.
      const negative = await generate(fixed, { prompt: 'a red circle', negativePrompt: PROMPT_120, ...options });
      assert.deepEqual(negative.notes, [
        "this model's UNet takes 77 text positions, so the negative prompt was cut after 75 tokens: 45 tokens dropped",
      ]);

      const short = await generate(fixed, { prompt: 'a red circle', ...options });
      assert.deepEqual(short.notes, []);

      // The counter under the prompt warns before a run.
      assert.deepEqual(countPrompt(fixed, PROMPT_120), {
        tokens: 120,
        max: 150,
        warning: "this model's UNet takes 75 tokens; 45 will be dropped",
      });
      assert.deepEqual(countPrompt(fixed, 'a red circle'), { tokens: 3, max: 75 });
    } finally {
      await fixed.dispose();
    }
  },
);
