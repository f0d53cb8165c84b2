// Latent arrays that live in a kernel instance's own memory, so that the kernels run on them where they are instead
// of copying them in and out at every call (at 4x64x64 those copies were most of a step's kernel time). Each latent
// length gets its own instance, whose memory is sized once and never grown: a view into a memory that grows would be
// detached. When an arena is full (or the length is small or not a multiple of four), an array is an ordinary one and the kernels copy it
// as before, so callers never need to know which kind they hold. A block is handed out again once its array has been
// garbage collected.
import { kernelInstance, reserveBytes, type KernelExports } from './instance.ts';

/** The length from which the kernels run: in A/B runs of the embedded model they were about even with the loops at
 * 4096 values (128x128), behind at 1024 and well ahead at 16384. */
export const KERNEL_FROM = 4096;
/** Arrays per arena (a Restart or Heun run holds five at once; finished runs' arrays wait for a collection). */
const MOST_ARRAYS = 16;
/** Arenas smaller than this many arrays are not made: the memory they would hold is better left to the system. */
const FEWEST_ARRAYS = 4;
/** The memory one arena may take for its arrays. */
const ARENA_BYTES = 32 << 20;
/** Arenas kept for new arrays (a hires fix runs at two lengths); older ones live on while their arrays do. */
const ARENAS_KEPT = 2;

export interface Arena {
  kernels: KernelExports;
  values: number;
  /** One array's bytes; its blocks start at multiples of it. */
  bytes: number;
  /** A block after the arrays' for the scaled sample going to the UNet, then for its output (two halves if guided). */
  scratch: number;
  sampleFloats: Float32Array;
  sampleHalves: Uint16Array;
  outputFloats: Float32Array;
  outputHalves: Uint16Array;
  free: number[];
}

const arenas = new Map<number, Arena>();
const residents = new WeakMap<Float64Array, { arena: Arena; offset: number }>();
const collected = new FinalizationRegistry<{ arena: Arena; offset: number }>(({ arena, offset }) => arena.free.push(offset));

function arenaFor(values: number): Arena | undefined {
  const known = arenas.get(values);
  if (known) return known;
  const bytes = 8 * values;
  const count = Math.min(MOST_ARRAYS, Math.floor(ARENA_BYTES / bytes));
  if (count < FEWEST_ARRAYS) return undefined;
  const kernels = kernelInstance();
  const scratch = count * bytes;
  // Sized here once and never grown again (the fp16 kernels, four values at a time, may read two past the end).
  reserveBytes(kernels, scratch + bytes + 64);
  const buffer = kernels.memory.buffer;
  const arena: Arena = {
    kernels,
    values,
    bytes,
    scratch,
    sampleFloats: new Float32Array(buffer, scratch, values),
    sampleHalves: new Uint16Array(buffer, scratch, values),
    outputFloats: new Float32Array(buffer, scratch, 2 * values),
    outputHalves: new Uint16Array(buffer, scratch, 2 * values),
    free: Array.from({ length: count }, (_, i) => (count - 1 - i) * bytes),
  };
  if (arenas.size >= ARENAS_KEPT) arenas.delete(arenas.keys().next().value!);
  arenas.set(values, arena);
  return arena;
}

/** A zeroed array of `length` values, in an arena when one has room (else an ordinary array). */
export function latentArray(length: number): Float64Array {
  // The fp16 kernels go four values at a time: at other lengths they would write into the next array's block.
  if (length < KERNEL_FROM || length % 4 !== 0) return new Float64Array(length);
  const arena = arenaFor(length);
  const offset = arena?.free.pop();
  if (arena === undefined || offset === undefined) return new Float64Array(length);
  const array = new Float64Array(arena.kernels.memory.buffer, offset, length);
  array.fill(0);
  residents.set(array, { arena, offset });
  collected.register(array, { arena, offset });
  return array;
}

/** A copy of `values` as latentArray makes them. */
export function latentCopy(values: Float64Array): Float64Array {
  const copy = latentArray(values.length);
  copy.set(values);
  return copy;
}

/** The arena holding every one of `arrays` and their offsets there, or undefined when any is elsewhere. */
export function residentTogether(...arrays: Float64Array[]): { arena: Arena; offsets: number[] } | undefined {
  const first = residents.get(arrays[0]);
  if (!first) return undefined;
  const offsets = [first.offset];
  for (let i = 1; i < arrays.length; i++) {
    const other = residents.get(arrays[i]);
    if (other?.arena !== first.arena) return undefined;
    offsets.push(other.offset);
  }
  return { arena: first.arena, offsets };
}
