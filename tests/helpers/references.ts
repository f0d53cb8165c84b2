// Reference values made by the fixture scripts (diffusers' outputs as JSON, its images as PNG) and the
// comparisons the parity tests make with them: relative error of a tensor, largest pixel difference of an image.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decode } from 'fast-png';
import { fromHalfBits, toHalfBits } from '../../src-core/model/half.ts';

export interface RefTensor {
  shape: number[];
  dtype: string;
  data: number[];
}
export type Tensors = Record<string, RefTensor>;

/** The tensors of references/NAME.json under a fixtures folder. */
export function loadTensors(fixtures: string, name: string): Tensors {
  return (JSON.parse(readFileSync(join(fixtures, 'references', `${name}.json`), 'utf8')) as { tensors: Tensors }).tensors;
}

/** A reference as an ONNX input (int64 as int32, as the exported graphs take it). */
export function tensor(ref: RefTensor, float: 'float32' | 'float16' = 'float32'): ort.Tensor {
  if (ref.dtype === 'int64') return new ort.Tensor('int32', Int32Array.from(ref.data), ref.shape);
  if (float === 'float16') return new ort.Tensor('float16', toHalfBits(Float32Array.from(ref.data)), ref.shape);
  return new ort.Tensor('float32', Float32Array.from(ref.data), ref.shape);
}

/** max |a - b| / max |b|: the relative error the issues ask for (1e-4). */
export function relativeDifference(actual: ArrayLike<number>, expected: RefTensor): number {
  assert.equal(actual.length, expected.data.length, 'element count');
  let diff = 0,
    scale = 0;
  for (let i = 0; i < actual.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected.data[i]!));
    scale = Math.max(scale, Math.abs(expected.data[i]!));
  }
  return diff / scale;
}

/** relativeDifference of an ONNX output (float32 or float16), its shape checked first. */
export function relativeError(actual: ort.Tensor | undefined, expected: RefTensor): number {
  assert.ok(actual, 'output present');
  assert.deepEqual([...actual.dims], expected.shape);
  const a = actual.type === 'float16' ? fromHalfBits(actual.data as Uint16Array) : (actual.data as Float32Array);
  return relativeDifference(a, expected);
}

/** One component of an ONNX model folder (COMPONENT/model.onnx) run once on FEEDS. */
export async function runComponent(
  dir: string,
  component: string,
  feeds: Record<string, ort.Tensor>,
): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(join(dir, component, 'model.onnx'));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** The largest difference of one 8-bit RGB channel between a PNG and a reference PNG file (same size). */
export function maxPixelDifference(png: Buffer, referenceFile: string): number {
  const a = decode(png),
    b = decode(readFileSync(referenceFile));
  assert.deepEqual([a.width, a.height], [b.width, b.height]);
  let max = 0;
  for (let p = 0; p < a.width * a.height; p++) {
    for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(a.data[p * a.channels + c]! - b.data[p * b.channels + c]!));
  }
  return max;
}

/** One of tests/fixtures/sdxl/references/images.json's StableDiffusionXLPipeline images. */
export interface SdxlImageCase {
  file: string;
  reference: string;
  seed: number;
  scheduler: 'euler' | 'euler_karras';
  guidance_scale: number;
  negative_prompt: string | null;
  original_size: [number, number];
  crops_coords_top_left: [number, number];
}

/** The engine's request for an SDXL reference image (64x64, 8 Euler steps, torch CPU noise; size conditioning when not the default). */
export function sdxlImageRequest(prompt: string, c: SdxlImageCase) {
  const [originalHeight, originalWidth] = c.original_size,
    [cropTop, cropLeft] = c.crops_coords_top_left;
  const sized = originalWidth !== 64 || originalHeight !== 64 || cropTop !== 0 || cropLeft !== 0;
  return {
    prompt,
    negativePrompt: c.negative_prompt ?? '',
    seed: c.seed,
    steps: 8,
    cfgScale: c.guidance_scale,
    sampler: 'euler',
    schedule: c.scheduler === 'euler' ? 'normal' : 'karras',
    noiseSource: 'torch-cpu',
    width: 64,
    height: 64,
    ...(sized ? { originalWidth, originalHeight, cropTop, cropLeft } : {}),
  };
}
