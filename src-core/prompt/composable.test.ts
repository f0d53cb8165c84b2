// AND parsing against A1111's get_multicond_prompt_list (modules/prompt_parser.py). The expected values were made by
// running its two regular expressions and its loop in Python 3.11, on these prompts:
//   re_AND = re.compile(r"\bAND\b"); re_weight = re.compile(r"^((?:\s|.)*?)(?:\s*:\s*([-+]?(?:\d+\.?|\d*\.\d+)))?\s*$")
//   for sub in re_AND.split(prompt): m = re_weight.search(sub); text, w = m.groups(); w = float(w) if w is not None else 1.0
// (Python's \b, \s and \d are Unicode-aware, float() reads any script's digits: "é AND b" splits, "a :٣" is 3.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composableParts, promptParts, unetRowsPerImage } from './composable.ts';
import { estimateRequestMemory } from '../pipeline/memory.ts';
import { refuseOverMemory } from '../pipeline/request-limits.ts';
import { loadModel } from '../model/model.ts';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { parseGenerateRequest, RequestError } from '../contract/generate.ts';

const A1111: Array<[string, Array<[string, number]>]> = [
  [
    'a cat AND a dog :0.7',
    [
      ['a cat', 1],
      [' a dog', 0.7],
    ],
  ],
  ['a cat', [['a cat', 1]]],
  ['a cat  ', [['a cat', 1]]],
  ['a cat :1', [['a cat', 1]]],
  ['a cat:0.5', [['a cat', 0.5]]],
  ['a cat: -1.5 ', [['a cat', -1.5]]],
  ['a cat :+.25', [['a cat', 0.25]]],
  ['a cat :1.', [['a cat', 1]]],
  [
    'ANDROID AND ANDes',
    [
      ['ANDROID', 1],
      [' ANDes', 1],
    ],
  ],
  ['xAND y', [['xAND y', 1]]],
  [
    'a AND',
    [
      ['a', 1],
      ['', 1],
    ],
  ],
  [
    'AND b',
    [
      ['', 1],
      [' b', 1],
    ],
  ],
  ['a ANDAND b', [['a ANDAND b', 1]]],
  [
    'a AND AND b',
    [
      ['a', 1],
      ['', 1],
      [' b', 1],
    ],
  ],
  ['a_AND b', [['a_AND b', 1]]],
  [
    'é AND b',
    [
      ['é', 1],
      [' b', 1],
    ],
  ],
  ['1AND b', [['1AND b', 1]]],
  [
    'a\nAND\nb:2\n',
    [
      ['a', 1],
      ['\nb', 2],
    ],
  ],
  ['style: anime', [['style: anime', 1]]],
  ['a::5', [['a:', 5]]],
  ['a:1.2.3', [['a:1.2.3', 1]]],
  [
    'a : 2 AND b:3',
    [
      ['a', 2],
      [' b', 3],
    ],
  ],
  [
    '(x:1.2) AND [a:b:5]',
    [
      ['(x:1.2)', 1],
      [' [a:b:5]', 1],
    ],
  ],
  ['a cat :٣', [['a cat', 3]]],
  [
    'a AND b :0',
    [
      ['a', 1],
      [' b', 0],
    ],
  ],
  [
    'a AND b :1e2',
    [
      ['a', 1],
      [' b :1e2', 1],
    ],
  ],
  [
    'a AND b :.',
    [
      ['a', 1],
      [' b :.', 1],
    ],
  ],
  [
    'a AND b : 0.5\u3000',
    [
      ['a', 1],
      [' b', 0.5],
    ],
  ],
  ['日本AND b', [['日本AND b', 1]]],
  [
    'a\u00a0AND b',
    [
      ['a', 1],
      [' b', 1],
    ],
  ],
  [
    'a :0 AND a :0',
    [
      ['a', 0],
      [' a', 0],
    ],
  ],
];

test("prompt parts: A1111's split on the whole word AND and its trailing :weight, on 31 prompts", () => {
  for (const [prompt, expected] of A1111) {
    assert.deepEqual(
      promptParts(prompt).map((p) => [p.text, p.weight]),
      expected,
      JSON.stringify(prompt),
    );
  }
});

test('a plain prompt (one part, weight 1) keeps the usual path; the UNet rows per image', () => {
  assert.equal(composableParts('a cat'), undefined);
  assert.equal(composableParts('a cat :1'), undefined);
  assert.equal(composableParts('style: anime'), undefined);
  assert.deepEqual(composableParts('a cat :0.5'), [{ text: 'a cat', weight: 0.5 }]);
  assert.equal(unetRowsPerImage('a cat', 7), 2);
  assert.equal(unetRowsPerImage('a cat', 1), 1);
  // Every part and the negative prompt, at any scale (A1111 guides each part against the negative prompt).
  assert.equal(unetRowsPerImage('a AND b AND c :0', 1), 4);
  assert.equal(unetRowsPerImage('a :0.5', 7), 2);
});

test('the memory estimate counts every part: a size that fits two rows per image is refused at four', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    const shape = { width: 256, height: 256, batchSize: 2, cfgScale: 7, contextTokens: 77 };
    const plain = estimateRequestMemory(model.info, shape);
    const and = estimateRequestMemory(model.info, { ...shape, rowsPerImage: 4 });
    assert.equal(plain.unetBatch, 4);
    assert.equal(and.unetBatch, 8);
    assert.ok(and.bytes > plain.bytes);
    const budget = { bytes: plain.bytes, source: 'test' };
    const request = (prompt: string) => parseGenerateRequest({ prompt, seed: 1, width: 256, height: 256, batchSize: 2, cfgScale: 7 });
    refuseOverMemory(model, request('a'), [{ width: 256, height: 256 }], budget);
    assert.throws(
      () => refuseOverMemory(model, request('a AND b AND c'), [{ width: 256, height: 256 }], budget),
      (e: Error) => e instanceof RequestError && /UNet batch 8/.test(e.message),
    );
  } finally {
    await model.dispose();
  }
});
