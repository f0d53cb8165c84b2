// Moving float data in and out of onnxruntime tensors in the dtype a model declares.
import * as ort from 'onnxruntime-node';
import { fromHalfBits, toHalfBits } from './half.ts';

export type FloatType = 'float32' | 'float16';

/** A float32/float16 tensor; float16 travels as its bit patterns in a Uint16Array (onnxruntime's convention). */
export function floatTensor(type: FloatType, data: Float32Array, dims: readonly number[]): ort.Tensor {
  if (type === 'float32') return new ort.Tensor('float32', data, dims);
  return new ort.Tensor('float16', toHalfBits(data), dims);
}

/** The tensor's values as float32, whatever float type it holds (float16 is converted into `out` when given). */
export function readFloats(tensor: ort.Tensor, what: string, out?: Float32Array): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return fromHalfBits(tensor.data as Uint16Array, out);
  throw new TypeError(`${what}: expected a float tensor, got ${tensor.type}`);
}
