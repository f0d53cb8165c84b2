// The small graphs a sampling run on the device (WebGPU) runs around the UNet (pipeline/device-latents.ts): one
// puts the start latent up with the UNet's first input, one does a step (guidance/unet.ts, StepCoefficients). The
// latent is float32 there, as in diffusers' pipelines; the UNet's own input and output are in its float type.
import onnxProto from 'onnx-proto';
import { Graph } from '../onnx/graph.ts';
import { floatCode } from '../onnx/layers.ts';
import type { FloatType } from './tensors.ts';

const { onnx } = onnxProto;

/** The order of the step graph's `coefficients` input (StepCoefficients; next's three as nextX, nextPoint, nextDenoised). */
export const STEP_COEFFICIENTS = [
  'scale',
  'cSkip',
  'cOut',
  'x',
  'point',
  'denoised',
  'previous',
  'noise',
  'nextX',
  'nextPoint',
  'nextDenoised',
  'cInNext',
] as const;

const LATENT = ['batch', 'channels', 'height', 'width'];
const ROWS = ['rows', 'channels', 'height', 'width'];

/** c_in x in the UNet's float type, twice over the batch when guided ([uncond, cond] rows see the same latent). */
function unetInput(g: Graph, x: string, cIn: string, unetFloat: FloatType, guided: boolean): string {
  const scaled = g.op('Mul', [x, cIn]);
  const rows = guided ? g.op('Concat', [scaled, scaled], { axis: 0 }) : scaled;
  return unetFloat === 'float32' ? rows : g.op('Cast', [rows], { to: floatCode(unetFloat) });
}

const encode = (g: Graph) => onnx.ModelProto.encode(g.toModel([])).finish();

/** x (host) -> x (device), sample = c_in x. */
export function startModel(unetFloat: FloatType, guided: boolean): Uint8Array {
  const g = new Graph('latent_start', 'float32');
  const x = g.input('x', 'float32', LATENT);
  const cIn = g.input('c_in', 'float32', [1]);
  g.output('x_out', g.op('Identity', [x]), 'float32', LATENT);
  g.output('sample', unetInput(g, x, cIn, unetFloat, guided), unetFloat, ROWS);
  return encode(g);
}

/**
 * Which of the step's optional inputs and outputs a step graph has: `point`, an evaluation point of its own (else the
 * latent); `next`, a next point of its own (else the new latent); `previous`, D of the last step; `noise`. An Euler step
 * has none of them: no kernels run for them.
 */
export interface StepTerms {
  point: boolean;
  next: boolean;
  previous: boolean;
  noise: boolean;
}

/**
 * One step (guidance/unet.ts, DeviceLatents): D from the UNet's output at the point, the new latent, the next point and
 * the UNet's next input, and `checked`: the input `checked` (the last step's, [1]) plus the sum of D, finite while
 * every value of every step's D is (NaN or infinite once one is not; estimates whose values sum past float32's range
 * would count as not finite, but no image has such).
 */
export function stepModel(unetFloat: FloatType, guided: boolean, terms: StepTerms): Uint8Array {
  const g = new Graph('latent_step', 'float32');
  const x = g.input('x', 'float32', LATENT);
  const point = terms.point ? g.input('point', 'float32', LATENT) : x;
  const modelOut = g.input('model_out', unetFloat, ROWS);
  const previous = terms.previous ? g.input('previous', 'float32', LATENT) : undefined;
  const noise = terms.noise ? g.input('noise', 'float32', LATENT) : undefined;
  const coefficients = g.input('coefficients', 'float32', [STEP_COEFFICIENTS.length]);
  const checked = g.input('checked', 'float32', [1]);
  const ones = g.constant(
    STEP_COEFFICIENTS.map(() => 1),
    'int64',
  );
  const split = g.opMulti('Split', [coefficients, ones], STEP_COEFFICIENTS.length, { axis: 0 });
  type Coefficient = (typeof STEP_COEFFICIENTS)[number];
  const c = Object.fromEntries(split.map((value, i) => [STEP_COEFFICIENTS[i], value])) as Record<Coefficient, string>;
  const out = unetFloat === 'float32' ? modelOut : g.op('Cast', [modelOut], { to: floatCode('float32') });
  let guidedOut = out;
  if (guided) {
    const [uncond, cond] = g.opMulti('Split', [out], 2, { axis: 0 });
    guidedOut = g.op('Add', [uncond, g.op('Mul', [c.scale, g.op('Sub', [cond, uncond])])]);
  }
  const denoised = g.op('Add', [g.op('Mul', [c.cSkip, point]), g.op('Mul', [c.cOut, guidedOut])]);
  const sumOf = (parts: string[]) => parts.reduce((sum, part) => g.op('Add', [sum, part]));
  const parts = [g.op('Mul', [c.x, x]), g.op('Mul', [c.denoised, denoised])];
  if (terms.point) parts.push(g.op('Mul', [c.point, point]));
  if (previous) parts.push(g.op('Mul', [c.previous, previous]));
  if (noise) parts.push(g.op('Mul', [c.noise, noise]));
  const xNext = sumOf(parts);
  g.output('x_next', xNext, 'float32', LATENT);
  let pointNext = xNext;
  if (terms.next) {
    const nextParts = [g.op('Mul', [c.nextX, x]), g.op('Mul', [c.nextDenoised, denoised])];
    if (terms.point) nextParts.push(g.op('Mul', [c.nextPoint, point]));
    pointNext = sumOf(nextParts);
    g.output('point_next', pointNext, 'float32', LATENT);
  }
  g.output('denoised', denoised, 'float32', LATENT);
  g.output('sample', unetInput(g, pointNext, c.cInNext, unetFloat, guided), unetFloat, ROWS);
  const sum = g.op('ReduceSum', [g.op('Reshape', [denoised, g.constant([-1], 'int64')])], { keepdims: 1 });
  g.output('checked_next', g.op('Add', [checked, sum]), 'float32', [1]);
  return encode(g);
}
