// The result panel's variation seed: read from the image's parameters text, only from its settings line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageVariation, variationFact } from './result-facts.ts';

const settings = 'Steps: 4, Sampler: Euler, Schedule type: Automatic, CFG scale: 5, Seed: 7, Size: 64x64';

test("a varied image's variation seed and strength, next to its seed", () => {
  const varied = `a red circle\nNegative prompt: blurry\n${settings}, Variation seed: 502, Variation seed strength: 0.3, Version: v1.10.1`;
  assert.deepEqual(imageVariation(varied), { seed: 502, strength: 0.3 });
  assert.deepEqual(variationFact(varied), { label: 'Variation seed', value: '502 (strength 0.3)' });
  // Last in the line, as well.
  assert.deepEqual(imageVariation(`x\n${settings}, Variation seed: 2, Variation seed strength: 1`), { seed: 2, strength: 1 });
});

test('no variation: none shown, whatever the prompt says', () => {
  assert.equal(variationFact(`a red circle\n${settings}, Version: v1.10.1`), null);
  assert.equal(imageVariation('Variation seed: 5, Variation seed strength: 0.5\nNegative prompt: x\n' + settings), null, 'prompt text');
  assert.equal(imageVariation(''), null);
});
