// A sampler's LinearSteps run plainly in float64 over any denoiser: the formulas of LinearStep as written, with no
// device or kernel. The engine runs LinearSteps on the UNet's device (guidance/device-run.ts, WebGPU); the conformance
// vectors run each sampler both ways, its own loop and this, so that the steps a device runs are held to the
// references too.
import { linearStepNoise } from './helpers.ts';
import type { Denoiser, LinearStep, SampleContext } from './types.ts';

export async function linearLoop(
  model: Denoiser,
  start: Float64Array,
  steps: readonly LinearStep[],
  ctx: SampleContext,
): Promise<Float64Array> {
  let x = Float64Array.from(start);
  let point = x;
  let previous: Float64Array | undefined;
  for (const step of steps) {
    const D = Float64Array.from(await model(point, step.sigma)); // a copy: the denoiser may reuse its array
    ctx.onEvaluation?.(step.sigma);
    const noise = linearStepNoise(ctx.noise, step.noise, x.length);
    const before = x,
      at = point;
    x = before.map(
      (v, i) => step.x * v + step.point * at[i] + step.denoised * D[i] + step.previous * (previous?.[i] ?? 0) + (noise?.[i] ?? 0),
    );
    const next = step.next;
    point = next ? before.map((v, i) => next.x * v + next.point * at[i] + next.denoised * D[i]) : x;
    previous = D;
  }
  return x;
}
