// The contract speaks camelCase (sNoise, restartGamma, sMin, sMax); the samplers keep k-diffusion's
// names (s_noise, restart_gamma, s_min, s_max). samplerOptions is the one place that translates, and
// PNG parameters keep A1111's keys ("Restart s_min").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGenerateRequest } from '../contract/generate.ts';
import { parametersToRequest, requestToParameters } from './metadata.ts';
import { samplerOptions } from './txt2img.ts';

const facts = { seed: 1, width: 64, height: 64, model: 'm', evaluations: 1 };

test("samplerOptions translates the contract's camelCase to the samplers' k-diffusion names", () => {
  const request = parseGenerateRequest({
    prompt: 'x',
    seed: 1,
    sampler: 'restart',
    sNoise: 0.9,
    restart: { segments: [[4, 2, 0.1, 2]], restartGamma: 0.05, sMin: 0.1, sMax: 3 },
  });
  assert.deepEqual(samplerOptions(request), { s_noise: 0.9, segments: [[4, 2, 0.1, 2]], restart_gamma: 0.05, s_min: 0.1, s_max: 3 });
});

test('samplerOptions: presets pass through, Restart without settings is the a1111 preset, other samplers get no restart options', () => {
  assert.deepEqual(samplerOptions(parseGenerateRequest({ prompt: 'x', seed: 1, sampler: 'restart', restart: { preset: 'sd' } })), {
    preset: 'sd',
  });
  assert.deepEqual(samplerOptions(parseGenerateRequest({ prompt: 'x', seed: 1, sampler: 'restart' })), { preset: 'a1111' });
  const euler = parseGenerateRequest({ prompt: 'x', seed: 1, sampler: 'euler_ancestral', eta: 0.5, restart: { preset: 'sd' } });
  assert.deepEqual(samplerOptions(euler), { eta: 0.5 });
});

test('the old snake_case fields are refused by name at the contract', () => {
  assert.throws(
    () => parseGenerateRequest({ prompt: 'x', seed: 1, sampler: 'restart', restart: { segments: [[4, 2, 0.1, 2]], s_min: 0.1 } }),
    /restart/,
  );
});

test("PNG parameters keep A1111's keys and read back into the camelCase fields", () => {
  const request = parseGenerateRequest({
    prompt: 'x',
    seed: 1,
    sampler: 'restart',
    restart: { segments: [[4, 2, 0.1, 2]], restartGamma: 0.05, sMin: 0.1, sMax: 3 },
  });
  const text = requestToParameters(request, facts);
  assert.match(text, /Restart gamma: 0\.05, Restart s_min: 0\.1, Restart s_max: 3/);
  assert.deepEqual(parametersToRequest(text).request.restart, request.restart);
});
