// img2img's noise multiplier in PNG parameters: A1111's "Noise multiplier" key, written for img2img where it is not 1,
// read back from A1111's files and this app's new ones (its 0.1.0 files held the samplers' s_noise under that key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parametersToRequest, requestToParameters } from './metadata.ts';
import { parseGenerateRequest, type GenerateRequestInput } from '../contract/generate.ts';

const facts = { seed: 5, width: 64, height: 64, model: 'm', evaluations: 7 };
const written = (fields: Partial<GenerateRequestInput>) =>
  requestToParameters(parseGenerateRequest({ prompt: 'a castle', seed: 5, sampler: 'euler', ...fields }), facts);
const a1111 = (extra: string) => `a castle\nSteps: 20, Sampler: Euler, Seed: 5, Size: 64x64, Denoising strength: 0.6, ${extra}`;

test('img2img writes "Noise multiplier" where it is not 1 and reads it back; s_noise stays apart', () => {
  const img2img = { initImage: 'file:in.png', strength: 0.6 } as const;
  const text = written({ ...img2img, img2imgNoiseMultiplier: 0.8 });
  assert.doesNotMatch(text, /Sigma noise/);
  assert.match(text, /, Version: Restart Studio 0\.2\.0$/);
  assert.match(text, /, Denoising strength: 0\.6, Noise multiplier: 0\.8,/);
  const back = parametersToRequest(text);
  assert.equal(back.request.img2imgNoiseMultiplier, 0.8);
  assert.equal(back.request.strength, 0.6);
  assert.deepEqual(back.notes, []);
  // With s_noise set too, each keeps its own key.
  const both = parametersToRequest(written({ ...img2img, img2imgNoiseMultiplier: 1.25, sNoise: 1.1 }));
  assert.deepEqual([both.request.img2imgNoiseMultiplier, both.request.sNoise], [1.25, 1.1]);
  // 1 (or absent) writes nothing; text to image and hires fix do not use it, so do not write it.
  for (const fields of [{ ...img2img, img2imgNoiseMultiplier: 1 }, img2img, { img2imgNoiseMultiplier: 0.5 }]) {
    assert.doesNotMatch(written(fields), /Noise multiplier|Sigma noise/, JSON.stringify(fields));
  }
  assert.doesNotMatch(written({ img2imgNoiseMultiplier: 0.5, hires: { scale: 2 } }), /Noise multiplier/);
});

test('A1111\'s "Noise multiplier" is read as img2img\'s; values outside 0 to 1.5 are noted and ignored', () => {
  const read = parametersToRequest(a1111('Noise multiplier: 0.35'));
  assert.equal(read.request.img2imgNoiseMultiplier, 0.35);
  assert.equal(read.request.sNoise, undefined);
  assert.deepEqual(read.notes, []);
  assert.equal(parametersToRequest(a1111('Noise multiplier: 0')).request.img2imgNoiseMultiplier, 0);
  for (const value of ['1.7', '-0.1', 'lots']) {
    const bad = parametersToRequest(a1111(`Noise multiplier: ${value}`));
    assert.equal(bad.request.img2imgNoiseMultiplier, undefined, value);
    assert.match(
      bad.notes.join('\n'),
      new RegExp(`"Noise multiplier: ${value}" is not an img2img noise multiplier from 0 to 1\\.5; ignored`),
    );
  }
});
