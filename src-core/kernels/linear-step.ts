// A sampler's whole step between two UNet calls on the host, in one pass over a workspace's arrays (linear-step.wat):
// guidance and D from the UNet's output, the sampler's linear update of x (LinearStep), the next evaluation point and
// the UNet's next input. The denoiser's combine, the sampler's update and the input's scaling were three passes over
// memory that is cold after the UNet's wait (reports/gpu-bench, fourteenth pass).
import { inWorkspace, memoryFor } from './kernel-memory.ts';

/** The step's arrays, all in one LatentWorkspace's memory (the kernel works on them in place). */
export interface LinearStepArrays {
  x: Float64Array;
  /** The evaluation point y: x itself, or an array of its own (Heun's second evaluation). */
  point: Float64Array;
  /** Where the next point goes when the step has one (`next`); it may be `point`, never x. */
  nextPoint: Float64Array;
  denoised: Float64Array;
  previous?: Float64Array;
  noise?: Float64Array;
  /** The UNet's output, [uncond, cond] when guided: float32 values, or an fp16 UNet's half bit patterns. */
  out: Float32Array | Uint16Array;
  /** The UNet's next input, the same type as `out`, written twice when guided. */
  input: Float32Array | Uint16Array;
}

/** guidance/unet.ts's StepCoefficients, as the kernel takes them (`noise` the noise array's weight). */
export interface LinearStepCoefficients {
  scale: number;
  cSkip: number;
  cOut: number;
  x: number;
  point: number;
  denoised: number;
  previous: number;
  noise: number;
  next?: { x: number; point: number; denoised: number };
  cInNext: number;
}

const GUIDED = 1,
  HALF = 2,
  PREVIOUS = 4,
  NOISE = 8,
  NEXT = 16;

/**
 * One step in place (linear-step.wat's formulas): D = c_skip y + c_out g (g the guided output), x = x x + point y +
 * denoised D [+ previous D_prev] [+ noise z], the next point (next's combination of the old x, y and D, or the new x)
 * and input = c_in' y'. Returns whether every value of D is finite.
 */
export function linearStep(a: LinearStepArrays, c: LinearStepCoefficients, guided: boolean): boolean {
  const n = a.x.length;
  if (n % 4 !== 0) throw new RangeError(`the linear step works on whole fours of values (got ${n})`);
  const m = memoryFor(a.x, n);
  const arrays = [a.x, a.point, a.nextPoint, a.denoised, a.previous, a.noise].filter((v) => v !== undefined);
  for (const array of arrays) {
    if (array.length !== n) throw new RangeError(`a step array of ${array.length} values for a latent of ${n}`);
    if (!inWorkspace(array) || !m.holds(array)) throw new RangeError("the linear step's arrays must be in the latent's workspace");
  }
  if (c.next && a.nextPoint === a.x) throw new RangeError('the next point cannot be written over x');
  const half = a.out instanceof Uint16Array;
  if (half !== a.input instanceof Uint16Array) throw new RangeError('the UNet input and output differ in type');
  const values = guided ? 2 * n : n;
  if (a.out.length !== values || a.input.length !== values || !m.holds(a.out) || !m.holds(a.input))
    throw new RangeError(`the UNet's arrays must hold ${values} values in the latent's workspace`);
  const usePrevious = a.previous !== undefined && c.previous !== 0;
  const useNoise = a.noise !== undefined && c.noise !== 0;
  const flags = (guided ? GUIDED : 0) | (half ? HALF : 0) | (usePrevious ? PREVIOUS : 0) | (useNoise ? NOISE : 0) | (c.next ? NEXT : 0);
  const half2 = (half ? 2 : 4) * n; // the second half's offset from the first, in bytes
  const next = c.next ?? { x: 0, point: 0, denoised: 0 };
  const finite = m.kernels.linear_step(
    a.x.byteOffset,
    a.point.byteOffset,
    a.nextPoint.byteOffset,
    a.denoised.byteOffset,
    usePrevious ? a.previous!.byteOffset : 0,
    useNoise ? a.noise!.byteOffset : 0,
    a.out.byteOffset,
    a.out.byteOffset + half2,
    a.input.byteOffset,
    a.input.byteOffset + half2,
    8 * n,
    flags,
    c.cSkip,
    c.cOut,
    c.scale,
    c.x,
    c.point,
    c.denoised,
    c.previous,
    c.noise,
    next.x,
    next.point,
    next.denoised,
    c.cInNext,
  );
  return finite === 1;
}
