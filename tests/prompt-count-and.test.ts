// The token counter and the chunk limit for AND prompts (A1111's composable diffusion), on the embedded model's
// tokenizer. A1111's update_token_counter splits the prompt into its AND parts (get_multicond_prompt_list: each
// part without its `:weight`) and shows the longest part's count; the negative prompt is not split (is_positive
// False: AND is plain text there). The engine encodes each part on its own, at the longest part's chunk count, so the
// chunk limit is a part's, not the whole text's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../src-core/model/model.ts';
import { countPrompt } from '../src-core/prompt/count.ts';
import { contextTokensOf } from '../src-core/pipeline/request-limits.ts';

const EMBEDDED = fileURLToPath(new URL('../models/restart-shapes-64/', import.meta.url));

test('AND: the counter shows the longest part, weights left out; the negative prompt counts AND as a word', async () => {
  const model = await loadModel(EMBEDDED);
  try {
    // "a red circle" is 3 tokens, "a yellow square on a green background" 7; the whole text would be 13.
    assert.deepEqual(countPrompt(model, 'a red circle AND a yellow square on a green background :0.5'), { tokens: 7, max: 75 });
    assert.deepEqual(countPrompt(model, 'a yellow square on a green background AND a red circle'), { tokens: 7, max: 75 });
    // Each part's prompt editing is scheduled on its own: the longest text of any part.
    assert.deepEqual(countPrompt(model, 'a red circle AND [a square:a yellow square on a green background:5]', 20), { tokens: 7, max: 75 });
    // The negative prompt: "blurry and ugly" is three words.
    assert.deepEqual(countPrompt(model, 'blurry AND ugly', 20, true), { tokens: 3, max: 75 });
    assert.deepEqual(countPrompt(model, 'blurry AND ugly'), { tokens: 1, max: 75 });
  } finally {
    await model.dispose();
  }
});

test('AND: the 32-chunk limit holds for each part, not for the parts together', async () => {
  const model = await loadModel(EMBEDDED);
  try {
    const part = Array.from({ length: 13 }, () => 'a red circle').join(' BREAK '); // 13 chunks
    const request = { prompt: [part, part, part].join(' AND '), negativePrompt: '' };
    // 13 chunks for each part (and so for the prompt), 77 positions each.
    assert.equal(contextTokensOf(model, request), 13 * 77);
    // Without AND, the same text is one prompt of 37 chunks (an "and" joins two parts' chunks): refused.
    assert.throws(() => contextTokensOf(model, { ...request, prompt: [part, part, part].join(' and ') }), /makes 37 chunks/);
  } finally {
    await model.dispose();
  }
});
