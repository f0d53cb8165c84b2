// The check before queueing refuses exactly what encoding would: the texts A1111 encodes (each AND part, each
// scheduled text of every pass), not the typed text. "(a:1.2.3)" is refused by A1111 (float('1.2.3') raises in
// parse_prompt_attention); prompt editing decides whether it is ever encoded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestError } from '../contract/generate.ts';
import { checkPromptSyntax } from './syntax-check.ts';

const check =
  (prompt: string, negativePrompt = '', passes?: Array<{ steps: number; hires?: { firstPassSteps: number } }>) =>
  () =>
    checkPromptSyntax({ prompt, negativePrompt }, passes);
const refused = (pattern: RegExp) => (error: unknown) => error instanceof RequestError && pattern.test(error.message);

test('a weight only a scheduled text holds is refused for the steps that reach it, and only then', () => {
  // "(a:1.2)" to step 5, then "(a:1.2.3)": reached with 20 steps, not with 4.
  assert.throws(
    check('(a:[1.2:1.2.3:5])', '', [{ steps: 20 }]),
    refused(/^prompt \(in "\(a:1\.2\.3\)", a text prompt editing makes\): emphasis weight "1\.2\.3"/),
  );
  assert.doesNotThrow(check('(a:[1.2:1.2.3:5])', '', [{ steps: 4 }]));
  // Before planning (the CLI, without a model): a scheduled text is left for the check after planning.
  assert.doesNotThrow(check('(a:[1.2:1.2.3:5])'));
  // Hires fix's pass: a whole-step edit counts from the first pass's end (step 25 of 20 + 10).
  const hires = [{ steps: 20 }, { steps: 10, hires: { firstPassSteps: 20 } }];
  assert.throws(check('[(a:1.5):(a:1.2.3):25]', '', hires), refused(/"1\.2\.3"/));
  assert.doesNotThrow(check('[(a:1.5):(a:1.2.3):25]', '', hires.slice(0, 1)));
});

test('a text prompt editing never encodes is not refused; the negative prompt and AND parts are checked', () => {
  // `[x:b:0]` is "b" throughout: A1111 never parses "(a:1.2.3)" (the typed text was refused before).
  assert.doesNotThrow(check('[(a:1.2.3):b:0]', '', [{ steps: 20 }]));
  assert.throws(check('a red circle', '[ugly:(b:1.2.3):3]', [{ steps: 20 }]), refused(/^negative prompt \(in "\(b:1\.2\.3\)"/));
  assert.throws(check('a red circle AND (b:1.2.3)', '', [{ steps: 20 }]), refused(/^prompt: emphasis weight "1\.2\.3"/));
  assert.throws(check('(a:1.2.3)'), refused(/^prompt: emphasis weight "1\.2\.3" at character 4/));
  // LoRA tags leave the prompt before encoding.
  assert.doesNotThrow(check('a cat <lora:style:0.5>', '', [{ steps: 20 }]));
});
