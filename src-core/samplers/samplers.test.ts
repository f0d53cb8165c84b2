import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runSamplerVectors, type SamplerCase } from '../conformance/sampler-vectors.ts';
import { mixtureDenoiser } from '../conformance/gaussian-mixture.ts';
import { karrasSchedule } from '../schedule/karras.ts';
import { DefaultNoiseStream } from '../noise/default-noise.ts';
import { resolveSampler, SAMPLER_NAMES, SAMPLERS, type SamplerOptions, type SamplerSetting } from './index.ts';
import { planRestart, sdPresetSegments, type RestartSegment } from './restart.ts';
import { NonFiniteOutput, SamplerError, SamplingCancelled, type Denoiser, type SampleContext } from './types.ts';
import { readSharedJson, sharedSkip } from '../../tests/helpers/shared.ts';

// The mixture of the shared sampler vectors' first case (euler-karras12), kept here so that the tests
// below run without the shared folder: 8 dimensions, 3 components.
const gmm = {
  weights: [0.16700925370710476, 0.46198900208983934, 0.3710017442030558],
  means: [
    [
      -0.7971719928242988, -0.42036351144212647, -0.830238604114472, 0.7618268777239189, 0.8079567447187072, 2.6443558432914576,
      1.4000037723946246, 3.439758641015586,
    ],
    [
      0.22063882801709367, -0.07989218474407492, -1.0657297779288677, -0.1779165273797897, 1.7815335304930877, -0.7876090652721395,
      -0.03788854169681019, -1.0172543313694211,
    ],
    [
      -2.9930264281223256, -0.2882922797293447, 1.809967950659039, 2.11765569694177, 1.3015272062143481, 0.37171744548552277,
      -0.3501261246155561, 0.675595694555832,
    ],
  ],
  stds: [0.12602864016394244, 0.15742530937188792, 0.28399370648381295],
};
const sigmas = karrasSchedule(12, 0.0292, 14.6146);

function noiseContext(seed = 1, dim = 8): SampleContext & { draws: () => number } {
  const stream = new DefaultNoiseStream(seed);
  let draws = 0;
  return {
    noise: () => {
      draws++;
      return stream.randn(dim);
    },
    draws: () => draws,
  };
}

function counting(model: Denoiser): { model: Denoiser; calls: () => number } {
  let calls = 0;
  return {
    model: async (x, s) => {
      calls++;
      return model(x, s);
    },
    calls: () => calls,
  };
}

const start = () => Float64Array.from({ length: 8 }, (_, i) => 14.6146 * Math.sin(i + 1));

test('every case of the shared sampler vectors passes (error <= 1e-6, exact NFE)', { skip: sharedSkip() }, async () => {
  const shared = readSharedJson<{ cases: SamplerCase[] }>('conformance/sampler-vectors.json');
  assert.deepEqual(shared.cases[0].gmm, gmm, "the mixture kept above is the first case's");
  const results = await runSamplerVectors(shared);
  assert.equal(results.length, shared.cases.length);
  for (const r of results) assert.ok(r.pass, `${r.id}: ${r.detail}`);
});

test('unseen cases from the reference implementations pass too (tests/fixtures/sampler-vectors-extra.json)', async () => {
  const extra = JSON.parse(readFileSync(new URL('../../tests/fixtures/sampler-vectors-extra.json', import.meta.url), 'utf8'));
  assert.ok(extra.cases.length >= 20);
  for (const r of await runSamplerVectors(extra)) assert.ok(r.pass, `${r.id}: ${r.detail}`);
});

