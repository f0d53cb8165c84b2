// The benchmark's JIT warm-up (pipeline-bench.ts --jit-warmup CALLS). V8 optimizes the engine's per-step code (the
// sampler's loop, the guard, the denoiser, the UNet call) only once enough of it has run: on the embedded model the time
// between two UNet calls fell from about 90 to 40 us after some 1,400 UNet calls (reports/gpu-bench, ninth pass), so a
// run measured after one warm-up run of four images (80 calls) measured code still in V8's first tiers. The engine's
// process lives for the app's whole session, so its steady state is the optimized one. This runs the same request
// with the UNet and the VAE decoder standing in (each returns a copy of its last real output for that shape at once),
// through the same functions with the same types, until CALLS UNet calls are made: seconds, whatever the model's size
// and device, where real runs would take minutes on the CPU.
import type * as ort from 'onnxruntime-node';
import type { StableDiffusionModel } from '../model/model.ts';
import { generate, type GenerateHooks } from '../pipeline/txt2img.ts';
import { copyOf, type UnetCallWatch } from './unet-calls.ts';

type Outputs = ort.InferenceSession.ReturnType;

/** The VAE decoder standing in until restore(): a shape it has decoded for real returns a copy of that output. */
function standInVae(model: StableDiffusionModel): { restore(): void } {
  const session = model.vaeDecoder.session;
  const real = session.run;
  const recorded = new Map<string, Outputs>();
  const run = session.run.bind(session) as (feeds: ort.InferenceSession.FeedsType, fetches?: string[]) => Promise<Outputs>;
  session.run = (async (feeds: ort.InferenceSession.FeedsType, fetches?: string[]) => {
    const shape = feeds.latent_sample.dims.join('x');
    const known = recorded.get(shape);
    if (known) return copyOf(known);
    const outputs = await run(feeds, fetches);
    recorded.set(shape, outputs);
    return outputs;
  }) as typeof session.run;
  return { restore: () => void (session.run = real) };
}

/**
 * Runs `request` again, with the measured runs' hooks (progress and previews are the engine's code too), the UNet
 * (through `calls`) and the VAE decoder standing in, until `unetCalls` UNet calls are made; then both are the real
 * ones again. The UNet's shapes must have run for real before (the benchmark's warm-up runs). Returns the UNet calls
 * made.
 */
export async function warmUpJit(
  model: StableDiffusionModel,
  calls: UnetCallWatch,
  request: Record<string, unknown>,
  unetCalls: number,
  hooks: GenerateHooks = {},
): Promise<number> {
  let made = 0;
  if (unetCalls <= 0) return made;
  const vae = standInVae(model);
  calls.standIn(0);
  try {
    for (let run = 0; made < unetCalls; run++) made += (await generate(model, { ...request, seed: 1000 + run }, hooks)).timings.unetCalls;
  } finally {
    calls.standIn(undefined);
    vae.restore();
  }
  return made;
}
