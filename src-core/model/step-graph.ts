// The small graphs a sampling run on the device (WebGPU) runs around the UNet (pipeline/device-latents.ts): one
// puts the start latent up with the UNet's first input, one does a step (guidance/unet.ts, StepCoefficients). The
// latent is float32 there, as in diffusers' pipelines; the UNet's own input and output are in its float type.
import onnxProto from 'onnx-proto';
import { Graph } from '../onnx/graph.ts';
import { floatCode } from '../onnx/layers.ts';
import type { FloatType } from './tensors.ts';

const { onnx } = onnxProto;

/** The order of the step graph's `coefficients` input (StepCoefficients). */
export const STEP_COEFFICIENTS = ['scale', 'cSkip', 'cOut', 'x', 'denoised', 'previous', 'noise', 'cInNext'] as const;

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
 * One step: D from the UNet's output, the linear update, the next UNet input, and `finite`, the sum of 0 * D (0 when
 * every value of D is finite, NaN otherwise). `previous` and `noise` broadcast: a [1, 1, 1, 1] zero stands for none.
 */
export function stepModel(unetFloat: FloatType, guided: boolean): Uint8Array {
  const g = new Graph('latent_step', 'float32');
  const x = g.input('x', 'float32', LATENT);
  const modelOut = g.input('model_out', unetFloat, ROWS);
  const previous = g.input('previous', 'float32', ['pb', 'pc', 'ph', 'pw']);
  const noise = g.input('noise', 'float32', ['nb', 'nc', 'nh', 'nw']);
  const coefficients = g.input('coefficients', 'float32', [STEP_COEFFICIENTS.length]);
  const c = Object.fromEntries(
    g
      .opMulti(
        'Split',
        [
          coefficients,
          g.constant(
            STEP_COEFFICIENTS.map(() => 1),
            'int64',
          ),
        ],
        STEP_COEFFICIENTS.length,
        { axis: 0 },
      )
      .map((value, i) => [STEP_COEFFICIENTS[i], value]),
  ) as Record<(typeof STEP_COEFFICIENTS)[number], string>;
  const out = unetFloat === 'float32' ? modelOut : g.op('Cast', [modelOut], { to: floatCode('float32') });
  let guidedOut = out;
  if (guided) {
    const [uncond, cond] = g.opMulti('Split', [out], 2, { axis: 0 });
    guidedOut = g.op('Add', [uncond, g.op('Mul', [c.scale, g.op('Sub', [cond, uncond])])]);
  }
  const denoised = g.op('Add', [g.op('Mul', [c.cSkip, x]), g.op('Mul', [c.cOut, guidedOut])]);
  const terms = [
    g.op('Mul', [c.x, x]),
    g.op('Mul', [c.denoised, denoised]),
    g.op('Mul', [c.previous, previous]),
    g.op('Mul', [c.noise, noise]),
  ];
  const next = terms.reduce((sum, term) => g.op('Add', [sum, term]));
  g.output('x_next', next, 'float32', LATENT);
  g.output('denoised', denoised, 'float32', LATENT);
  g.output('sample', unetInput(g, next, c.cInNext, unetFloat, guided), unetFloat, ROWS);
  g.output('finite', g.op('ReduceSum', [g.op('Mul', [denoised, g.floatConstant([0])])], { keepdims: 0 }), 'float32', []);
  return encode(g);
}