test("the vectors hold a sampler's LinearSteps (a device's runs) to the references too: wrong ones fail", async () => {
  const extra = JSON.parse(readFileSync(new URL('../../tests/fixtures/sampler-vectors-extra.json', import.meta.url), 'utf8'));
  const cases = (extra.cases as SamplerCase[]).filter((c) => c.sampler === 'dpmpp_2m').slice(0, 1);
  assert.equal(cases.length, 1);
  const [right] = await runSamplerVectors({ cases });
  assert.ok(right.pass && /linear_err=/.test(right.detail), right.detail);
  // DPM++ 2M's LinearSteps without their second-order term (D_prev): its own loop is unchanged, its steps are not.
  const definition = SAMPLERS.dpmpp_2m;
  const linearSteps = definition.linearSteps!;
  definition.linearSteps = (sigmas, options) => linearSteps(sigmas, options)?.map((s) => ({ ...s, previous: 0 }));
  try {
    const [wrong] = await runSamplerVectors({ cases });
    assert.equal(wrong.pass, false);
    assert.match(wrong.detail, /its linear steps' error above 1e-6/);
    assert.doesNotMatch(wrong.detail, /-- error above/, 'the loop itself still passes');
  } finally {
    definition.linearSteps = linearSteps;
  }
});

test('every sampler predicts exactly the evaluations it makes, on several schedules', async () => {
  const variants: Array<[string, object]> = [
    ...SAMPLER_NAMES.filter((n) => n !== 'restart').map((n) => [n, {}] as [string, object]),
    ['restart', { segments: [[3, 2, 0.5, 2]] }],
    [
      'restart',
      {
        segments: [
          [4, 1, 0.3, 1],
          [3, 3, 2, 5],
        ],
        restart_gamma: 0.1,
        s_min: 0.05,
        s_max: 3,
      },
    ],
    ['restart', { preset: 'a1111' }],
    ['restart', { preset: 'sd', guidance_scale: 7.5 }],
  ];
  for (const steps of [1, 2, 5, 19, 20, 36, 41]) {
    const schedule = karrasSchedule(steps, 0.0292, 14.6146);
    for (const [name, opts] of variants) {
      const { sampler, options } = resolveSampler(name, opts);
      let predicted: number;
      try {
        predicted = sampler.evaluations(schedule, options);
      } catch (error) {
        // Segments that cannot sit on a short grid are refused before running, consistently.
        assert.ok(error instanceof SamplerError && steps < 5, `${name} ${steps}: ${(error as Error).message}`);
        await assert.rejects(sampler.sample(mixtureDenoiser(gmm), start(), schedule, noiseContext(), options), SamplerError);
        continue;
      }
      const c = counting(mixtureDenoiser(gmm));
      const out = await sampler.sample(c.model, start(), schedule, noiseContext(), options);
      assert.equal(c.calls(), predicted, `${name} ${JSON.stringify(opts)} at ${steps} steps`);
      assert.ok(out.every(Number.isFinite));
    }
  }
});

test('one step: euler and heun take a single evaluation and land on the denoised estimate', async () => {
  const schedule = [14.6146, 0];
  const x = start();
  const expected = await mixtureDenoiser(gmm)(x, 14.6146);
  for (const name of ['euler', 'heun', 'dpmpp_2m', 'euler_ancestral'] as const) {
    const c = counting(mixtureDenoiser(gmm));
    const out = await SAMPLERS[name].sample(c.model, x, schedule, noiseContext(), {});
    assert.equal(c.calls(), 1, name);
    for (let i = 0; i < 8; i++) assert.ok(Math.abs(out[i] - expected[i]) < 1e-12, `${name} element ${i}`);
  }
});

test("samplers do not modify the caller's x", async () => {
  const x = start(),
    copy = Float64Array.from(x);
  for (const name of SAMPLER_NAMES) {
    const opts = name === 'restart' ? { preset: 'a1111' as const } : {};
    await SAMPLERS[name].sample(mixtureDenoiser(gmm), x, sigmas, noiseContext(), opts);
    assert.deepEqual(x, copy, name);
  }
});

test('noise is drawn only where it has an effect', async () => {
  const ancestral = noiseContext();
  await SAMPLERS.euler_ancestral.sample(mixtureDenoiser(gmm), start(), sigmas, ancestral, { eta: 1 });
  assert.equal(ancestral.draws(), sigmas.length - 2, 'one draw per step except the step into 0');
  const deterministic = noiseContext();
  await SAMPLERS.euler_ancestral.sample(mixtureDenoiser(gmm), start(), sigmas, deterministic, { eta: 0 });
  assert.equal(deterministic.draws(), 0, 'eta = 0 is Euler and draws nothing');
  const restart = noiseContext();
  await SAMPLERS.restart.sample(mixtureDenoiser(gmm), start(), sigmas, restart, { segments: [[3, 2, 0.5, 2]], restart_gamma: 0 });
  assert.equal(restart.draws(), 2, 'one draw per restart jump, none for unchurned steps');
});

test('the per-step callback sees every step in order with its sigma, x and denoised', async () => {
  const seen: Array<{ step: number; sigma: number; total: number }> = [];
  await SAMPLERS.restart.sample(
    mixtureDenoiser(gmm),
    start(),
    sigmas,
    {
      ...noiseContext(),
      onStep: (info) => {
        assert.equal(info.x.length, 8);
        assert.equal(info.denoised.length, 8);
        seen.push({ step: info.step, sigma: info.sigma, total: info.totalSteps });
      },
    },
    { segments: [[3, 1, 0.5, 2]] },
  );
  assert.equal(seen.length, 12 + 2);
  seen.forEach((s, i) => {
    assert.equal(s.step, i);
    assert.equal(s.total, 14);
  });
  assert.equal(seen[0].sigma, sigmas[0]);
});

test('restart: invalid segments give clear errors', () => {
  const bad: Array<[unknown, RegExp]> = [
    [[[3, 2, 0.3, 0.2]], /t_max \(0.2\) must be greater than t_min \(0.3\)/],
    [[[3, 2, 0.3, 0.3]], /must be greater than t_min/],
    [[[1, 2, 0.1, 1]], /N_r must be a whole number >= 2/],
    [[[3, 0, 0.1, 1]], /K must be a whole number >= 1/],
    [[[3, 1.5, 0.1, 1]], /K must be a whole number/],
    [[[3, 1, -1, 1]], /t_min > 0/],
    [[[3, 1, 0.1, Infinity]], /finite/],
    [[[3, 1, 0.1]], /must be \[N_r, K, t_min, t_max\]/],
    [[[3, 1, 20, 30]], /snaps to sigma 14.6146, the start of the schedule/],
    [[[3, 1, 0.001, 0.5]], /snaps to sigma 0, the end of the schedule/],
    [[[3, 1, 1.6, 1.62]], /t_max 1.62 must be above sigma 1.65\d+, where t_min snaps/],
  ];
  for (const [segments, message] of bad) {
    assert.throws(() => planRestart(sigmas, { segments: segments as RestartSegment[] }), message, JSON.stringify(segments));
  }
  assert.throws(() => planRestart(sigmas, { preset: 'fancy' as never }), /unknown Restart preset/);
  assert.throws(() => planRestart(sigmas, { preset: 'sd' }), /finite guidance scale/);
});

test('restart: two segments that snap to the same grid point both run there, in the order given', () => {
  const single = (s: RestartSegment) => SAMPLERS.restart.evaluations(sigmas, { segments: [s] });
  const a: RestartSegment = [3, 1, 0.5, 2],
    b: RestartSegment = [4, 2, 0.52, 3];
  const both = SAMPLERS.restart.evaluations(sigmas, { segments: [a, b] });
  const base = SAMPLERS.heun.evaluations(sigmas, {});
  assert.equal(both, base + (single(a) - base) + (single(b) - base));
  const plan = planRestart(sigmas, { segments: [a, b] });
  // After the shared grid point: a's pass (up to 2), then b's two passes (up to 3).
  const jumps = plan.filter((s) => s.noiseBefore.length > 0).map((s) => s.start);
  assert.equal(jumps.length, 3);
  assert.ok(Math.abs(jumps[0] - 2) < 1e-12 && Math.abs(jumps[1] - 3) < 1e-12 && Math.abs(jumps[2] - 3) < 1e-12);
});

test('restart: the paper SD presets are keyed by guidance scale', () => {
  assert.deepEqual(sdPresetSegments(2), [
    [5, 2, 1, 9],
    [5, 2, 5, 10],
  ]);
  assert.deepEqual(sdPresetSegments(3), [[10, 2, 0.1, 3]]);
  assert.deepEqual(sdPresetSegments(7.5), [[10, 2, 0.1, 2]]);
  assert.deepEqual(sdPresetSegments(1), [
    [5, 2, 1, 9],
    [5, 2, 5, 10],
  ]);
});

test('NaN or Inf from the denoiser is an error naming the step and sigma', async () => {
  let calls = 0;
  const broken: Denoiser = async (x, s) => {
    calls++;
    const d = await mixtureDenoiser(gmm)(x, s);
    if (calls === 3) d[2] = NaN;
    return d;
  };
  await assert.rejects(
    SAMPLERS.euler.sample(broken, start(), sigmas, noiseContext(), {}),
    (e: Error) => e instanceof SamplerError && /not finite \(NaN\) at step 2, sigma 6\.\d+/.test(e.message),
  );
  const infinite: Denoiser = async (x) => x.map(() => Infinity);
  await assert.rejects(
    SAMPLERS.heun.sample(infinite, start(), sigmas, noiseContext(), {}),
    /not finite \(Infinity\) at step 0, sigma 14.6146: the model file may hold broken weights \(NaN\), an fp16 model may overflow/,
  );
});

test('a denoiser that checks its own output (checksFinite) throws NonFiniteOutput: the same error, naming the step', async () => {
  for (const name of SAMPLER_NAMES) {
    let calls = 0;
    const checking: Denoiser = async (x, s) => {
      if (++calls === 2) throw new NonFiniteOutput(Float64Array.of(0.5, -Infinity, NaN));
      return mixtureDenoiser(gmm)(x, s);
    };
    checking.checksFinite = true;
    const evaluated: number[] = [];
    await assert.rejects(
      SAMPLERS[name].sample(checking, start(), sigmas, { ...noiseContext(), onEvaluation: (s) => evaluated.push(s) }, {}),
      (e: Error) => e instanceof SamplerError && /^model output is not finite \(-Infinity\) at step [01], sigma \d/.test(e.message),
      name,
    );
    assert.equal(evaluated.length, 1, `${name}: only the first evaluation was accepted`);
  }
});

test('cancellation stops the run between denoiser evaluations', async () => {
  for (const name of SAMPLER_NAMES) {
    const controller = new AbortController();
    let calls = 0;
    const model: Denoiser = async (x, s) => {
      if (++calls === 5) controller.abort();
      return mixtureDenoiser(gmm)(x, s);
    };
    const opts = name === 'restart' ? { segments: [[3, 2, 0.5, 2]] as RestartSegment[] } : {};
    await assert.rejects(
      SAMPLERS[name].sample(model, start(), sigmas, { ...noiseContext(), signal: controller.signal }, opts),
      SamplingCancelled,
    );
    assert.equal(calls, 5, `${name} made no evaluation after the abort`);
  }
  const aborted = AbortSignal.abort();
  let calls = 0;
  await assert.rejects(
    SAMPLERS.euler.sample(
      async (x) => {
        calls++;
        return x;
      },
      start(),
      sigmas,
      { ...noiseContext(), signal: aborted },
      {},
    ),
    SamplingCancelled,
  );
  assert.equal(calls, 0);
});

test('bad schedules and options are refused up front', async () => {
  await assert.rejects(SAMPLERS.euler.sample(mixtureDenoiser(gmm), start(), [1], noiseContext(), {}), /at least one step/);
  await assert.rejects(SAMPLERS.euler.sample(mixtureDenoiser(gmm), start(), [1, 2, 0], noiseContext(), {}), /strictly decrease/);
  await assert.rejects(SAMPLERS.euler.sample(mixtureDenoiser(gmm), start(), [NaN, 0], noiseContext(), {}), /finite/);
  await assert.rejects(
    SAMPLERS.euler_ancestral.sample(mixtureDenoiser(gmm), start(), sigmas, noiseContext(), { eta: -1 }),
    /eta and s_noise must be >= 0/,
  );
  assert.throws(() => resolveSampler('dpm_fast'), /unknown sampler "dpm_fast"/);
});

test("each sampler's `reads` names exactly the settings that change its result (the command line's notes rely on it)", async () => {
  // Restart segments in every run, so that Restart restarts (its noise multiplier acts only there); the restart
  // variant takes them away.
  const base: SamplerOptions = { segments: [[4, 2, 0.1, 2]] };
  const variants: Record<SamplerSetting, SamplerOptions> = {
    eta: { ...base, eta: 0.3 },
    sNoise: { ...base, s_noise: 0.7 },
    restart: {},
    churn: { ...base, s_churn: 1 },
  };
  for (const name of SAMPLER_NAMES) {
    const run = (options: SamplerOptions) => SAMPLERS[name].sample(mixtureDenoiser(gmm), start(), sigmas, noiseContext(), options);
    const plain = await run(base);
    for (const setting of Object.keys(variants) as SamplerSetting[]) {
      const changed = (await run(variants[setting])).some((v, i) => Math.abs(v - plain[i]) > 1e-12);
      assert.equal(changed, SAMPLERS[name].reads?.includes(setting) ?? false, `${name} and ${setting}`);
    }
  }
});
