// Prompt editing through whole jobs on the embedded model's real networks: hires fix's second pass and img2img.
// A recording stand-in around the real UNet session (helpers/unet-recorder.ts) names the prompt states of every
// evaluation; the expected sequences are written from A1111's rules, not from the engine's code:
// - processing.py: setup_conds makes the first pass's schedule for the sampler's total_steps (firstpass_steps, 2 x
//   steps for Heun); calculate_hr_conds makes the second pass's for its own total_steps, with hires_steps set;
// - prompt_parser.py get_learned_conditioning_prompt_schedules with hires_steps: a `when` with a dot becomes
//   int((when - 1.0) x hires total steps), one without int(when - firstpass_steps), capped at the steps; 0 or less
//   means the `to` text throughout that pass;
// - sd_samplers_cfg_denoiser.py CFGDenoiser: `step` counts evaluations from 0 in each pass (sampler initialize), and
//   reconstruct_cond_batch takes the first text whose end_at_step >= step;
// - img2img: the schedule is made for the steps asked (setup_conds), while sd_samplers_common.setup_img2img_steps runs
//   t_enc + 1 = int(strength x steps) + 1 of them (or exactly the steps with "exact steps"); hires fix's second pass
//   always runs exactly its steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { decodeInputImage } from '../src-core/image/decode.ts';
import { nameCalls, recordUnet, type RecordedCall } from './helpers/unet-recorder.ts';

const EMBEDDED = fileURLToPath(new URL('../models/restart-shapes-64/', import.meta.url));
const INIT = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', 'img2img', 'inputs', 'init-64.png')));
const model = await loadModel(EMBEDDED);
test.after(() => model.dispose());

const RED = 'a red circle on a blue background';
const SQUARE = 'a yellow square on a green background';
const base = { seed: 11, steps: 8, sampler: 'euler' as const, cfgScale: 7, negativePrompt: 'blurry' };
const hires = { scale: 1.5, steps: 4, strength: 0.6, upscaler: 'latent' as const, sampler: 'euler' as 'euler' | 'heun' };

