// Grid cells from a grid request: the Prompt S/R axis replaces its first value in both prompts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GridRequestSchema } from '../contract/experiments.ts';
import { gridRequests } from './grid.ts';

test('each cell replaces every occurrence of the first value in the prompt and the negative prompt', () => {
  const grid = GridRequestSchema.parse({
    base: { prompt: 'red circle, red ring', negativePrompt: 'red blur', seed: 3 },
    x: { kind: 'promptSR', values: ['red', '(red:1.4)'] },
    y: { kind: 'cfgScale', values: [5, 7] },
  });
  const cells = gridRequests(grid);
  assert.deepEqual(
    cells.map((c) => [c.x, c.y, c.request.prompt, c.request.negativePrompt, c.request.cfgScale]),
    [
      [0, 0, 'red circle, red ring', 'red blur', 5],
      [1, 0, '(red:1.4) circle, (red:1.4) ring', '(red:1.4) blur', 5],
      [0, 1, 'red circle, red ring', 'red blur', 7],
      [1, 1, '(red:1.4) circle, (red:1.4) ring', '(red:1.4) blur', 7],
    ],
  );
});
