// Turns a UNet (eps- or v-prediction, on SD's discrete timesteps) into the sampler's denoiser
// D(x, sigma), with classifier-free guidance batched into a single UNet call per evaluation.
import type { DiscreteSchedule, TimestepMode } from '../schedule/discrete.ts';
import { NonFiniteOutput, type Denoiser } from '../samplers/types.ts';
import type { PredictionType, TextConditioning, UNetBatch, UNetCall } from './unet.ts';
import { combineGuidance, scaleInput } from '../kernels/latent-kernels.ts';
import { LatentWorkspace } from '../kernels/kernel-memory.ts';
import { preconditioning } from './preconditioning.ts';
import { deviceRun } from './device-run.ts';
import { scheduleIndexAt } from '../prompt/schedule.ts';
import { composableDenoiser } from './composable-denoiser.ts';

export interface GuidedDenoiserOptions {
  unet: UNetCall;
  schedule: DiscreteSchedule;
  prediction: PredictionType;
  /** Images in the latent batch; x holds batch * perImage values. */
  batch: number;
  cond: TextConditioning;
  /** The negative (or empty) prompt; needed unless scale is 1. */
  uncond?: TextConditioning;
  /** Guidance scale w: D = D_u + w (D_c - D_u). At w = 1 the unconditional half is skipped. */
  scale: number;
  /** SDXL: one image's time_ids (original size, crop top-left, target size), the same for both halves as in diffusers and A1111. */
  timeIds?: Float32Array;
  timestepMode?: TimestepMode;
  /**
   * Prompt editing and alternation (prompt/schedule.ts): each text's conditioning and the step it ends at, for the
   * prompt and the negative prompt. Evaluation e of a run (from 0, every evaluation counted as A1111's CFGDenoiser
   * counts its steps) uses the first text whose end is at least e. `cond` and `uncond` above are the first texts.
   */
  prompts?: PromptSchedules;
}

export interface PromptSchedules {
  cond: TextConditioning[];
  condEnds: number[];
  uncond?: TextConditioning[];
  uncondEnds: number[];
  /**
   * A prompt with AND (prompt/composable.ts): every part's texts, ends and weight, the first part's being cond and
   * condEnds above. The denoiser then runs all parts in one call (composable-denoiser.ts), guided at any scale.
   */
  parts?: Array<{ cond: TextConditioning[]; condEnds: number[]; weight: number }>;
}

function repeatRows(parts: Array<{ values: Float32Array; times: number }>): Float32Array {
  const total = parts.reduce((n, p) => n + p.values.length * p.times, 0);
  const out = new Float32Array(total);
  let offset = 0;
  for (const { values, times } of parts) {
    for (let i = 0; i < times; i++, offset += values.length) out.set(values, offset);
  }
  return out;
}

/** [uncond x batch, cond x batch] (or cond x batch alone) of one per-prompt array. */
function batchOf(
  pick: (c: TextConditioning) => Float32Array,
  cond: TextConditioning,
  uncond: TextConditioning | undefined,
  batch: number,
): Float32Array {
  return uncond
    ? repeatRows([
        { values: pick(uncond), times: batch },
        { values: pick(cond), times: batch },
      ])
    : repeatRows([{ values: pick(cond), times: batch }]);
}

/** The arrays a sampling run may take from the denoiser's workspace (runArray): the latent and Heun's two. */
const RUN_ARRAYS = 4;

/**
 * D(x, sigma) over the UNet. The array it returns is overwritten by the call after next (see Denoiser), and
 * the UNet's `sample` input is the same array at every call. It checks its own output for NaN and infinities
 * (checksFinite), in the pass that computes it. Its outputs, the UNet's input and a run's arrays (runArray) live in
 * one workspace, where the kernels work on them without copies.
 */
