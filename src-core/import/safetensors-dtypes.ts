// The dtypes of the safetensors format, as Hugging Face's safetensors library (the reference reader, Rust) defines
// them in its Dtype enum, with each one's size in bits: sub-byte ones (F4, F6_*) pack several values into a byte,
// and a tensor of them must fill whole bytes. Which of them this app can read is a separate, smaller set.

/** Bits per value of every dtype the safetensors format defines. */
export const DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};

/** The dtypes read() converts to float32. Others (e.g. the I64 position_ids of many SD 1 files) are only an error when read. */
export const FLOAT_DTYPES: ReadonlySet<string> = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Whether `dtype` is one the format defines (own keys only: "toString" is in every object's prototype chain). */
export function isSafetensorsDtype(dtype: unknown): dtype is string {
  return typeof dtype === 'string' && Object.hasOwn(DTYPE_BITS, dtype);
}

/** Why a weight of a known dtype cannot be used: the format has it, this app does not read it. */
export function unreadableDtype(dtype: string): string {
  return `dtype ${dtype}, a safetensors dtype that this app does not support (it reads F32, F16, BF16 and F64 weights)`;
}

/**
 * The bytes a tensor of `count` values of `dtype` takes, or why it cannot be stored: the reference refuses values that
 * end inside a byte (an odd number of F4 values), and sizes past 2^53 are beyond what this reader can address.
 */
export function tensorBytes(count: number, dtype: string): { bytes: number } | { problem: string } {
  const bits = count * DTYPE_BITS[dtype];
  if (!Number.isSafeInteger(bits)) return { problem: `its ${count} values are more than this app can address` };
  if (bits % 8 !== 0)
    return { problem: `its ${count} values of ${DTYPE_BITS[dtype]} bits do not fill whole bytes (the safetensors library refuses it)` };
  return { bytes: bits / 8 };
}
