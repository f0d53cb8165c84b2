// The guided denoiser for a prompt with AND (A1111's composable diffusion, prompt/composable.ts): one UNet call per
// evaluation on [uncond x batch, part_1 x batch, ..., part_k x batch], combined as A1111's
// CFGDenoiser.combine_denoised: D = D_u + sum_i (D_i - D_u) (w_i s). Guidance is linear and D = c_skip x + c_out out,
// so the model outputs are combined first, g = out_u + sum_i w_i (out_i - out_u), and D = c_skip x + c_out (out_u +
// s (g - out_u)) by the usual kernel. Each part may use prompt editing (its own schedule, A1111's
// reconstruct_multicond_batch). A host-side path only: a model that keeps latents on a device (WebGPU) runs these
// evaluations here, through its plain UNet call, as the sampler's host steps do.
import { combineGuidance, scaleInput } from '../kernels/latent-kernels.ts';
import { fromHalfBits } from '../model/half.ts';
import { scheduleIndexAt } from '../prompt/schedule.ts';
import { NonFiniteOutput, type Denoiser } from '../samplers/types.ts';
import { preconditioning } from './preconditioning.ts';
import type { GuidedDenoiserOptions, PromptSchedules } from './denoiser.ts';
import type { TextConditioning, UNetBatch } from './unet.ts';

export type ComposablePart = NonNullable<PromptSchedules['parts']>[number];

/** Each of `list`'s arrays `batch` times, one after another. */
function rows(list: Float32Array[], batch: number): Float32Array {
  const out = new Float32Array(list.reduce((n, a) => n + a.length * batch, 0));
  let at = 0;
  for (const values of list) for (let b = 0; b < batch; b++, at += values.length) out.set(values, at);
  return out;
}

export function composableDenoiser(options: GuidedDenoiserOptions, parts: readonly ComposablePart[]): Denoiser {
  const { unet, schedule, prediction, batch, scale } = options;
  const prompts = options.prompts!;
  if (!Number.isFinite(scale)) throw new RangeError(`guidance scale must be finite (got ${scale})`);
  if (!prompts.uncond?.length) throw new RangeError('a prompt with AND needs the negative prompt encoding');
  const first = parts[0].cond[0];
  for (const text of [...prompts.uncond, ...parts.flatMap((p) => p.cond)]) {
    if (text.tokens !== first.tokens || text.hidden !== first.hidden)
      throw new RangeError(`prompt encodings differ in shape: [${first.tokens}, ${first.hidden}] vs [${text.tokens}, ${text.hidden}]`);
    if ((text.pooled === undefined) !== (first.pooled === undefined))
      throw new RangeError('only some prompt encodings have a pooled vector');
  }
  const weights = parts.map((p) => p.weight);
  // The UNet's rows: k + 1 blocks of the batch's images; its sample, k + 1 copies of x (which holds the batch).
  const k = parts.length,
    unetRows = (k + 1) * batch;
  const mode = options.timestepMode ?? 'fractional';
  const half = unet.halves === true;
  const input: UNetBatch = {
    sample: new Float32Array(0),
    batch: unetRows,
    timestep: 0,
    encoderHiddenStates: new Float32Array(0),
    timeIds: options.timeIds ? rows([options.timeIds], unetRows) : undefined,
  };
  // The states of each choice of texts ([uncond, part_1, ..., part_k] indices), built once.
  const built = new Map<string, { states: Float32Array; pooled?: Float32Array }>();
  let current = '';
  const select = (evaluation: number) => {
    const picks = [scheduleIndexAt(prompts.uncondEnds, evaluation), ...parts.map((p) => scheduleIndexAt(p.condEnds, evaluation))];
    const key = picks.join(',');
    if (key === current) return;
    let entry = built.get(key);
    if (!entry) {
      const texts: TextConditioning[] = [prompts.uncond![picks[0]], ...parts.map((p, i) => p.cond[picks[i + 1]])];
      entry = {
        states: rows(
          texts.map((t) => t.states),
          batch,
        ),
        pooled: first.pooled
          ? rows(
              texts.map((t) => t.pooled!),
              batch,
            )
          : undefined,
      };
      built.set(key, entry);
    }
    input.encoderHiddenStates = entry.states;
    input.textEmbeds = entry.pooled;
    current = key;
  };
  let n = -1,
    head: Float32Array | Uint16Array = new Float32Array(0),
    floats = new Float32Array(0),
    pair = new Float32Array(0),
    outputs: Float64Array[] = [],
    turn = 0,
    evaluation = 0;
  const prepare = (length: number) => {
    n = length;
    input.sample = half ? new Uint16Array((k + 1) * n) : new Float32Array((k + 1) * n);
    head = input.sample.subarray(0, n);
    floats = new Float32Array(half ? (k + 1) * n : 0);
    pair = new Float32Array(2 * n);
    outputs = [new Float64Array(n), new Float64Array(n)];
  };

  const denoiser: Denoiser = async (x, sigma) => {
    select(evaluation++);
    const c = preconditioning(prediction, sigma);
    if (x.length !== n) prepare(x.length);
    // x holds the batch's images: [x] once per row group (uncond, then each part).
    scaleInput(head, x, c.cIn, false);
    for (let r = 1; r <= k; r++) input.sample.copyWithin(r * n, 0, n);
    input.timestep = schedule.sigmaToTimestep(sigma, mode);
    const raw = await unet(input);
    if (raw.length !== input.sample.length)
      throw new RangeError(`UNet returned ${raw.length} values for an input of ${input.sample.length}`);
    const out = raw instanceof Uint16Array ? fromHalfBits(raw, floats) : raw;
    for (let i = 0; i < n; i++) {
      const u = out[i];
      let g = u;
      for (let p = 0; p < k; p++) g += weights[p] * (out[(p + 1) * n + i] - u);
      pair[i] = u;
      pair[n + i] = g;
    }
    turn ^= 1;
    const denoised = outputs[turn];
    if (!combineGuidance(denoised, x, pair, c, scale, true)) throw new NonFiniteOutput(denoised);
    return denoised;
  };
  denoiser.checksFinite = true;
  denoiser.beginRun = () => void (evaluation = 0);
  denoiser.release = () => void (evaluation = 0);
  return denoiser;
}
