// What torch's CPU and CUDA generators have in common here (torch-cpu.ts, torch-cuda.ts): the seed as
// torch.manual_seed takes it, the count check of randn(count), and float32 arithmetic helpers.

/** 2^32: the second 32-bit word of a seed or counter counts in these. */
export const TWO_32 = 4294967296;

/** Rounds to float32. */
export const f = Math.fround;

/** A torch seed: any whole number from 0 to 2^64 - 1 (a bigint above 2^53). */
export type TorchSeed = number | bigint;

const MAX_SEED = (1n << 64n) - 1n;

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

/**
 * The low and high 32-bit words of a torch seed, after checking it. torch's manual_seed accepts
 * 0..2^64-1 (Python also accepts negatives and wraps them; callers that want that do it first).
 */
export function torchSeedWords(seed: TorchSeed): { lo: number; hi: number } {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed > MAX_SEED) throw new RangeError(`seed must be a whole number from 0 to 2^64-1 (got ${describe(seed)})`);
    return { lo: Number(seed & 0xffffffffn), hi: Number(seed >> 32n) };
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be a whole number from 0 to 2^64-1 (got ${describe(seed)})`);
  }
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(
      `seed ${seed} is above 2^53-1, where a JavaScript number cannot hold every whole number exactly; pass it as a bigint`,
    );
  }
  return { lo: seed % TWO_32, hi: Math.floor(seed / TWO_32) };
}

export function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a whole number >= 0 (got ${describe(count)})`);
}

/**
 * Fused multiply-add rounded once to float32, for float32 inputs: a*b is exact in float64, and the
 * only way p + c rounded to float64 and then to float32 differs from one rounding is when the float64
 * sum lands exactly halfway between two float32 values; then the sign of the float64 rounding error
 * decides.
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f(s);
  if (r === s) return r;
  const other = 2 * s - r; // r's neighbour, if s lies exactly halfway between the two
  if (f(other) !== other) return r;
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  if (err === 0) return r;
  return err > 0 ? Math.max(r, other) : Math.min(r, other);
}
