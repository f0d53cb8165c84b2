// The request's sigma churn (sChurn, sTmin, sTmax) reaches Euler, Heun and DPM2 as k-diffusion's s_churn, s_tmin,
// s_tmax, and PNG parameters carry it under A1111's keys, only for those samplers, both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGenerateRequest } from '../contract/generate.ts';
import { parametersToRequest, requestToParameters } from './metadata.ts';
import { samplerOptions } from './txt2img.ts';

const facts = { seed: 5, width: 64, height: 64, model: 'm', evaluations: 20 };
const churn = { sChurn: 0.5, sTmin: 0.2, sTmax: 5, sNoise: 1.1 };

test('samplerOptions gives the churn to Euler, Heun and DPM2 only (DDIM runs Euler without it)', () => {
  for (const sampler of ['euler', 'heun', 'dpm_2']) {
    const options = samplerOptions(parseGenerateRequest({ prompt: 'x', seed: 1, sampler, ...churn }));
    assert.deepEqual(options, { s_noise: 1.1, s_churn: 0.5, s_tmin: 0.2, s_tmax: 5 }, sampler);
  }
  for (const sampler of ['ddim', 'euler_ancestral', 'dpmpp_2m']) {
    assert.deepEqual(samplerOptions(parseGenerateRequest({ prompt: 'x', seed: 1, sampler, ...churn })), { s_noise: 1.1 }, sampler);
  }
});

test('the contract takes the churn settings and refuses them out of range', () => {
  const request = parseGenerateRequest({ prompt: 'x', seed: 1, sChurn: 0.5, sTmin: 0.1, sTmax: 4 });
  assert.deepEqual([request.sChurn, request.sTmin, request.sTmax], [0.5, 0.1, 4]);
  assert.throws(() => parseGenerateRequest({ prompt: 'x', seed: 1, sChurn: -0.1 }), /sChurn: Too small: expected number to be >=0/);
  assert.throws(() => parseGenerateRequest({ prompt: 'x', seed: 1, sTmax: 0 }), /sTmax: Too small: expected number to be >0/);
  assert.throws(() => parseGenerateRequest({ prompt: 'x', seed: 1, sTmin: -1 }), /sTmin: Too small: expected number to be >=0/);
});

test('PNG parameters: "Sigma churn", "Sigma tmin", "Sigma tmax" written for Euler, Heun, DPM2 and read back', () => {
  const request = parseGenerateRequest({ prompt: 'a castle', seed: 5, sampler: 'heun', ...churn });
  const text = requestToParameters(request, facts);
  assert.match(text, /, Sigma noise: 1.1, Sigma churn: 0.5, Sigma tmin: 0.2, Sigma tmax: 5,/);
  const back = parametersToRequest(text);
  assert.deepEqual([back.request.sChurn, back.request.sTmin, back.request.sTmax, back.notes], [0.5, 0.2, 5, []]);
  // Not for a sampler that does not take them, nor at their defaults.
  const ancestral = requestToParameters(parseGenerateRequest({ prompt: 'a', seed: 5, sampler: 'euler_ancestral', ...churn }), facts);
  assert.doesNotMatch(ancestral, /Sigma (churn|tmin|tmax)/);
  const defaults = requestToParameters(parseGenerateRequest({ prompt: 'a', seed: 5, sampler: 'euler', sChurn: 0, sTmin: 0 }), facts);
  assert.doesNotMatch(defaults, /Sigma (churn|tmin|tmax)/);
  // Hires fix's own sampler counts too.
  const hires = parseGenerateRequest({
    prompt: 'a',
    seed: 5,
    sampler: 'euler_ancestral',
    sChurn: 1,
    hires: { scale: 2, sampler: 'dpm_2' },
  });
  assert.match(requestToParameters(hires, facts), /Sigma churn: 1/);
});

test("an A1111 file's churn is applied, without the old not-applied note; its tmax of 0 or inf is no limit", () => {
  const line = (extra: string) => `a castle\nSteps: 20, Sampler: Euler, Schedule type: Karras, Seed: 5, Size: 64x64, ${extra}`;
  const read = parametersToRequest(line('Sigma churn: 0.3, Sigma tmin: 0.1, Sigma tmax: 0'));
  assert.deepEqual([read.request.sChurn, read.request.sTmin, read.request.sTmax, read.notes], [0.3, 0.1, undefined, []]);
  assert.equal(parametersToRequest(line('Sigma churn: 0.3, Sigma tmax: inf')).request.sTmax, undefined);
  const bad = parametersToRequest(line('Sigma churn: -2'));
  assert.equal(bad.request.sChurn, undefined);
  assert.match(bad.notes.join('\n'), /Sigma churn "-2" in the file is not a number this app can take; ignored/);
});
