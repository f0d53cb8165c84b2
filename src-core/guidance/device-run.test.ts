// The device run (device-run.ts) against the samplers' own loops: a stand-in for the device that does the documented
// step (StepCoefficients) in float64 on the host, over a stand-in UNet, must give the samplers' latents, their noise
// order, progress, previews, cancellation and non-finite errors. (The real device, WebGPU, is checked with the
// embedded model in pipeline/device-latents.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultNoiseStream } from '../noise/default-noise.ts';
import { batchNoise } from '../noise/index.ts';
import { SAMPLER_NAMES, SAMPLERS, type SamplerOptions } from '../samplers/index.ts';
import { planSampling, runSampler, type SamplingPlan } from '../samplers/run.ts';
import { SamplerError, SamplingCancelled, type Denoiser, type StepInfo } from '../samplers/types.ts';
import { guidedDenoiser } from './denoiser.ts';
import type { DeviceLatents, StepCoefficients, TextConditioning, UNetBatch, UNetCall } from './unet.ts';
import { sd15Schedule } from '../../tests/helpers/sd15-files.ts';

const schedule = sd15Schedule();
const perImage = 2 * 3 * 3;
const encoding = (value: number): TextConditioning => ({ states: new Float32Array(3 * 4).fill(value), tokens: 3, hidden: 4 });

/** A smooth stand-in UNet whose output depends on the sample, the timestep and each row's prompt. */
function standIn(sample: Float32Array | Uint16Array, input: UNetBatch, poison = NaN): Float32Array {
  const n = sample.length / input.batch;
  const states = input.encoderHiddenStates,
    perRow = states.length / input.batch;
  return Float32Array.from(sample, (v, i) => {
    if (input.timestep < poison) return NaN;
    const prompt = states[Math.floor(i / n) * perRow];
    return Math.sin(1.3 * v + input.timestep / 700) * (0.6 + 0.3 * prompt) + 0.01 * (i % n);
  });
}

/** The device's step done on the host in float64 (the UNet's input and output in float32, as on the device). */
class HostLatents implements DeviceLatents {
  x = new Float64Array(0);
  point = new Float64Array(0);
  denoised?: Float64Array;
  previous?: Float64Array;
  sample = new Float32Array(0);
  released = 0;
  reads = 0;
  checks = 0;
  private steps = 0;
  private unchecked: Array<{ step: number; value: number }> = [];

  constructor(
    private readonly rows: number,
    private readonly guided: boolean,
    private readonly poison?: number,
  ) {}

  async start(x: Float64Array, cIn: number) {
    this.x = Float64Array.from(x);
    this.point = this.x;
    this.sample = this.scaled(cIn);
  }

  async step(input: UNetBatch, c: StepCoefficients, noise?: Float64Array) {
    const out = standIn(this.sample, { ...input, batch: this.rows }, this.poison);
    const n = this.x.length;
    const D = Float64Array.from(this.point, (y, i) => {
      const g = this.guided ? out[i] + c.scale * (out[n + i] - out[i]) : out[i];
      return c.cSkip * y + c.cOut * g;
    });
    const [x, y, previous] = [this.x, this.point, this.denoised];
    const extras = (i: number) => c.previous * (previous?.[i] ?? 0) + c.noise * (noise?.[i] ?? 0);
    this.x = x.map((v, i) => c.x * v + c.point * y[i] + c.denoised * D[i] + extras(i));
    const next = c.next;
    this.point = next ? x.map((v, i) => next.x * v + next.point * y[i] + next.denoised * D[i]) : this.x;
    this.previous = previous;
    this.denoised = D;
    this.sample = this.scaled(c.cInNext);
    this.unchecked.push({ step: this.steps++, value: D.find((v) => !Number.isFinite(v)) ?? 0 });
  }

  async firstNotFinite() {
    this.checks++;
    const bad = this.unchecked.find((u) => !Number.isFinite(u.value));
    this.unchecked = [];
    return bad;
  }

  async read(which: 'x' | 'denoised' | 'previous') {
    this.reads++;
    return Float64Array.from(which === 'x' ? this.x : which === 'denoised' ? this.denoised! : this.previous!);
  }

  release() {
    this.released++;
  }

  private scaled(cIn: number) {
    const one = Float32Array.from(this.point, (v) => cIn * v);
    if (!this.guided) return one;
    const both = new Float32Array(2 * one.length);
    both.set(one);
    both.set(one, one.length);
    return both;
  }
}

