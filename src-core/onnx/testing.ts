// Test support for graph builders: write a Graph to a temporary folder and run it in onnxruntime-node,
// plus seeded random weights and a relative-error measure. Used by the graph tests, not by the app.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { fromHalfBits, toHalfBits } from '../model/half.ts';
import { arrayWeight, type WeightRef } from '../import/weights.ts';
import type { Graph } from './graph.ts';
import { writeModel } from './write-model.ts';

export interface Fed {
  data: Float32Array | Int32Array | BigInt64Array;
  dims: number[];
}

/** Runs `graph` once on CPU; float inputs/outputs are float32 arrays whatever the graph's float type. */
export async function runGraph(
  graph: Graph,
  feeds: Record<string, Fed>,
  sessionOptions: ort.InferenceSession.SessionOptions = {},
): Promise<Record<string, Float32Array | Int32Array | BigInt64Array>> {
  const dir = await mkdtemp(join(tmpdir(), 'onnx-graph-'));
  try {
    await writeModel(graph, dir);
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), sessionOptions);
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, { data, dims }] of Object.entries(feeds)) {
      tensors[name] =
        data instanceof Float32Array && graph.float === 'float16'
          ? new ort.Tensor('float16', toHalfBits(data), dims)
          : new ort.Tensor(data, dims);
    }
    const results = await session.run(tensors);
    await session.release();
    const out: Record<string, Float32Array | Int32Array | BigInt64Array> = {};
    for (const [name, tensor] of Object.entries(results)) {
      out[name] =
        tensor.type === 'float16' ? fromHalfBits(tensor.data as Uint16Array) : (tensor.data as Float32Array | Int32Array | BigInt64Array);
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Seeded uniform values in [-scale, scale) (a small LCG: reproducible, no dependency). */
export function randomValues(count: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = ((state / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

export function randomWeight(shape: number[], seed: number, scale = 1): WeightRef {
  return arrayWeight(
    shape,
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
  );
}

/** max |a - b| / max(max |b|, tiny): the relative error of a whole tensor against a reference. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let diff = 0,
    scale = 1e-30;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}
