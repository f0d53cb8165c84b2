// Prompt editing [from:to:when] and alternation [a|b] on the embedded model's real networks. An edit whose switch
// comes after the last evaluation must give exactly the image of its first prompt (A1111 counts evaluations from 0
// and switches after `when`: with 8 Euler steps, evaluations 0..7 all take the first text of [A:B:7]); one that
// switches earlier gives another image. The evaluation-level switching is checked in
// src-core/guidance/prompt-switch.test.ts; the schedules against A1111's own outputs in src-core/prompt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { decodeInputImage } from '../src-core/image/decode.ts';
import { readTextChunks } from '../src-core/png/text-chunks.ts';

const EMBEDDED = fileURLToPath(new URL('../models/restart-shapes-64/', import.meta.url));
const model = await loadModel(EMBEDDED);
test.after(() => model.dispose());

const RED = 'a red circle on a blue background';
const SQUARE = 'a yellow square on a green background';
const base = { seed: 11, steps: 8, sampler: 'euler' as const, cfgScale: 7, negativePrompt: 'blurry' };

async function pixels(request: Record<string, unknown>): Promise<{ data: Uint8Array; parameters: string }> {
  const result = await generate(model, { ...base, ...request });
  const png = result.images[0].png;
  return { data: (await decodeInputImage(png)).data, parameters: readTextChunks(png).parameters ?? '' };
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

test('an edit after the last evaluation is the first prompt exactly; earlier edits and alternation give other images', async () => {
  const red = await pixels({ prompt: RED });
  const square = await pixels({ prompt: SQUARE });
  const late = await pixels({ prompt: `[${RED}:${SQUARE}:7]` });
  assert.ok(same(late.data, red.data), '[A:B:7] of 8 Euler steps is A at every evaluation');
  assert.ok(late.parameters.startsWith(`[${RED}:${SQUARE}:7]\nNegative prompt: blurry\n`), 'the PNG keeps the prompt as typed');
  const atZero = await pixels({ prompt: `[${RED}:${SQUARE}:0]` });
  assert.ok(same(atZero.data, square.data), '[A:B:0] is B throughout');
  const half = await pixels({ prompt: `[${RED}:${SQUARE}:0.5]` });
  assert.ok(!same(half.data, red.data) && !same(half.data, square.data), '[A:B:0.5] is neither');
  const lastOnly = await pixels({ prompt: `[${RED}:${SQUARE}:6]` });
  assert.ok(!same(lastOnly.data, red.data) && !same(lastOnly.data, half.data), '[A:B:6] switches for the last evaluation only');
  const alternating = await pixels({ prompt: `[${RED}|${SQUARE}]` });
  assert.ok(!same(alternating.data, red.data) && !same(alternating.data, square.data));
  const alternatingSame = await pixels({ prompt: `[${RED}|${RED}]` });
  assert.ok(same(alternatingSame.data, red.data), 'alternating between one text is that text');
});

test('the negative prompt takes the same syntax', async () => {
  const plain = await pixels({ prompt: RED, negativePrompt: 'blurry' });
  const late = await pixels({ prompt: RED, negativePrompt: `[blurry:${SQUARE}:7]` });
  assert.ok(same(late.data, plain.data));
  const half = await pixels({ prompt: RED, negativePrompt: `[blurry:${SQUARE}:0.5]` });
  assert.ok(!same(half.data, plain.data));
  assert.ok(half.parameters.includes(`\nNegative prompt: [blurry:${SQUARE}:0.5]\n`));
});

test('Heun: the schedule is made for twice the steps, so [A:B:16] of 8 steps (15 evaluations) is A throughout', async () => {
  const red = await pixels({ prompt: RED, sampler: 'heun' });
  const late = await pixels({ prompt: `[${RED}:${SQUARE}:16]`, sampler: 'heun' });
  assert.ok(same(late.data, red.data));
  // Made for the 8 steps alone, [A:B:8] would be A throughout too; made for 16, evaluations 9..14 take B.
  const eight = await pixels({ prompt: `[${RED}:${SQUARE}:8]`, sampler: 'heun' });
  assert.ok(!same(eight.data, red.data));
});
