import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCount, formatTokens, promptLengthError } from './format.ts';
import { defaultForm, formToRequest } from './form.ts';

test('a prompt over the limit is described in words', () => {
  assert.equal(formatCount(27412), '27,412');
  assert.equal(formatCount(999), '999');
  assert.equal(promptLengthError('x'.repeat(20_000), 'prompt'), null);
  assert.equal(promptLengthError('x'.repeat(27_412), 'prompt'), 'The prompt is 27,412 characters; the limit is 20,000');
  const form = { ...defaultForm(), prompt: 'x'.repeat(27_412), seed: 1 };
  assert.equal(formToRequest(form).error, 'The prompt is 27,412 characters; the limit is 20,000');
  assert.equal(
    formToRequest({ ...form, prompt: 'a', negativePrompt: 'y'.repeat(20_001) }).error,
    'The negative prompt is 20,001 characters; the limit is 20,000',
  );
});

test('the token counter of a cut prompt says it counted only the first part', () => {
  assert.equal(formatTokens(80, 150).text, '80/150');
  const partial = formatTokens(6000, 6000, undefined, 20_000);
  assert.equal(partial.text, '6000/6000 in the first 20,000 characters');
});
