// float32 <-> IEEE 754 half-precision bit patterns in bulk. Node 20 has no native Float16Array and the
// polyfill's element-by-element proxy costs ~100 ns per value, which at 512x512 made fp16 models spend
// more time converting tensors than running the UNet on a GPU. Plain integer arithmetic on the float32
// bits (round to nearest even, subnormals, infinities and NaN kept) and a 64K-entry decode table instead; from
// HALF_KERNEL_FROM values on, the same conversions run as WebAssembly kernels four lanes at a time
// (kernels/half-kernels.ts), which give the same bits for every float32 and every half and are 3-6x faster again.
import { fromHalfKernel, toHalfKernel } from '../kernels/half-kernels.ts';

/** The length from which the kernels convert (below it, the loops here: a call into the module costs its copies). */
export const HALF_KERNEL_FROM = 256;

/** float32 values -> half bit patterns (round to nearest, ties to even). */
export function toHalfBits(values: Float32Array, out: Uint16Array = new Uint16Array(values.length)): Uint16Array {
  if (out.length !== values.length) throw new RangeError(`${values.length} values into ${out.length} halves`);
  if (values.length >= HALF_KERNEL_FROM) {
    toHalfKernel(values, out);
    return out;
  }
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const u = bits[i];
    const sign = (u >>> 16) & 0x8000;
    const exponent = (u >>> 23) & 0xff;
    let mantissa = u & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
      continue;
    }
    const e = exponent - 112; // rebias 127 -> 15
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    } // too large: infinity
    if (e <= 0) {
      // subnormal half (or zero)
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mantissa |= 0x800000;
      const shift = 14 - e;
      let h = mantissa >>> shift;
      const rest = mantissa & ((1 << shift) - 1),
        half = 1 << (shift - 1);
      if (rest > half || (rest === half && h & 1)) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // a carry into the exponent is still right (up to infinity)
    out[i] = sign | h;
  }
  return out;
}

let decodeTable: Float32Array | undefined;

function table(): Float32Array {
  if (decodeTable) return decodeTable;
  decodeTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1,
      exponent = (h >>> 10) & 0x1f,
      mantissa = h & 0x3ff;
    decodeTable[h] =
      exponent === 0
        ? sign * mantissa * 2 ** -24
        : exponent === 0x1f
          ? mantissa
            ? NaN
            : sign * Infinity
          : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return decodeTable;
}

/** One half bit pattern -> its value (exact). */
export function halfToFloat(bits: number): number {
  return table()[bits];
}

/** Half bit patterns -> float32 values (exact). */
export function fromHalfBits(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  if (out.length !== bits.length) throw new RangeError(`${bits.length} halves into ${out.length} values`);
  if (bits.length >= HALF_KERNEL_FROM) {
    fromHalfKernel(bits, out);
    return out;
  }
  const t = table();
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}