function setup(prediction: 'epsilon' | 'v_prediction', scale: number, poison?: number) {
  const unet: UNetCall = async (input) => standIn(input.sample, input, poison);
  const made: HostLatents[] = [];
  const options = { unet, schedule, prediction, batch: 2, cond: encoding(1), uncond: encoding(-0.5), scale };
  const host = guidedDenoiser(options);
  const onDevice: UNetCall = Object.assign(async (input: UNetBatch) => unet(input), {
    onDevice: (rows: number, guided: boolean) => {
      made.push(new HostLatents(rows, guided, poison));
      return made.at(-1)!;
    },
  });
  const device = guidedDenoiser({ ...options, unet: onDevice });
  return { host, device, made };
}

const noiseFor = () => batchNoise([new DefaultNoiseStream(5), new DefaultNoiseStream(6)], perImage);

// Every sampler, Restart with jumps: A1111's preset (from 20 steps), and the paper's form with two restarts and churn
// (a jump and a churn draw before the same step).
const RUNS: Array<{ name: string; sampler: string; steps: number; options?: SamplerOptions }> = [
  { name: 'euler', sampler: 'euler', steps: 6 },
  { name: 'euler_ancestral', sampler: 'euler_ancestral', steps: 6, options: { eta: 0.7 } },
  { name: 'dpmpp_2m', sampler: 'dpmpp_2m', steps: 6 },
  { name: 'ddim', sampler: 'ddim', steps: 6 },
  { name: 'heun', sampler: 'heun', steps: 5 },
  { name: 'restart (a1111)', sampler: 'restart', steps: 20, options: { preset: 'a1111' } },
  {
    name: 'restart (segments, churn)',
    sampler: 'restart',
    steps: 8,
    options: { segments: [[3, 2, 0.5, 3]], restart_gamma: 0.3, s_min: 0.2, s_max: 5 },
  },
];

for (const { name, sampler, steps, options } of RUNS) {
  for (const [prediction, scale] of [
    ['epsilon', 7],
    ['v_prediction', 7],
    ['epsilon', 1],
  ] as const) {
    test(`${name}, ${prediction}, scale ${scale}: the device run gives the sampler's latent`, async () => {
      const plan = planSampling(schedule, { sampler, schedule: 'karras', steps, options });
      const { host, device, made } = setup(prediction, scale);
      const run = async (denoiser: typeof host) => {
        const noise = noiseFor();
        const x = noise().map((v) => v * plan.sigmas[0]);
        const sigmas: number[] = [];
        const result = await runSampler(plan, denoiser, x, { noise, onEvaluation: (s) => sigmas.push(s) });
        return { result, sigmas, next: noise()[0] };
      };
      const expected = await run(host);
      const got = await run(device);
      assert.equal(made.length, 1, 'the run went to the device');
      assert.equal(made[0].released, 1);
      assert.deepEqual(got.sigmas, expected.sigmas);
      assert.equal(got.next, expected.next, 'the same number of draws from the noise');
      const worst = Math.max(...expected.result.map((v, i) => Math.abs(v - got.result[i])));
      assert.ok(worst < 1e-9, `largest difference ${worst}`);
      assert.ok(Math.max(...expected.result.map(Math.abs)) > 0.1, 'a latent that is not all zeros');
    });
  }
}

// Samplers whose steps are not LinearSteps (LMS's four-term history, the SDE and second-order ancestral samplers)
// take their own loop on the host even where the denoiser could keep the latent on the device: the same latent, the
// same draws, and no device run made.
const HOST_ONLY = SAMPLER_NAMES.filter((name) => !SAMPLERS[name].linearSteps);
test("samplers without linear steps run their own loop on a device denoiser, with the host run's latent", async () => {
  assert.ok(HOST_ONLY.includes('lms') && !HOST_ONLY.includes('euler'), HOST_ONLY.join(', '));
  for (const sampler of HOST_ONLY) {
    const plan = planSampling(schedule, { sampler, schedule: 'karras', steps: 5, options: {} });
    const { host, device, made } = setup('epsilon', 7);
    const run = async (denoiser: typeof host) => {
      const noise = noiseFor();
      const x = noise().map((v) => v * plan.sigmas[0]);
      const result = await runSampler(plan, denoiser, x, { noise });
      return { result, next: noise()[0] };
    };
    const expected = await run(host);
    const got = await run(device);
    assert.equal(made.length, 0, `${sampler}: no device run`);
    assert.deepEqual(got, expected, sampler);
    assert.ok(Math.max(...expected.result.map(Math.abs)) > 0.1, `${sampler}: a latent that is not all zeros`);
  }
});

/** The steps a run reports to onStep (copies of their arrays), from the same start noise. */
async function reportedSteps(denoiser: Denoiser, plan: SamplingPlan, stepDue?: () => boolean): Promise<StepInfo[]> {
  const steps: StepInfo[] = [];
  const noise = noiseFor();
  const onStep = (info: StepInfo) => steps.push({ ...info, x: Float64Array.from(info.x), denoised: Float64Array.from(info.denoised) });
  await runSampler(
    plan,
    denoiser,
    noise().map((v) => v * plan.sigmas[0]),
    { noise, onStep, stepDue },
  );
  return steps;
}

