// A prompt and a negative prompt of different lengths (in 75-token chunks). A1111's default ("Pad
// prompt/negative prompt" off) runs the UNet on each with its own length, in two calls. The engine makes
// one batched call: each is repeated to a common length, which leaves cross-attention unchanged. The reference
// here is the A1111 way, run on the embedded model's real UNet: each prompt alone, at its own length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../src-core/model/model.ts';
import { encodePrompt, newTimings, unetCall } from '../src-core/pipeline/components.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { promptConditioning } from '../src-core/prompt/conditioning.ts';
import { padToChunks, sharedChunks } from '../src-core/prompt/encode.ts';
import { contextTokensOf } from '../src-core/pipeline/request-limits.ts';
import { readTextChunks } from '../src-core/png/text-chunks.ts';
import { parametersToRequest } from '../src-core/pipeline/metadata.ts';

const EMBEDDED = fileURLToPath(new URL('../models/restart-shapes-64/', import.meta.url));
const model = await loadModel(EMBEDDED);
test.after(() => model.dispose());

const words = (list: string[], n: number) => Array.from({ length: n }, (_, i) => list[i % list.length]).join(' ');
const TWO_CHUNKS = words(['red', 'circle', 'blue', 'background', 'green', 'square'], 120);
const THREE_CHUNKS = words(['yellow', 'triangle', 'dark', 'sky'], 200);
const ONE_CHUNK_NEGATIVE = 'blurry, lowres, yellow triangle';

const side = model.info.latentSize;
const channels = model.info.latentChannels;
/** A fixed latent, the same for every call. */
const sample = Float32Array.from({ length: channels * side * side }, (_, i) => Math.sin(i * 12.9898) * 0.8);

/** The UNet's output for one prompt's states (batch 1), copied out of the call's reused array. */
async function unetOn(states: Float32Array, timestep = 500): Promise<Float32Array> {
  const call = unetCall(model, side, side, newTimings());
  return Float32Array.from(await call({ sample, batch: 1, timestep, encoderHiddenStates: states }));
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

for (const [name, prompt, negativePrompt, chunks] of [
  ['a 2-chunk prompt, a 1-chunk negative prompt', TWO_CHUNKS, ONE_CHUNK_NEGATIVE, 2],
  ['a 1-chunk prompt, a 2-chunk negative prompt', ONE_CHUNK_NEGATIVE, TWO_CHUNKS, 2],
  ['a 2-chunk prompt, a 3-chunk negative prompt', TWO_CHUNKS, THREE_CHUNKS, 6],
] as const) {
  test(`${name}: the guided call gives each the UNet output of its own length, as A1111's two calls do`, async () => {
    const timings = newTimings();
    const joint = await promptConditioning(model, { prompt, negativePrompt, emphasis: 'original', guided: true }, timings);
    assert.equal(joint.cond.tokens, chunks * 77);
    assert.equal(joint.uncond!.tokens, chunks * 77);
    assert.equal(joint.padded, false);
    assert.deepEqual(joint.notes, []);

    const ownCond = await encodePrompt(model, prompt, 'original', timings);
    const ownUncond = await encodePrompt(model, negativePrompt, 'original', timings);
    const [referenceCond, referenceUncond] = [await unetOn(ownCond.states), await unetOn(ownUncond.states)];
    const [gotCond, gotUncond] = [await unetOn(joint.cond.states), await unetOn(joint.uncond!.states)];
    const scale = Math.max(...referenceCond.map(Math.abs));
    assert.ok(maxDifference(gotCond, referenceCond) <= 2e-5 * scale, `prompt: ${maxDifference(gotCond, referenceCond)}`);
    assert.ok(maxDifference(gotUncond, referenceUncond) <= 2e-5 * scale, `negative: ${maxDifference(gotUncond, referenceUncond)}`);

    // Padding the shorter one with empty chunks (A1111 with "Pad prompt/negative prompt" on) changes its output:
    // the comparison above can tell the two apart.
    const longest = Math.max(ownCond.chunks, ownUncond.chunks);
    const empty = await encodePrompt(model, '', 'original', timings);
    const shorter = ownCond.chunks < ownUncond.chunks ? ownCond : ownUncond;
    const reference = shorter === ownCond ? referenceCond : referenceUncond;
    const padded = await unetOn(padToChunks(shorter, longest, empty).states);
    assert.ok(maxDifference(padded, reference) > 100 * 2e-5 * scale, `padding differs: ${maxDifference(padded, reference)}`);
  });
}

test('the prompts above make the chunks the tests name', () => {
  const tokens = (text: string) => model.tokenizer.encode(text).length - 2;
  assert.deepEqual([TWO_CHUNKS, THREE_CHUNKS, ONE_CHUNK_NEGATIVE].map(tokens), [120, 200, tokens(ONE_CHUNK_NEGATIVE)]);
  assert.ok(tokens(ONE_CHUNK_NEGATIVE) <= 75);
});

test('the shared length is the least common multiple up to the chunk limit, then the longer one padded', () => {
  assert.deepEqual(sharedChunks(2, 1, 32), { chunks: 2, padded: false });
  assert.deepEqual(sharedChunks(2, 3, 32), { chunks: 6, padded: false });
  assert.deepEqual(sharedChunks(4, 6, 32), { chunks: 12, padded: false });
  assert.deepEqual(sharedChunks(5, 7, 32), { chunks: 7, padded: true });
  assert.deepEqual(sharedChunks(32, 31, 32), { chunks: 32, padded: true });
});

test('the memory estimate counts the shared length; a padded image says "Pad conds: True" and why', async () => {
  assert.equal(contextTokensOf(model, { prompt: TWO_CHUNKS, negativePrompt: THREE_CHUNKS }), 6 * 77);
  const fiveChunks = words(['red', 'circle', 'blue', 'background'], 5 * 75 - 10);
  const sevenChunks = words(['yellow', 'triangle', 'dark', 'sky'], 7 * 75 - 10);
  const request = { prompt: fiveChunks, negativePrompt: sevenChunks, seed: 3, steps: 2, sampler: 'euler' as const };
  assert.equal(contextTokensOf(model, request), 7 * 77);
  const padded = await generate(model, request);
  assert.match(readTextChunks(padded.images[0].png).parameters ?? '', /, Pad conds: True,/);
  assert.ok(
    padded.notes.some((n) => /prompt \(5 chunks\) and the negative prompt \(7\) were padded with empty chunks/.test(n)),
    padded.notes.join('\n'),
  );
  const repeated = await generate(model, { ...request, negativePrompt: THREE_CHUNKS });
  assert.doesNotMatch(readTextChunks(repeated.images[0].png).parameters ?? '', /Pad conds/);
});

test('a PNG made with "Pad conds: True" is read with a note that the image will differ', () => {
  const text = 'a cat\nNegative prompt: a dog\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 64x64, Pad conds: True';
  const read = parametersToRequest(text);
  assert.ok(
    read.notes.some((n) => /padded to one length \("Pad conds"\).*will differ/.test(n)),
    read.notes.join('\n'),
  );
  assert.ok(!parametersToRequest(text.replace(', Pad conds: True', '')).notes.some((n) => /Pad conds/.test(n)));
});