export function guidedDenoiser(options: GuidedDenoiserOptions): Denoiser {
  const { unet, schedule, prediction, batch, cond, uncond, scale } = options;
  const prompts = options.prompts;
  if (prompts?.parts) return composableDenoiser(options, prompts.parts);
  if (!Number.isFinite(scale)) throw new RangeError(`guidance scale must be finite (got ${scale})`);
  if (prediction !== 'epsilon' && prediction !== 'v_prediction')
    throw new RangeError(`unsupported prediction type "${String(prediction)}"`);
  const guided = scale !== 1;
  if (guided && !uncond) throw new RangeError('classifier-free guidance needs the unconditional (negative prompt) encoding');
  for (const other of [...(guided ? [uncond!, ...(prompts?.uncond ?? [])] : []), ...(prompts?.cond ?? [])]) {
    if (other.tokens !== cond.tokens || other.hidden !== cond.hidden) {
      throw new RangeError(`prompt encodings differ in shape: [${cond.tokens}, ${cond.hidden}] vs [${other.tokens}, ${other.hidden}]`);
    }
    if ((cond.pooled === undefined) !== (other.pooled === undefined))
      throw new RangeError('the prompt and negative prompt encodings differ: only one has a pooled vector');
  }
  // [uncond x batch, cond x batch], built once for the whole run.
  const context = batchOf((c) => c.states, cond, guided ? uncond : undefined, batch);
  const textEmbeds = cond.pooled ? batchOf((c) => c.pooled!, cond, guided ? uncond : undefined, batch) : undefined;
  const rows = guided ? 2 * batch : batch;
  const timeIds = options.timeIds ? repeatRows([{ values: options.timeIds, times: rows }]) : undefined;
  const mode = options.timestepMode ?? 'fractional';

  // Buffers reused across evaluations (a 4x64x64 latent's arrays cost more to allocate than to fill):
  // the UNet's input, and two outputs in turn, because samplers keep the previous estimate for one more
  // call (DPM++ 2M's history, Heun's first estimate) but never longer.
  // The UNet's batch is one object too, its sample and timestep rewritten at each call.
  const input: UNetBatch = { sample: new Float32Array(0), batch: rows, timestep: 0, encoderHiddenStates: context, textEmbeds, timeIds };
  let outputs: Float64Array[] = [];
  let turn = 0;
  let workspace: LatentWorkspace | undefined;
  const workspaceFor = (n: number) => {
    if (workspace?.length !== n) workspace = LatentWorkspace.fits(n) ? LatentWorkspace.take(n, 2 + RUN_ARRAYS) : undefined;
    return workspace;
  };
  // An fp16 UNet takes the scaled latents as half bit patterns and gives its output so: the kernels convert on the way.
  const half = unet.halves === true;
  let prepared = -1;
  const prepare = (n: number) => {
    const own = workspaceFor(n),
      values = guided ? 2 * n : n;
    input.sample = own ? own.unetInput(half, values) : half ? new Uint16Array(values) : new Float32Array(values);
    input.output = own?.unetOutput(half, values);
    outputs = own ? [own.array(0)!, own.array(1)!] : [new Float64Array(n), new Float64Array(n)];
    prepared = n;
  };

  const denoiser: Denoiser = async (x, sigma) => {
    const c = preconditioning(prediction, sigma);
    const n = x.length;
    if (n !== prepared) prepare(n);
    const sample = input.sample;
    scaleInput(sample, x, c.cIn, guided);
    input.timestep = schedule.sigmaToTimestep(sigma, mode);
    const out = await unet(input);
    if (out.length !== sample.length) throw new RangeError(`UNet returned ${out.length} values for an input of ${sample.length}`);
    turn ^= 1;
    const denoised = outputs[turn];
    if (!combineGuidance(denoised, x, out, c, scale, guided)) throw new NonFiniteOutput(denoised);
    return denoised;
  };
  denoiser.checksFinite = true;
  // On a device that keeps the latents (WebGPU), sampling runs go there whole (runSampler).
  const promptAt = prompts && promptSwitch(prompts, input, batch, guided);
  const onDevice = unet.onDevice;
  if (onDevice)
    denoiser.onDevice = deviceRun({
      latents: () => onDevice(rows, guided),
      input,
      schedule,
      prediction,
      scale,
      timestepMode: mode,
      promptAt,
    });
  denoiser.runArray = (length, k) => (k < RUN_ARRAYS ? workspaceFor(length)?.array(2 + k) : undefined);
  denoiser.release = () => {
    workspace?.release();
    workspace = undefined;
    prepared = -1;
  };
  if (!promptAt) return denoiser;
  // Prompt editing: the prompt states are set before each evaluation (the common case keeps the plain denoiser).
  let evaluation = 0;
  const switching: Denoiser = (x, sigma) => {
    promptAt(evaluation++);
    return denoiser(x, sigma);
  };
  return Object.assign(switching, denoiser, {
    beginRun: () => void (evaluation = 0),
    release: () => {
      evaluation = 0;
      denoiser.release!();
    },
  });
}

/**
 * Sets the UNet batch's prompt states for evaluation e of a run (A1111's reconstruct_cond_batch at CFGDenoiser.step
 * e). Each pair of texts' [uncond x batch, cond x batch] is built once, and the batch takes a new array only when
 * the pair changes (the UNet call then feeds it again).
 */
function promptSwitch(prompts: PromptSchedules, input: UNetBatch, batch: number, guided: boolean): (evaluation: number) => void {
  const built = new Map<string, { context: Float32Array; textEmbeds?: Float32Array }>();
  let current = '0,0';
  built.set(current, { context: input.encoderHiddenStates, textEmbeds: input.textEmbeds });
  return (evaluation) => {
    const c = scheduleIndexAt(prompts.condEnds, evaluation);
    const u = guided ? scheduleIndexAt(prompts.uncondEnds, evaluation) : 0;
    const key = `${c},${u}`;
    if (key === current) return;
    let pair = built.get(key);
    if (!pair) {
      const cond = prompts.cond[c],
        uncond = guided ? prompts.uncond![u] : undefined;
      pair = {
        context: batchOf((t) => t.states, cond, uncond, batch),
        textEmbeds: cond.pooled ? batchOf((t) => t.pooled!, cond, uncond, batch) : undefined,
      };
      built.set(key, pair);
    }
    input.encoderHiddenStates = pair.context;
    input.textEmbeds = pair.textEmbeds;
    current = key;
  };
}