/** Each step reported from the device is the host's of the same index: its sigmas, estimate and latent. */
function assertHostSteps(got: StepInfo[], expected: StepInfo[]): void {
  for (const s of got) {
    const e = expected[s.step];
    assert.deepEqual([s.step, s.sigma, s.sigmaNext, s.totalSteps], [e.step, e.sigma, e.sigmaNext, e.totalSteps]);
    assert.ok(Math.max(...e.denoised.map((v, j) => Math.abs(v - s.denoised[j]))) < 1e-9, `step ${s.step}'s estimate`);
    assert.ok(Math.max(...e.x.map((v, j) => Math.abs(v - s.x[j]))) < 1e-9, `step ${s.step}'s latent`);
  }
}

test('Heun on the device reports its steps with their first estimate, as the host does', async () => {
  const plan = planSampling(schedule, { sampler: 'heun', schedule: 'karras', steps: 4 });
  const { host, device } = setup('epsilon', 7);
  const got = await reportedSteps(device, plan);
  // 7 evaluations: the checks after the first, the fourth (the end of step 1) and the last (step 3's, Euler's).
  assert.deepEqual(
    got.map((s) => s.step),
    [1, 3],
  );
  assertHostSteps(got, await reportedSteps(host, plan));
});

test('previews come at the checks where a step is due, their latents read back then; the final latent once', async () => {
  const plan = planSampling(schedule, { sampler: 'euler', schedule: 'karras', steps: 6 });
  const { host, device, made } = setup('epsilon', 7);
  const expected = await reportedSteps(host, plan);
  let asked = 0;
  const got = await reportedSteps(device, plan, () => asked++ !== 1);
  assert.equal(expected.length, 6, 'the host loop reports every step');
  // The checks are at steps 0, 3 (the fourth) and 5 (the last); at 3 no preview is due.
  assert.deepEqual(
    got.map((s) => s.step),
    [0, 5],
  );
  assertHostSteps(got, expected);
  assert.equal(made[0].reads, 2 * 2 + 1);
  assert.equal(made[0].checks, 3);
});

test('progress comes as the device is checked: at the first step, every fourth, and the last', async () => {
  const plan = planSampling(schedule, { sampler: 'euler', schedule: 'karras', steps: 10 });
  const { device, made } = setup('epsilon', 7);
  const counts: number[] = [];
  const noise = noiseFor();
  const onEvaluation = () => counts.push(made[0].checks);
  await runSampler(
    plan,
    device,
    noise().map((v) => v * plan.sigmas[0]),
    { noise, onEvaluation },
  );
  // The check after which each evaluation was reported: 1 (step 0), 2 (steps 1-3), 3 (4-7), 4 (8, 9: the last).
  assert.deepEqual(counts, [1, 2, 2, 2, 3, 3, 3, 3, 4, 4]);
});

test('a non-finite estimate is the same error as on the host; a cancelled run stops; both release the device', async () => {
  const plan = planSampling(schedule, { sampler: 'euler', schedule: 'karras', steps: 6 });
  const poison = schedule.sigmaToTimestep(plan.sigmas[2]) + 1e-9; // NaN from the third step on
  const { host, device, made } = setup('epsilon', 7, poison);
  const attempt = (denoiser: typeof host, signal?: AbortSignal) => {
    const noise = noiseFor();
    return runSampler(
      plan,
      denoiser,
      noise().map((v) => v * plan.sigmas[0]),
      { noise, signal },
    );
  };
  const hostError = await attempt(host).then(
    () => assert.fail('no error'),
    (e: Error) => e,
  );
  assert.ok(hostError instanceof SamplerError);
  await assert.rejects(attempt(device), { name: 'SamplerError', message: hostError.message });
  assert.match(hostError.message, /not finite \(NaN\) at step 2, sigma /);
  const controller = new AbortController();
  const { device: fine, made: madeFine } = setup('epsilon', 7);
  let evaluations = 0;
  const noise = noiseFor();
  const running = runSampler(
    plan,
    fine,
    noise().map((v) => v * plan.sigmas[0]),
    {
      noise,
      signal: controller.signal,
      onEvaluation: () => ++evaluations === 2 && controller.abort(),
    },
  );
  await assert.rejects(running, SamplingCancelled);
  // Progress comes at the checks (the first step, then every 4): steps 2 to 4 at once, then the run stops.
  assert.equal(evaluations, 4);
  assert.deepEqual([made[0].released, madeFine[0].released], [1, 1]);
});
