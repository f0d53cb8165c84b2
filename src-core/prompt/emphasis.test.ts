// The emphasis parser on rules beyond the shared vectors; expected values written by hand from the rules in
// shared/specs/interop.md (weights as the float64 products A1111 forms, in its order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEmphasis, PromptSyntaxError } from './emphasis.ts';
import { runPromptAttentionVectors } from '../conformance/prompt-attention-vectors.ts';

test('a lone backslash is dropped; escapes keep their character and take the brackets around them', () => {
  assert.deepEqual(parseEmphasis('a\\b'), [['ab', 1]]);
  assert.deepEqual(parseEmphasis('end\\'), [['end', 1]]);
  assert.deepEqual(parseEmphasis('(\\(x\\))'), [['(x)', 1.1]]);
});

test('BREAK: whole uppercase words only, whitespace around them removed, empty pieces kept', () => {
  assert.deepEqual(parseEmphasis('BREAK a'), [
    ['', 1],
    ['BREAK', -1],
    ['a', 1],
  ]);
  assert.deepEqual(parseEmphasis('a  BREAK\tb'), [
    ['a', 1],
    ['BREAK', -1],
    ['b', 1],
  ]);
  assert.deepEqual(parseEmphasis('aBREAK b'), [['aBREAK b', 1]]);
  assert.deepEqual(parseEmphasis('a break b'), [['a break b', 1]]);
  // Python's \w is Unicode: a CJK letter next to BREAK is a word character, so no break.
  assert.deepEqual(parseEmphasis('猫BREAK'), [['猫BREAK', 1]]);
  // Inside square brackets the marker is weighed like any piece and is no longer a break.
  assert.deepEqual(parseEmphasis('[a BREAK b]'), [
    ['a', 1 / 1.1],
    ['BREAK', -1 / 1.1],
    ['b', 1 / 1.1],
  ]);
});

test('weights: signs, leading dots, whitespace, Unicode digits; exponents are text', () => {
  assert.deepEqual(parseEmphasis('(x: +.5 )'), [['x', 0.5]]);
  assert.deepEqual(parseEmphasis('(x:0)'), [['x', 0]]);
  assert.deepEqual(parseEmphasis('(x:2.)'), [['x', 2]]);
  assert.deepEqual(parseEmphasis('(x:١.٥)'), [['x', 1.5]]);
  assert.deepEqual(parseEmphasis('(x:2e1)'), [['x:2e1', 1.1]]);
  // ":N)" without an open "(" is plain text, even where N is not a number.
  assert.deepEqual(parseEmphasis('[x:1.2.3)]'), [['x:1.2.3)', 1 / 1.1]]);
});

test('brackets left open: round ones apply first, then square, in float64', () => {
  assert.deepEqual(parseEmphasis('((a'), [['a', 1.1 * 1.1]]);
  assert.deepEqual(parseEmphasis('([a'), [['a', (1 / 1.1) * 1.1]]);
  assert.deepEqual(parseEmphasis('(a:1.5) ((b'), [
    ['a', 1.5],
    [' ', 1],
    ['b', 1.2100000000000002],
  ]);
  assert.deepEqual(parseEmphasis('((('), [['', 1]]);
});

// Expected weights from A1111's parse_prompt_attention (modules/prompt_parser.py at 28bd8e14), run in
// Python 3 on these prompts: open round brackets multiply first, then open square ones, and the last bits
// show it (square first gives 1.4800000000000002 and 1.1).
test('brackets left open multiply in A1111 order, to the last bit', () => {
  const exact = (prompt: string, expected: Array<[string, number]>) => {
    const got = parseEmphasis(prompt);
    assert.deepEqual(
      got.map(([text, weight]) => [text, weight.toString()]),
      expected.map(([text, weight]) => [text, weight.toString()]),
      prompt,
    );
  };
  exact('[((a:1.48)', [['a', 1.48]]);
  exact('([[((x', [['x', 1.1000000000000003]]);
  exact('[(x (y:1.48) [z] (q)', [
    ['x ', 1],
    ['y', 1.48],
    [' ', 1],
    ['z', 0.9090909090909091],
    [' ', 1],
    ['q', 1.1],
  ]);
});

test('an unreadable weight is an error that points at it', () => {
  assert.throws(
    () => parseEmphasis('a cat (x:1.2.3)'),
    (error: unknown) => {
      assert.ok(error instanceof PromptSyntaxError);
      assert.equal(error.position, 9);
      assert.match(error.message, /"1\.2\.3" at character 10/);
      return true;
    },
  );
  assert.throws(() => parseEmphasis('(x: . )'), PromptSyntaxError);
});

test('the conformance handler reports the first differing piece', () => {
  const [textWrong, weightWrong, countWrong] = runPromptAttentionVectors({
    cases: [
      {
        prompt: '(a) b',
        expected: [
          ['a', 1.1],
          ['b', 1],
        ],
      },
      {
        prompt: '(a) b',
        expected: [
          ['a', 1.2],
          [' b', 1],
        ],
      },
      { prompt: '(a) b', expected: [['a', 1.1]] },
    ],
  });
  assert.match(textWrong.detail, /piece 1: text " b", expected "b"/);
  assert.match(weightWrong.detail, /piece 0 "a": weight 1.1, expected 1.2/);
  assert.match(countWrong.detail, /2 pieces, expected 1/);
  assert.ok(!textWrong.pass && !weightWrong.pass && !countWrong.pass);
});
