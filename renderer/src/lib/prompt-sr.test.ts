// The Compare grid's Prompt S/R axis: values as A1111's X/Y/Z plot reads them, and the request it makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisFromForm } from './axis-from-form.ts';
import { parsePromptSRList } from './axis-lists.ts';
import { defaultAxis } from './compare-form.ts';
import { baseSummary } from './grid-base-summary.ts';
import { buildGridRequest } from './grid-request.ts';

test('values: commas separate, spaces trimmed, empty ones dropped, quotes keep commas', () => {
  assert.deepEqual(parsePromptSRList('red, (red:1.3) ,, [red]').value, ['red', '(red:1.3)', '[red]']);
  assert.deepEqual(parsePromptSRList('red, "red, glossy", "say ""hi"""').value, ['red', 'red, glossy', 'say "hi"']);
  assert.equal(parsePromptSRList('red, "open').error, 'a quoted value is not closed');
  assert.equal(parsePromptSRList(' , ').error, 'enter at least one value');
});

test('the axis and its grid request; a search text missing from the prompts is refused', () => {
  const axis = { ...defaultAxis('promptSR'), texts: { ...defaultAxis('promptSR').texts, promptSR: 'red, (red:1.4)' } };
  assert.deepEqual(axisFromForm(axis).value, { kind: 'promptSR', values: ['red', '(red:1.4)'] });
  const ok = buildGridRequest({ x: axis, y: defaultAxis('none') }, { value: { prompt: 'a red circle', seed: 7 } });
  assert.equal(ok.cells, 2);
  assert.ok(ok.request);
  const missing = buildGridRequest({ x: axis, y: defaultAxis('none') }, { value: { prompt: 'a blue square', seed: 7 } });
  assert.equal(missing.request, null);
  assert.match(missing.errors.x ?? '', /value 1: Prompt S\/R: "red" is not in the prompt or the negative prompt/);
  assert.match(baseSummary({ prompt: 'a red circle', seed: 7 }, { randomSeed: false, axes: ['promptSR'] }), /S\/R from the axis/);
});
