// A1111's names of the samplers and schedule types added after the first six, in PNG parameters both ways:
// "Sampler: DPM++ 2M SDE, Schedule type: Karras" (A1111 1.9 on) and the older "Sampler: DPM++ 2M SDE Karras".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGenerateRequest, SAMPLER_CHOICES, SCHEDULE_CHOICES } from '../contract/generate.ts';
import { parametersToRequest, requestToParameters } from './metadata.ts';

const facts = { seed: 1, width: 64, height: 64, model: 'm', evaluations: 1 };
const line = (fields: string) => `a cat\nSteps: 20, ${fields}, CFG scale: 7, Seed: 1, Size: 64x64`;

// The labels as A1111's modules/sd_samplers_kdiffusion.py lists them.
const LABELS = {
  lms: 'LMS',
  dpm_2: 'DPM2',
  dpm_2_ancestral: 'DPM2 a',
  dpmpp_2s_ancestral: 'DPM++ 2S a',
  dpmpp_sde: 'DPM++ SDE',
  dpmpp_2m_sde: 'DPM++ 2M SDE',
  dpmpp_3m_sde: 'DPM++ 3M SDE',
  dpmpp_2m_sde_heun: 'DPM++ 2M SDE Heun',
  lcm: 'LCM',
};

test("A1111's sampler labels read as the new samplers, with a schedule type or with the old Karras/Exponential suffix", () => {
  for (const [name, label] of Object.entries(LABELS)) {
    const modern = parametersToRequest(line(`Sampler: ${label}, Schedule type: Exponential`)).request;
    assert.deepEqual([modern.sampler, modern.schedule], [name, 'exponential'], label);
    const old = parametersToRequest(line(`Sampler: ${label} Karras`)).request;
    assert.deepEqual([old.sampler, old.schedule], [name, 'karras'], `${label} Karras`);
  }
  const exp = parametersToRequest(line('Sampler: DPM++ 3M SDE Exponential')).request;
  assert.deepEqual([exp.sampler, exp.schedule], ['dpmpp_3m_sde', 'exponential']);
  const heun = parametersToRequest(line('Sampler: DPM++ 2M SDE Heun Exponential')).request;
  assert.deepEqual([heun.sampler, heun.schedule], ['dpmpp_2m_sde_heun', 'exponential']);
  assert.match(parametersToRequest(line('Sampler: DPM fast')).notes.join('\n'), /"DPM fast" is not available/);
});

test("A1111's schedule type labels read as the new schedules", () => {
  const cases: [string, string][] = [
    ['Exponential', 'exponential'],
    ['Polyexponential', 'polyexponential'],
    ['SGM Uniform', 'sgm_uniform'],
    ['SGMUniform', 'sgm_uniform'],
    ['Simple', 'simple'],
    ['Uniform', 'normal'],
    ['Normal', 'normal'],
    ['KL Optimal', 'kl_optimal'],
    ['Align Your Steps', 'align_your_steps'],
    ['Beta', 'beta'],
  ];
  for (const [label, schedule] of cases) {
    const { request, notes } = parametersToRequest(line(`Sampler: Euler, Schedule type: ${label}`));
    assert.equal(request.schedule, schedule, label);
    assert.deepEqual(notes, [], label);
  }
  assert.match(
    parametersToRequest(line('Sampler: Euler, Schedule type: Karras Exponential')).notes.join('\n'),
    /"Karras Exponential" is not available/,
  );
  const beta = parametersToRequest(line('Sampler: Euler, Schedule type: Beta, Beta schedule alpha: 0.6, Beta schedule beta: 0.5'));
  assert.equal(beta.request.schedule, 'beta');
  assert.deepEqual(beta.notes, ['Beta schedule beta 0.5 is not available here: the Beta schedule uses 0.6']);
});

test("Schedule type: Automatic gives each new sampler A1111's default schedule (its sampler list's 'scheduler')", () => {
  const expected = {
    lms: 'normal',
    dpm_2: 'karras',
    dpm_2_ancestral: 'karras',
    dpmpp_2s_ancestral: 'karras',
    dpmpp_sde: 'karras',
    dpmpp_2m_sde: 'exponential',
    dpmpp_3m_sde: 'exponential',
    dpmpp_2m_sde_heun: 'exponential',
    lcm: 'normal',
  };
  for (const [name, schedule] of Object.entries(expected)) {
    const label = LABELS[name as keyof typeof LABELS];
    assert.equal(parametersToRequest(line(`Sampler: ${label}, Schedule type: Automatic`)).request.schedule, schedule, label);
  }
});

test("the SDE samplers import without a note (A1111's Brownian trees are the engine's), but Fooocus's with one", () => {
  for (const label of ['DPM++ SDE', 'DPM++ 2M SDE', 'DPM++ 3M SDE', 'DPM++ 2M SDE Heun']) {
    assert.deepEqual(parametersToRequest(line(`Sampler: ${label}, Schedule type: Karras`)).notes, [], label);
    const fooocus = parametersToRequest(line(`Sampler: ${label}, Schedule type: Karras, Version: Fooocus v2.5.5`));
    assert.match(fooocus.notes.join('\n'), /Fooocus draws its noise from a Brownian tree built on the GPU/, label);
  }
  for (const label of ['DPM2 a', 'DPM++ 2S a', 'LMS', 'DPM2', 'LCM']) {
    assert.deepEqual(parametersToRequest(line(`Sampler: ${label}, Schedule type: Karras`)).notes, [], label);
  }
});

test('every sampler and schedule writes A1111 labels that read back to the same request fields', () => {
  for (const sampler of SAMPLER_CHOICES) {
    for (const schedule of SCHEDULE_CHOICES) {
      const request = parseGenerateRequest({ prompt: 'x', seed: 1, sampler, schedule });
      const text = requestToParameters(request, facts);
      const back = parametersToRequest(text).request;
      assert.equal(back.sampler, sampler, text);
      if (sampler !== 'ddim') assert.equal(back.schedule, schedule, text);
    }
  }
  const text = requestToParameters(parseGenerateRequest({ prompt: 'x', seed: 1, sampler: 'dpmpp_2m_sde', schedule: 'sgm_uniform' }), facts);
  assert.match(text, /Sampler: DPM\+\+ 2M SDE, Schedule type: SGM Uniform/);
  const beta = requestToParameters(parseGenerateRequest({ prompt: 'x', seed: 1, sampler: 'lcm', schedule: 'beta' }), facts);
  assert.match(beta, /Sampler: LCM, Schedule type: Beta, .*Beta schedule alpha: 0\.6, Beta schedule beta: 0\.6/);
});
