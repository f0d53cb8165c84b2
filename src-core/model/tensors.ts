// Moving float data in and out of onnxruntime tensors in the dtype a model declares.
import * as ort from 'onnxruntime-node';
import { Float16Array } from '@petamoriken/float16';

export type FloatType = 'float32' | 'float16';

/** A float32/float16 tensor; float16 travels as its bit patterns in a Uint16Array (onnxruntime's convention). */
export function floatTensor(type: FloatType, data: Float32Array, dims: readonly number[]): ort.Tensor {
  if (type === 'float32') return new ort.Tensor('float32', data, dims);
  return new ort.Tensor('float16', new Uint16Array(new Float16Array(data).buffer), dims);
}

/** The tensor's values as float32, whatever float type it holds. */
export function readFloats(tensor: ort.Tensor, what: string): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') {
    const bits = tensor.data as Uint16Array;
    return Float32Array.from(new Float16Array(bits.buffer, bits.byteOffset, bits.length));
  }
  throw new TypeError(`${what}: expected a float tensor, got ${tensor.type}`);
}
