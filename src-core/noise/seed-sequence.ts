// numpy's SeedSequence (numpy/random/bit_generator.pyx), the part torchsde's Brownian tree uses: an entropy integer
// and a spawn key hashed into a pool of 32-bit words, and generate_state(n) read out of the pool. Written from numpy's
// documented algorithm (Melissa O'Neill's seed_seq hash, as numpy states); all arithmetic is on uint32.

const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const XSHIFT = 16;

/** numpy's _coerce_to_uint32_array for one non-negative integer: its 32-bit words, low first ([0] for 0). */
export function uint32Words(value: number | bigint): number[] {
  let n = BigInt(value);
  if (n < 0n) throw new RangeError(`seed sequence entropy must be >= 0 (got ${value})`);
  if (n === 0n) return [0];
  const words: number[] = [];
  for (; n > 0n; n >>= 32n) words.push(Number(n & 0xffffffffn));
  return words;
}

/** Hashes one word with the running constant (numpy's hashmix); the constant advances. */
function hashmix(value: number, constant: { value: number }): number {
  value = (value ^ constant.value) >>> 0;
  constant.value = Math.imul(constant.value, MULT_A) >>> 0;
  value = Math.imul(value, constant.value) >>> 0;
  return (value ^ (value >>> XSHIFT)) >>> 0;
}

function mix(x: number, y: number): number {
  const result = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
  return (result ^ (result >>> XSHIFT)) >>> 0;
}

export interface SeedSequenceInit {
  entropy: number | bigint;
  /** numpy's spawn_key: each integer contributes its 32-bit words, in order. */
  spawnKey?: readonly (number | bigint)[];
  /** Words in the pool (numpy's default 4; torchsde passes its own). */
  poolSize?: number;
}

/** The pool numpy's SeedSequence mixes its entropy into (mix_entropy over get_assembled_entropy). */
function entropyPool({ entropy, spawnKey = [], poolSize = 4 }: SeedSequenceInit): Uint32Array {
  let run = uint32Words(entropy);
  const spawn = spawnKey.flatMap(uint32Words);
  // numpy pads the entropy with zeros to the pool size when there is a spawn key, so that keys cannot collide with it.
  if (spawn.length > 0 && run.length < poolSize) run = [...run, ...new Array<number>(poolSize - run.length).fill(0)];
  const words = [...run, ...spawn];
  const pool = new Uint32Array(poolSize);
  const constant = { value: INIT_A };
  for (let i = 0; i < poolSize; i++) pool[i] = hashmix(i < words.length ? words[i] : 0, constant);
  for (let src = 0; src < poolSize; src++) {
    for (let dst = 0; dst < poolSize; dst++) {
      if (src !== dst) pool[dst] = mix(pool[dst], hashmix(pool[src], constant));
    }
  }
  for (let src = poolSize; src < words.length; src++) {
    for (let dst = 0; dst < poolSize; dst++) pool[dst] = mix(pool[dst], hashmix(words[src], constant));
  }
  return pool;
}

/** numpy's SeedSequence(entropy, spawn_key, pool_size).generate_state(n) as uint32 words. */
export function seedSequenceState(init: SeedSequenceInit, n: number): number[] {
  const pool = entropyPool(init);
  let constant = INIT_B;
  const state: number[] = [];
  for (let i = 0; i < n; i++) {
    let value = (pool[i % pool.length] ^ constant) >>> 0;
    constant = Math.imul(constant, MULT_B) >>> 0;
    value = Math.imul(value, constant) >>> 0;
    state.push((value ^ (value >>> XSHIFT)) >>> 0);
  }
  return state;
}
