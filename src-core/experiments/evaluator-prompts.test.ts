// What the Explore sweep scores a typed prompt against: the evaluator's reading of the words must agree with the
// labels of its own prompt set (prompts.json), and say "cannot tell" (null) for prompts that name more than one
// shape or colour, a count it has no class for, or a negation, rather than score them as another prompt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { Evaluator } from './evaluator.ts';
import { samePromptReference } from './real-reference.ts';

const evaluator = await Evaluator.load(DEFAULT_MODEL_DIR);

test('the words of every prompt of the prompt set give its labels (read from the words, not looked up)', () => {
  assert.ok(evaluator);
  assert.equal(evaluator.prompts.length, 336);
  for (const p of evaluator.prompts) {
    // Capitals and a trailing comma make it a prompt the set does not hold verbatim: only the words are read.
    const typed = `${p.prompt.toUpperCase()}, highly detailed`;
    assert.deepEqual(evaluator.promptLabels(typed), p.labels, typed);
  }
});

test('prompts the evaluator cannot check get no labels, and so no prompt accuracy and no FD reference', () => {
  assert.ok(evaluator);
  const cannotTell = [
    // Two shapes: scored before as "a red circle on a blue background" (the first shape class, not the prompt's).
    'a red square next to a green circle on a blue background',
    // A negated shape: scored before as "two red circles".
    'a red square on a blue background, no circles',
    // Counts the evaluator has no class for: scored before as two.
    'three red squares on a blue background',
    '3 red squares on a blue background',
    // Two colours for the shape, or for the background.
    'a red and green square on a blue background',
    'a red square on a blue and green background',
  ];
  for (const prompt of cannotTell) {
    assert.equal(evaluator.promptLabels(prompt), null, prompt);
    assert.equal(samePromptReference(evaluator, prompt, 4), null, prompt);
  }
});

test('plain variations of a prompt of the set still read as it', () => {
  assert.ok(evaluator);
  const index = (head: 'color' | 'shape' | 'background' | 'count', name: string | number) =>
    evaluator.classes(head).map(String).indexOf(String(name));
  const expect = (color: string, shape: string, count: number, background: string) => ({
    background: index('background', background),
    shape: index('shape', shape),
    color: index('color', color),
    count: index('count', count),
  });
  assert.deepEqual(evaluator.promptLabels('one red square on a blue background'), expect('red', 'square', 1, 'blue'));
  assert.deepEqual(evaluator.promptLabels('2 red squares on a blue background'), expect('red', 'square', 2, 'blue'));
  assert.deepEqual(evaluator.promptLabels('red triangles, on white'), expect('red', 'triangle', 2, 'white'));
  assert.equal(samePromptReference(evaluator, 'A red square on a blue background', 4)?.prompt, 'a red square on a blue background');
});