async function run(request: Record<string, unknown>, init = false): Promise<{ data: Uint8Array; calls: RecordedCall[] }> {
  const recorder = recordUnet(model);
  try {
    const result = await generate(
      model,
      { ...base, ...request, ...(init ? { initImage: 'file:init-64.png' } : {}) },
      init ? { initImage: INIT } : {},
    );
    return { data: (await decodeInputImage(result.images[0].png)).data, calls: recorder.calls };
  } finally {
    recorder.stop();
  }
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const repeat = (name: string, n: number) => Array<string>(n).fill(name);

/** The digests of RED's and SQUARE's prompt states, from plain runs. */
async function names(request: Record<string, unknown>, init = false) {
  const red = await run({ ...request, prompt: RED }, init);
  const square = await run({ ...request, prompt: SQUARE }, init);
  assert.ok(red.calls.every((c) => c.cond === red.calls[0].cond) && red.calls[0].cond !== square.calls[0].cond);
  return { red, square, names: { A: red.calls[0].cond, B: square.calls[0].cond } };
}

test('hires fix: the second pass has its own schedule, a whole step counted from the first pass end, a fraction from 1.0', async () => {
  const { red, square, names: n } = await names({ hires });
  assert.equal(red.calls.length, 8 + 4);
  const sequence = async (prompt: string) => {
    const result = await run({ prompt, hires });
    return { ...result, names: nameCalls(result.calls, 'cond', n) };
  };
  // [A:B:10]: first pass min(8, 10) = 8, A at evaluations 0..7; second pass 10 - 8 = 2, A at 0..2, B at 3.
  const whole = await sequence(`[${RED}:${SQUARE}:10]`);
  assert.deepEqual(whole.names, [...repeat('A', 8), 'A', 'A', 'A', 'B']);
  // [A:B:1.5]: first pass int(1.5 x 8) = 12, capped at 8; second pass int((1.5 - 1) x 4) = 2: the same evaluations.
  const fraction = await sequence(`[${RED}:${SQUARE}:1.5]`);
  assert.deepEqual(fraction.names, whole.names);
  assert.ok(same(fraction.data, whole.data), 'the same schedules give the same pixels');
  assert.ok(!same(whole.data, red.data) && !same(whole.data, square.data));
  // [A:B:0.25]: first pass int(0.25 x 8) = 2, B from evaluation 3; second pass int((0.25 - 1) x 4) = -3: B throughout.
  const early = await sequence(`[${RED}:${SQUARE}:0.25]`);
  assert.deepEqual(early.names, [...repeat('A', 3), ...repeat('B', 5), ...repeat('B', 4)]);
  // [A:B:5]: first pass A at 0..5; second pass 5 - 8 = -3, B throughout (it does not start again from A).
  const mid = await sequence(`[${RED}:${SQUARE}:5]`);
  assert.deepEqual(mid.names, [...repeat('A', 6), ...repeat('B', 2), ...repeat('B', 4)]);
  // [A:B:12]: A through the first pass, second pass 12 - 8 = 4 = its steps: A throughout, the plain image exactly.
  const late = await sequence(`[${RED}:${SQUARE}:12]`);
  assert.deepEqual(late.names, repeat('A', 12));
  assert.ok(same(late.data, red.data));
  // [A:B:0]: B in both passes, the plain image of B exactly.
  const zero = await sequence(`[${RED}:${SQUARE}:0]`);
  assert.ok(same(zero.data, square.data));
});

test('hires fix after Heun: the second pass counts from the first pass total steps (2 x 8), and Heun there doubles its own', async () => {
  const first = { sampler: 'heun' as const };
  const { names: n } = await names({ ...first, hires });
  const sequence = async (prompt: string, h = hires) => nameCalls((await run({ ...first, prompt, hires: h })).calls, 'cond', n);
  // First pass: 2 x 8 - 1 = 15 evaluations, its schedule made for 16: [A:B:18] is A throughout it (min(16, 18)).
  // Second pass (Euler, 4): 18 - 16 = 2, A at 0..2. Counted from the 8 steps asked, it would be 10 > 4: A throughout.
  assert.deepEqual(await sequence(`[${RED}:${SQUARE}:18]`), [...repeat('A', 15), 'A', 'A', 'A', 'B']);
  // Second pass Heun, 4 steps: 7 evaluations, its schedule made for 8; [A:B:1.5]: int(0.5 x 8) = 4, A at 0..4.
  assert.deepEqual(await sequence(`[${RED}:${SQUARE}:1.5]`, { ...hires, sampler: 'heun' }), [
    ...repeat('A', 15),
    ...repeat('A', 5),
    'B',
    'B',
  ]);
});

test('img2img: the schedule is made for the steps asked, the run is int(strength x steps) + 1 evaluations from 0', async () => {
  const request = { strength: 0.5 };
  const { red, square, names: n } = await names(request, true);
  assert.equal(red.calls.length, 5);
  const sequence = async (prompt: string, extra = {}) => {
    const result = await run({ ...request, ...extra, prompt }, true);
    return { ...result, names: nameCalls(result.calls, 'cond', n) };
  };
  // [A:B:0.5] of 8 steps: int(0.5 x 8) = 4, A at evaluations 0..4: all five, the plain image of A exactly. (Made
  // for the 5 evaluations run instead, it would switch after evaluation 2.)
  const half = await sequence(`[${RED}:${SQUARE}:0.5]`);
  assert.deepEqual(half.names, repeat('A', 5));
  assert.ok(same(half.data, red.data));
  const three = await sequence(`[${RED}:${SQUARE}:3]`);
  assert.deepEqual(three.names, ['A', 'A', 'A', 'A', 'B']);
  assert.ok(!same(three.data, red.data) && !same(three.data, square.data));
  assert.ok(same((await sequence(`[${RED}:${SQUARE}:0]`)).data, square.data));
  // Exact steps: 8 evaluations (a schedule of int(8 / 0.5) = 16 sigmas), the prompt schedule still made for 8.
  const exact = await sequence(`[${RED}:${SQUARE}:0.5]`, { exactSteps: true });
  assert.deepEqual(exact.names, [...repeat('A', 5), ...repeat('B', 3)]);
});
