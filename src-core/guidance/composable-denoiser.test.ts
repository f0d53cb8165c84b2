// The AND denoiser against A1111's CFGDenoiser: one UNet batch [uncond x batch, part_1 x batch, ..., part_k x batch]
// (A1111 orders the parts first and the uncond last; the order within the call changes nothing), and
// combine_denoised: D = D_u + sum_i (D_i - D_u) (w_i s), computed here on its own in float64 from what the stand-in
// UNet returned. Each part keeps its own prompt schedule (reconstruct_multicond_batch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guidedDenoiser, type PromptSchedules } from './denoiser.ts';
import type { TextConditioning, UNetBatch, UNetCall } from './unet.ts';
import { sd15Schedule } from '../../tests/helpers/sd15-files.ts';

const schedule = sd15Schedule();
const TOKENS = 3,
  HIDDEN = 4,
  POOLED = 2;
const text = (marker: number): TextConditioning => ({
  states: new Float32Array(TOKENS * HIDDEN).fill(marker),
  tokens: TOKENS,
  hidden: HIDDEN,
  pooled: new Float32Array(POOLED).fill(-marker),
});

/** Returns, for each row, marker / 8 + sample x (row + 1) / 4 (exact in float32); records the rows' markers. */
function standIn(): { unet: UNetCall; calls: Array<{ markers: number[]; pooled: number[]; samples: number[][] }> } {
  const calls: Array<{ markers: number[]; pooled: number[]; samples: number[][] }> = [];
  const unet: UNetCall = async (input: UNetBatch) => {
    const rows = input.batch,
      per = input.sample.length / rows;
    const markers = Array.from({ length: rows }, (_, r) => input.encoderHiddenStates[r * TOKENS * HIDDEN]);
    const samples = Array.from({ length: rows }, (_, r) => [...input.sample.subarray(r * per, (r + 1) * per)]);
    calls.push({ markers, pooled: Array.from({ length: rows }, (_, r) => input.textEmbeds![r * POOLED]), samples });
    const out = new Float32Array(input.sample.length);
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < per; j++) out[r * per + j] = markers[r] / 8 + (input.sample[r * per + j] * (r + 1)) / 4;
    return out;
  };
  // A device path the AND denoiser must not take (it has none).
  unet.onDevice = () => {
    throw new Error('no device run for AND');
  };
  return { unet, calls };
}

const NEG = 1,
  P1 = 2,
  P2 = 3,
  P2_LATER = 5;

test('AND: one batched call of every part, combined as A1111 (uncond + sum w_i s (cond_i - uncond)), parts scheduled', async () => {
  const batch = 2,
    perImage = 3;
  const parts: NonNullable<PromptSchedules['parts']> = [
    { cond: [text(P1)], condEnds: [4], weight: 1 },
    { cond: [text(P2), text(P2_LATER)], condEnds: [1, 4], weight: -0.7 },
  ];
  const prompts: PromptSchedules = { cond: parts[0].cond, condEnds: parts[0].condEnds, uncond: [text(NEG)], uncondEnds: [4], parts };
  const { unet, calls } = standIn();
  const scale = 6.5;
  const D = guidedDenoiser({ unet, schedule, prediction: 'epsilon', batch, cond: parts[0].cond[0], uncond: text(NEG), scale, prompts });
  assert.equal(D.onDevice, undefined, 'AND runs on the host path');
  D.beginRun!();
  const x = Float64Array.from({ length: batch * perImage }, (_, i) => 0.3 * i - 0.8);
  const sigmas = [14.6, 7.1, 2.5, 0.9];
  for (const [e, sigma] of sigmas.entries()) {
    const denoised = await D(x, sigma);
    const call = calls[e];
    const p2 = e <= 1 ? P2 : P2_LATER;
    assert.deepEqual(call.markers, [NEG, NEG, P1, P1, p2, p2], `evaluation ${e}: rows`);
    assert.deepEqual(call.pooled, [-NEG, -NEG, -P1, -P1, -p2, -p2], `evaluation ${e}: pooled rows`);
    // Independently: eps-prediction, c_in = 1 / sqrt(sigma^2 + 1), c_skip = 1, c_out = -sigma.
    const cIn = 1 / Math.sqrt(sigma * sigma + 1);
    const n = x.length;
    for (let i = 0; i < n; i++) {
      const input = Math.fround(cIn * x[i]);
      // x once per row block (0 uncond, 1 part 1, 2 part 2); image b's row in block r is r * batch + b.
      for (let block = 0; block < 3; block++) assert.equal(call.samples.flat()[block * n + i], input);
      const b = Math.floor(i / perImage);
      const model = (block: number, marker: number) => marker / 8 + (input * (block * batch + b + 1)) / 4;
      const u = model(0, NEG),
        c1 = model(1, P1),
        c2 = model(2, p2);
      const du = x[i] - sigma * u,
        d1 = x[i] - sigma * c1,
        d2 = x[i] - sigma * c2;
      const expected = du + (d1 - du) * (1 * scale) + (d2 - du) * (-0.7 * scale);
      assert.ok(
        Math.abs(denoised[i] - expected) <= 1e-5 * Math.max(1, Math.abs(expected)),
        `evaluation ${e}, ${i}: ${denoised[i]} vs ${expected}`,
      );
    }
  }
  // A new run counts from 0 again.
  D.beginRun!();
  await D(x, 3);
  assert.equal(calls.at(-1)!.markers[4], P2);
});

test('AND: a part of weight 0 stays in the batch and adds nothing; scale 1 still guides', async () => {
  const parts: NonNullable<PromptSchedules['parts']> = [
    { cond: [text(P1)], condEnds: [4], weight: 1 },
    { cond: [text(P2)], condEnds: [4], weight: 0 },
  ];
  const prompts: PromptSchedules = { cond: parts[0].cond, condEnds: [4], uncond: [text(NEG)], uncondEnds: [4], parts };
  const { unet, calls } = standIn();
  const D = guidedDenoiser({ unet, schedule, prediction: 'v_prediction', batch: 1, cond: text(P1), uncond: text(NEG), scale: 1, prompts });
  const x = Float64Array.from([0.5, -1.25, 2, 0.75]);
  const sigma = 4;
  const denoised = await D(x, sigma);
  assert.deepEqual(calls[0].markers, [NEG, P1, P2]);
  // v-prediction: c_skip = 1 / (sigma^2 + 1), c_out = -sigma / sqrt(sigma^2 + 1); at scale 1 and weights (1, 0), D_1.
  const norm = Math.sqrt(sigma * sigma + 1);
  for (let i = 0; i < x.length; i++) {
    const c1 = P1 / 8 + (Math.fround(x[i] / norm) * 2) / 4;
    const expected = x[i] / (sigma * sigma + 1) - (sigma / norm) * c1;
    assert.ok(Math.abs(denoised[i] - expected) <= 1e-6, `${denoised[i]} vs ${expected}`);
  }
});
