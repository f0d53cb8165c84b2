// A1111 keys that change the image but are not applied here get a note; the samplers' s_noise is A1111's "Sigma noise"
// both ways, and "Noise multiplier" (A1111's img2img noise multiplier, metadata-noise-multiplier.test.ts) is not read as
// it, except in this app's older files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parametersToRequest, requestToParameters } from './metadata.ts';
import { parseGenerateRequest } from '../contract/generate.ts';

const line = (extra: string) => `a castle\nSteps: 20, Sampler: Euler a, Schedule type: Karras, Seed: 5, Size: 64x64, ${extra}`;

test('keys A1111 applies and this app does not are named in a note, only where their value does something', () => {
  const cases: Array<[string, RegExp]> = [
    ['Skip Early CFG: 0.1', /"Skip Early CFG: 0.1" \(the negative prompt ignored in early steps/],
    ['Eta DDIM: 0.3', /"Eta DDIM: 0.3" \(DDIM's eta/],
    ['SGM noise multiplier: True', /"SGM noise multiplier: True"/],
    ['NGMS: 0.2', /"NGMS: 0.2"/],
    ['Token merging ratio: 0.3', /"Token merging ratio: 0.3" \(token merging/],
    ['Tiling: True', /"Tiling: True" \(seamless tiling\)/],
    ['Refiner: sdxl_refiner [7440042bbd]', /"Refiner: sdxl_refiner \[7440042bbd\]" \(the SDXL refiner model\)/],
  ];
  for (const [extra, note] of cases) {
    const read = parametersToRequest(line(extra));
    assert.match(read.notes.join('\n'), note, extra);
    assert.match(read.notes.join('\n'), /is not applied here: the image will differ from the original/, extra);
  }
  for (const extra of ['Sigma churn: 0', 'Tiling: False', 'Noise multiplier: 1', 'Token merging ratio: 0', 'NGMS: 0.0']) {
    assert.deepEqual(parametersToRequest(line(extra)).notes, [], extra);
  }
  // A1111's img2img noise multiplier is not the samplers' s_noise.
  assert.equal(parametersToRequest(line('Noise multiplier: 1.05')).request.sNoise, undefined);
});

test('s_noise is written as "Sigma noise" and read back; this app\'s older files said "Noise multiplier"', () => {
  const request = parseGenerateRequest({ prompt: 'a castle', seed: 5, sampler: 'euler_ancestral', sNoise: 1.1 });
  const text = requestToParameters(request, { seed: 5, width: 64, height: 64, model: 'm', evaluations: 20 });
  assert.match(text, /, Sigma noise: 1.1,/);
  assert.doesNotMatch(text, /Noise multiplier/);
  const back = parametersToRequest(text);
  assert.equal(back.request.sNoise, 1.1);
  assert.deepEqual(back.notes, []);
  assert.equal(parametersToRequest(line('Sigma noise: 0.9')).request.sNoise, 0.9);
  const older = parametersToRequest(line('Noise multiplier: 1.2, Version: Restart Studio 0.1.0'));
  assert.equal(older.request.sNoise, 1.2);
  assert.equal(older.request.img2imgNoiseMultiplier, undefined);
  assert.deepEqual(older.notes, []);
  const newer = parametersToRequest(line('Noise multiplier: 1.2, Version: Restart Studio 0.2.0'));
  assert.deepEqual([newer.request.img2imgNoiseMultiplier, newer.request.sNoise], [1.2, undefined]);
});
