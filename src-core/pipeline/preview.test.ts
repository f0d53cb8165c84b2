// The latent preview's map from channels to colour bytes, on values worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { previewRgba } from './preview.ts';

test('previewRgba: bias plus weighted channels, from [-1, 1] to bytes, clamped, alpha 255', () => {
  const map = {
    bias: [0, 0.5, -1] as [number, number, number],
    weights: [
      [1, 0, 0.5],
      [0, -1, 2],
    ] as Array<[number, number, number]>,
  };
  // Two channels of a 1x2 latent: channel 0 is [0.5, -2], channel 1 is [0.25, 1].
  const rgba = previewRgba(map, Float64Array.of(0.5, -2, 0.25, 1), 2, 1, 2);
  // Pixel 0: r 0.5 -> 191.25, g 0.25 -> 159.375, b -0.25 -> 95.625. Pixel 1: r -2 (clamped to 0), g -0.5 -> 63.75,
  // b 0 -> 127.5 (rounds up).
  assert.deepEqual([...rgba], [191, 159, 96, 255, 0, 64, 128, 255]);
});
