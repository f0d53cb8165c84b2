// The Node checks of the embedded model (sample-onnx.ts, check-speed.ts): onnxruntime-node sessions for an export's
// text encoder, UNet and VAE decoder, and txt2img for a batch of different prompts. The sigma table, schedules,
// noise, preconditioning and Euler sampler are the engine's (src-core), so these checks measure what the app runs;
// only the batching of several prompts in one UNet call is this file's own (the app's pipeline takes one prompt).
import * as ort from 'onnxruntime-node';
import fs from 'node:fs';
import path from 'node:path';
import { encode as encodePng } from 'fast-png';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { DiscreteSchedule, type SchedulerConfig } from '../src-core/schedule/discrete.ts';
import { buildSchedule } from '../src-core/schedule/schedules.ts';
import { preconditioning } from '../src-core/guidance/denoiser.ts';
import { batchNoise, createNoiseStream } from '../src-core/noise/index.ts';
import { sampleEuler } from '../src-core/samplers/euler.ts';
import type { Denoiser, NoiseSampler } from '../src-core/samplers/types.ts';

// MODEL_DIR (env) points the checks at another export, e.g. EXPORT_DIR of train.py
export const MODEL_DIR = process.env.MODEL_DIR ? path.resolve(process.env.MODEL_DIR) : DEFAULT_MODEL_DIR;

// CLIP ids (SD 1.5 tokenizer) of two prompts, equal to the tokenizer conformance vectors
export const IDS_RED_CIRCLE_ON_BLUE = [49406, 320, 736, 7117, 525, 320, 1746, 5994, 49407];
export const IDS_EMPTY = [49406, 49407];

export function pad77(ids: readonly number[]): Int32Array {
  const out = new Int32Array(77).fill(49407);
  out.set(ids.slice(0, 77));
  return out;
}

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));

export interface LiteModel {
  text: ort.InferenceSession;
  unet: ort.InferenceSession;
  vae: ort.InferenceSession;
  schedule: DiscreteSchedule; // from the folder's scheduler_config.json, as the engine builds it
  scaling: number;
  factor: number; // pixels per latent cell (diffusers' vae_scale_factor)
}

export async function loadModel(dir = MODEL_DIR, threads = 2): Promise<LiteModel> {
  const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const session = (part: string) => ort.InferenceSession.create(path.join(dir, part, 'model.onnx'), opts);
  const vaeCfg = readJson(path.join(dir, 'vae_decoder', 'config.json')) as { scaling_factor: number; block_out_channels: number[] };
  return {
    text: await session('text_encoder'),
    unet: await session('unet'),
    vae: await session('vae_decoder'),
    schedule: new DiscreteSchedule(readJson(path.join(dir, 'scheduler', 'scheduler_config.json')) as SchedulerConfig),
    scaling: vaeCfg.scaling_factor,
    factor: 2 ** (vaeCfg.block_out_channels.length - 1),
  };
}

export interface GenerateOptions {
  steps?: number;
  guidance?: number;
  seed?: number; // image b of the batch draws from the engine's default noise source with seed + b (as the app)
  size?: number;
  schedule?: 'karras' | 'uniform'; // uniform: timesteps evenly spaced from 999 to 0 (the engine's 'normal')
  noise?: NoiseSampler; // replaces the seeded noise (checks that compare against other implementations)
}

/** [uncond x B, cond x B] text encoder states: two calls, as a pipeline does for CFG. */
async function encodePrompts(m: LiteModel, idsList: readonly number[][]): Promise<{ states: Float32Array; hidden: number }> {
  const B = idsList.length;
  const batch = (list: readonly number[][]) => {
    const ids = new Int32Array(B * 77);
    list.forEach((p, b) => ids.set(pad77(p), b * 77));
    return new ort.Tensor('int32', ids, [B, 77]);
  };
  const un = (await m.text.run({ input_ids: batch(idsList.map(() => IDS_EMPTY)) })).last_hidden_state;
  const co = (await m.text.run({ input_ids: batch(idsList) })).last_hidden_state;
  const states = new Float32Array(2 * un.data.length);
  states.set(un.data as Float32Array, 0);
  states.set(co.data as Float32Array, un.data.length);
  return { states, hidden: un.dims[2] };
}

/** D(x, sigma) with classifier-free guidance for B prompts, one UNet call at batch 2B per evaluation. */
function guidedBatchDenoiser(
  m: LiteModel,
  B: number,
  h: number,
  w: number,
  text: { states: Float32Array; hidden: number },
  guidance: number,
): Denoiser {
  const context = new ort.Tensor('float32', text.states, [2 * B, 77, text.hidden]);
  return async (x, sigma) => {
    const { cIn, cSkip, cOut } = preconditioning('epsilon', sigma);
    const n = x.length,
      sample = new Float32Array(2 * n);
    for (let j = 0; j < n; j++) sample[j] = sample[n + j] = x[j] * cIn;
    const out = await m.unet.run({
      sample: new ort.Tensor('float32', sample, [2 * B, 4, h, w]),
      timestep: new ort.Tensor('float32', new Float32Array(2 * B).fill(m.schedule.sigmaToTimestep(sigma)), [2 * B]),
      encoder_hidden_states: context,
    });
    const e = out.out_sample.data as Float32Array,
      denoised = new Float64Array(n);
    for (let j = 0; j < n; j++) denoised[j] = cSkip * x[j] + cOut * (e[j] + guidance * (e[n + j] - e[j]));
    return denoised;
  };
}

/** txt2img for one or more prompts at once (batch B): Euler with CFG. Returns the VAE output [B,3,size,size] in [-1,1]. */
export async function generate(m: LiteModel, idsList: number[][], options: GenerateOptions = {}): Promise<ort.Tensor> {
  const { steps = 20, guidance = 5, seed = 0, size = 64, schedule = 'karras' } = options;
  const B = idsList.length,
    h = size / m.factor,
    w = size / m.factor,
    perImage = 4 * h * w;
  const sigmas = buildSchedule(schedule === 'uniform' ? 'normal' : 'karras', m.schedule, steps);
  const noise =
    options.noise ??
    batchNoise(
      idsList.map((_, b) => createNoiseStream('default', seed + b)),
      perImage,
    );
  const x = noise();
  for (let i = 0; i < x.length; i++) x[i] *= sigmas[0];
  const denoiser = guidedBatchDenoiser(m, B, h, w, await encodePrompts(m, idsList), guidance);
  const latent = await sampleEuler(denoiser, x, sigmas, { noise });
  const unscaled = Float32Array.from(latent, (v) => v / m.scaling);
  const img = await m.vae.run({ latent_sample: new ort.Tensor('float32', unscaled, [B, 4, h, w]) });
  return img.sample;
}

/** RGB bytes (row-major, 3 per pixel) to a PNG file, with the encoder the engine uses (fast-png). */
export function writePng(file: string, rgb: Uint8Array, width: number, height: number): void {
  fs.writeFileSync(file, encodePng({ width, height, data: rgb, channels: 3, depth: 8 }));
}
