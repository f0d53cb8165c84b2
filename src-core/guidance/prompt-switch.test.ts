// Prompt editing in the denoiser: which prompt states each UNet call gets, against A1111's rule (CFGDenoiser.step
// counts model evaluations from 0; reconstruct_cond_batch takes the first text whose end_at_step is at least it, or
// the first text past them all). The stand-in UNet records the states' marker value of each half.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchNoise } from '../noise/index.ts';
import { DefaultNoiseStream } from '../noise/default-noise.ts';
import { planSampling, runSampler } from '../samplers/run.ts';
import type { LinearStep } from '../samplers/types.ts';
import { guidedDenoiser, type PromptSchedules } from './denoiser.ts';
import type { TextConditioning, UNetBatch, UNetCall } from './unet.ts';
import { sd15Schedule } from '../../tests/helpers/sd15-files.ts';
import { scheduleSteps, passPromptSteps } from '../pipeline/prompt-steps.ts';
import type { GenerateRequest } from '../contract/generate.ts';
import type { JobPlan } from '../pipeline/passes.ts';

const schedule = sd15Schedule();
const perImage = 2 * 2 * 2;
/** A text's states, all `marker`: the UNet stand-in reads the marker back. */
const text = (marker: number): TextConditioning => ({ states: new Float32Array(3 * 4).fill(marker), tokens: 3, hidden: 4 });

/** A UNet that records, per call, the marker of each half ([uncond, cond]) and returns zeros. */
function recordingUnet(): { unet: UNetCall; seen: Array<[number, number]> } {
  const seen: Array<[number, number]> = [];
  const unet: UNetCall = async (input: UNetBatch) => {
    const half = input.encoderHiddenStates.length / 2;
    seen.push([input.encoderHiddenStates[0], input.encoderHiddenStates[half]]);
    return new Float32Array(input.sample.length);
  };
  return { unet, seen };
}

/** The guided denoiser (scale 7, batch 1) of a schedule's texts, its first ones as cond and uncond. */
function switchingDenoiser(unet: UNetCall, prompts: PromptSchedules) {
  return guidedDenoiser({
    unet,
    schedule,
    prediction: 'epsilon',
    batch: 1,
    cond: prompts.cond[0],
    uncond: prompts.uncond![0],
    scale: 7,
    prompts,
  });
}

async function run(sampler: string, steps: number, prompts: PromptSchedules, options = {}) {
  const { unet, seen } = recordingUnet();
  const D = switchingDenoiser(unet, prompts);
  const plan = planSampling(schedule, { sampler, schedule: 'karras', steps, options });
  const noise = batchNoise([new DefaultNoiseStream(1)], perImage);
  const x = noise();
  // Twice: a denoiser is reused from batch to batch, and each run counts from 0 again.
  for (let r = 0; r < 2; r++) {
    seen.length = 0;
    await runSampler(plan, D, Float64Array.from(x), { noise });
  }
  assert.equal(seen.length, plan.evaluations);
  return seen;
}

const A = 1,
  B = 2,
  NEG = 7;

test('Euler, [A:B:5] of 10 steps: evaluations 0..5 use A (A1111 counts from 0 and switches after step 5), 6..9 B', async () => {
  const seen = await run('euler', 10, { cond: [text(A), text(B)], condEnds: [5, 10], uncond: [text(NEG)], uncondEnds: [10] });
  assert.deepEqual(
    seen.map(([, c]) => c),
    [A, A, A, A, A, A, B, B, B, B],
  );
  assert.ok(seen.every(([u]) => u === NEG));
});

test('alternation [A|B] switches at every evaluation after the first two (step 0 and step 1 both take the first)', async () => {
  const seen = await run('euler', 6, {
    cond: [text(A), text(B), text(A), text(B), text(A), text(B)],
    condEnds: [1, 2, 3, 4, 5, 6],
    uncond: [text(NEG)],
    uncondEnds: [6],
  });
  assert.deepEqual(
    seen.map(([, c]) => c),
    [A, A, B, A, B, A],
  );
});

test('Heun counts both evaluations of a step: [A:B:0.5] of 5 steps is made for 10 and switches after evaluation 5', async () => {
  assert.equal(scheduleSteps('heun', 5), 10);
  const seen = await run('heun', 5, { cond: [text(A), text(B)], condEnds: [5, 10], uncond: [text(NEG)], uncondEnds: [10] });
  // 2 x 5 - 1 = 9 evaluations (the last step is Euler's).
  assert.deepEqual(
    seen.map(([, c]) => c),
    [A, A, A, A, A, A, B, B, B],
  );
});

test("Restart's extra evaluations count too, and those past the schedule's last step take its first text again", async () => {
  assert.equal(scheduleSteps('restart', 3), 6);
  // Custom segments add evaluations beyond A1111's 2 x steps: evaluation 7 and on are past [3, 6].
  const seen = await run(
    'restart',
    3,
    { cond: [text(A), text(B)], condEnds: [3, 6], uncond: [text(NEG), text(NEG + 1)], uncondEnds: [1, 6] },
    { segments: [[3, 2, 0.5, 2]] },
  );
  const expectedCond = seen.map((_, e) => (e <= 3 ? A : e <= 6 ? B : A));
  const expectedUncond = seen.map((_, e) => (e <= 1 ? NEG : e <= 6 ? NEG + 1 : NEG));
  assert.ok(seen.length > 7, `${seen.length} evaluations`);
  assert.deepEqual(
    seen.map(([, c]) => c),
    expectedCond,
  );
  assert.deepEqual(
    seen.map(([u]) => u),
    expectedUncond,
  );
});

test('the negative prompt switches on its own schedule, in the same batched call', async () => {
  const seen = await run('euler', 4, { cond: [text(A)], condEnds: [4], uncond: [text(NEG), text(NEG + 1)], uncondEnds: [1, 4] });
  assert.deepEqual(seen, [
    [NEG, A],
    [NEG, A],
    [NEG + 1, A],
    [NEG + 1, A],
  ]);
});

test('a run on the device (LinearSteps) switches at the same evaluations', async () => {
  const prompts: PromptSchedules = { cond: [text(A), text(B)], condEnds: [2, 4], uncond: [text(NEG)], uncondEnds: [4] };
  const seen: number[] = [];
  const unet: UNetCall = async (input) => new Float32Array(input.sample.length);
  unet.onDevice = () => ({
    start: async () => {},
    step: async (input: UNetBatch) => void seen.push(input.encoderHiddenStates[input.encoderHiddenStates.length / 2]),
    firstNotFinite: async () => undefined,
    read: async () => new Float64Array(perImage),
    release: () => {},
  });
  const D = switchingDenoiser(unet, prompts);
  const plan = planSampling(schedule, { sampler: 'euler', schedule: 'karras', steps: 4 });
  const steps = plan.sampler.linearSteps!(plan.sigmas, plan.options) as LinearStep[];
  await D.onDevice!(new Float64Array(perImage), steps, { noise: batchNoise([new DefaultNoiseStream(1)], perImage) });
  assert.deepEqual(seen, [A, A, A, B]);
});

test('the passes: steps doubled for second-order samplers; hires fix counts from the first pass', () => {
  const request = { sampler: 'heun', steps: 10 } as GenerateRequest;
  const job = {
    passes: [{ kind: 'txt2img' }, { kind: 'hires' }],
    hires: { sampler: 'euler', steps: 6 },
  } as unknown as JobPlan;
  assert.deepEqual(passPromptSteps(request, job), [{ steps: 20 }, { steps: 6, hires: { firstPassSteps: 20 } }]);
});
