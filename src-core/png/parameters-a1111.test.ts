// parseParameters against A1111's own reader on texts the other tests leave out: lines with whitespace around
// them, an indented "Negative prompt:" line, CRLF line ends, blank lines, pairs with nothing after the colon.
// The expected values are what A1111's parse_generation_parameters (modules/infotext_utils.py, its prompt,
// negative prompt and re_param pair loop) returns for each text, run in Python 3; only the pair values the
// app reads differently on purpose are left out (A1111 splits "Size: WxH" into "Size-1" / "Size-2" keys,
// metadata.ts reads the "WxH" itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseParameters } from './parameters.ts';

const PAIRS = 'Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 1';

test('prompt lines are stripped one by one, as A1111 strips them', () => {
  const parsed = parseParameters(`masterpiece, \n  best quality\t\nNegative prompt: ugly, \n   blurry \n${PAIRS}`);
  assert.equal(parsed.prompt, 'masterpiece,\nbest quality');
  assert.equal(parsed.negativePrompt, 'ugly,\nblurry');
  assert.deepEqual(parsed.values, { Steps: '20', Sampler: 'Euler', 'CFG scale': '7', Seed: '1' });
});

test('CRLF line ends: the carriage returns go with the line strip', () => {
  const parsed = parseParameters(`a cat\r\nsitting\r\nNegative prompt: dog\r\nugly\r\n${PAIRS}\r\n`);
  assert.equal(parsed.prompt, 'a cat\nsitting');
  assert.equal(parsed.negativePrompt, 'dog\nugly');
  assert.equal(parsed.values.Seed, '1');
});

test('"Negative prompt:" after leading whitespace still starts the negative prompt', () => {
  const parsed = parseParameters(`a cat\n    Negative prompt: dog\n${PAIRS}`);
  assert.equal(parsed.prompt, 'a cat');
  assert.equal(parsed.negativePrompt, 'dog');
});

test('blank lines: kept between lines, a trailing one kept as A1111 keeps it', () => {
  assert.equal(parseParameters(`a cat\n\n\non a mat\n${PAIRS}`).prompt, 'a cat\n\n\non a mat');
  const trailing = parseParameters(`a cat\nNegative prompt: dog\n\n${PAIRS}`);
  assert.equal(trailing.prompt, 'a cat');
  assert.equal(trailing.negativePrompt, 'dog\n');
  // A label with nothing after it: the next line is the first of the negative prompt, with no newline before it.
  assert.equal(parseParameters(`a cat\nNegative prompt:\nugly\n${PAIRS}`).negativePrompt, 'ugly');
});

test('a pair with nothing after its colon counts towards the three but is not kept; an empty quoted value is', () => {
  const parsed = parseParameters('a cat\nSteps: 20, Model:, Sampler: Euler, VAE: , Seed: 1, Note: ""');
  assert.deepEqual(parsed.values, { Steps: '20', Sampler: 'Euler', Seed: '1', Note: '' });
  // "Model:, VAE: , Seed: 1": three pairs for the count, so the line is the parameters, not prompt text.
  const counted = parseParameters('a cat\nModel:, VAE: , Seed: 1');
  assert.equal(counted.prompt, 'a cat');
  assert.deepEqual(counted.values, { Seed: '1' });
});
