// Where the latent kernels' operands live. A kernels instance's memory starts with SLOTS slots of one latent's float64
// values (rounded up to a pair): an array from elsewhere is copied into a slot for a call and its result copied back
// out (memcpy, about 1 us per 128 KiB hot, three times that in the cold memory after a UNet's wait). The shared memory
// does only that, laid out anew for each length. A workspace (one sampling run's denoiser) also holds arrays of its
// own after the slots (the latent, the denoiser's outputs, the UNet's input, a sampler's work arrays), which the
// kernels update in place: at 4x64x64, 20-40 us fewer of a step's 117-133 us outside the UNet (reports/gpu-bench,
// seventh pass).
import { kernelInstance, reserveBytes, type KernelExports } from './instance.ts';

const SLOTS = 4;

export class KernelMemory {
  readonly kernels: KernelExports = kernelInstance();
  /** The latent length the slots are laid out for (-1: none yet). */
  values = -1;
  /** A slot's size: `values` float64 values rounded up to a pair. */
  slotBytes = 0;
  private all64 = new Float64Array(0);
  doubles: Float64Array[] = [];
  /** Slot 1 as float32 values or half bit patterns from its start (the UNet input's scaling writes them). */
  scaledFloats = new Float32Array(0);
  scaledHalves = new Uint16Array(0);
  /** A guided UNet output [uncond, cond] as one float32 array filling slot 1 (or half bit patterns in its first half). */
  modelOutput = new Float32Array(0);
  modelHalves = new Uint16Array(0);

  /**
   * Lays the slots out for `count` values, with `extraBytes` after them, growing the memory if needed (which replaces
   * its buffer: every view is made again here, and nothing else keeps one).
   */
  layout(count: number, extraBytes = 0): void {
    if (count === this.values) return;
    const pairBytes = 8 * (count + (count & 1));
    reserveBytes(this.kernels, SLOTS * pairBytes + 32 + extraBytes); // the fp16 kernels, four values at a time, may touch two past the end
    const buffer = this.kernels.memory.buffer;
    this.values = count;
    this.slotBytes = pairBytes;
    this.all64 = new Float64Array(buffer);
    this.doubles = Array.from({ length: SLOTS }, (_, k) => new Float64Array(buffer, k * pairBytes, count));
    this.scaledFloats = new Float32Array(buffer, pairBytes, count);
    this.scaledHalves = new Uint16Array(buffer, pairBytes, count);
    this.modelOutput = new Float32Array(buffer, pairBytes, 2 * count);
    this.modelHalves = new Uint16Array(buffer, pairBytes, 2 * count);
  }

  /** The byte just past the slots, where a workspace's own arrays begin (16-byte aligned). */
  get slotsEnd(): number {
    return SLOTS * this.slotBytes + 32;
  }

  /** Whether the array lives in this memory (the kernels then read and write it where it is). */
  holds(array: ArrayBufferView): boolean {
    return array.buffer === this.kernels.memory.buffer;
  }

  /** Copies an array into a slot, an odd length's pad lane set to 0 (finite, and never copied out); the slot's offset. */
  put(slot: number, array: Float64Array): number {
    this.doubles[slot].set(array);
    if (this.values & 1) this.all64[slot * (this.slotBytes / 8) + this.values] = 0;
    return slot * this.slotBytes;
  }

  /** An input's offset: its own where it lives here, otherwise a copy's in `slot`. */
  input(slot: number, array: Float64Array): number {
    return this.holds(array) ? array.byteOffset : this.put(slot, array);
  }

  /** Where a kernel writes an output: in place where it lives here, otherwise in `slot` (for `copyOut`). */
  output(slot: number, array: Float64Array): number {
    return this.holds(array) ? array.byteOffset : slot * this.slotBytes;
  }

  /** Copies an output written in `slot` out to its array, unless it was written in place. */
  copyOut(slot: number, array: Float64Array): void {
    if (!this.holds(array)) array.set(this.doubles[slot]);
  }
}

/** The memory of the arrays made by workspaces, by buffer (a workspace's memory never grows, so its buffer stays). */
const workspaces = new WeakMap<ArrayBuffer, KernelMemory>();
const shared = new KernelMemory();

/**
 * The memory a kernel call runs in: the output's workspace where it has one of this length, otherwise the shared
 * memory laid out for `count` values.
 */
export function memoryFor(output: ArrayBufferView, count: number): KernelMemory {
  const own = workspaces.get(output.buffer as ArrayBuffer);
  if (own && own.values === count) return own;
  shared.layout(count);
  return shared;
}

/** Whether the array is one of a workspace's (reused by the workspace's next run). */
export const inWorkspace = (array: ArrayBufferView): boolean => workspaces.has(array.buffer as ArrayBuffer);

/** Released workspaces, the latest last, for the next jobs (see LatentWorkspace.take). */
const idle: LatentWorkspace[] = [];
/** At most this much memory is kept in released workspaces (a 2048x2048 hires pass's is 24 MiB, SD 1.5's 1.5 MiB). */
const IDLE_BYTES = 64 * 2 ** 20;

/**
 * A kernels instance of its own with `count` float64 arrays of one latent length in its memory, and room for a
 * guided UNet's input and output. The memory is sized once and never grows, so the arrays stay valid as long as they
 * are held. Lengths that are not a multiple of 4 have none (the kernels would read and write lanes past an array's end).
 */
export class LatentWorkspace {
  private readonly memory = new KernelMemory();
  private readonly arrays: Float64Array[];
  private readonly inputAt: number;
  /** The size of its memory. */
  readonly bytes: number;

  static fits = (length: number): boolean => length > 0 && length % 4 === 0;

  /**
   * A released workspace of this length and at least `count` arrays, or a new one. A new one's memory is fresh: its
   * first touch cost 1.6 ms for 512 KiB here (4 KiB page faults), and its instance 0.2 ms, against a 20-step image's
   * 2 ms of engine work.
   */
  static take(length: number, count: number): LatentWorkspace {
    const at = idle.findLastIndex((w) => w.length === length && w.arrays.length >= count);
    return at >= 0 ? idle.splice(at, 1)[0] : new LatentWorkspace(length, count);
  }

  constructor(
    readonly length: number,
    count: number,
  ) {
    if (!LatentWorkspace.fits(length)) throw new RangeError(`a latent workspace needs a length that is a multiple of 4 (got ${length})`);
    const bytes = 8 * length;
    this.memory.layout(length, (count + 2) * bytes);
    const buffer = this.memory.kernels.memory.buffer;
    const at = (k: number) => this.memory.slotsEnd + k * bytes;
    this.arrays = Array.from({ length: count }, (_, k) => new Float64Array(buffer, at(k), length));
    this.inputAt = at(count);
    workspaces.set(buffer, this.memory);
    this.bytes = buffer.byteLength;
  }

  /** The workspace's array k (0 <= k < count). Its values are whatever its last user left. */
  array(k: number): Float64Array | undefined {
    return this.arrays[k];
  }

  /**
   * Hands the workspace to a later take(): its holder no longer uses it or its arrays. The latest are kept, up to
   * IDLE_BYTES in all (a workspace larger than that is not kept).
   */
  release(): void {
    if (idle.includes(this)) return;
    idle.push(this);
    let bytes = idle.reduce((sum, w) => sum + w.bytes, 0);
    while (bytes > IDLE_BYTES) bytes -= idle.shift()!.bytes;
  }

  /** The UNet's input: `values` (at most 2 x length) float32 values or half bit patterns, in its own room. */
  unetInput(half: boolean, values: number): Float32Array | Uint16Array {
    return this.unetFloats('input', this.inputAt, half, values);
  }

  /** The UNet's output, as unetInput, in a room of its own after the input's. */
  unetOutput(half: boolean, values: number): Float32Array | Uint16Array {
    return this.unetFloats('output', this.inputAt + 8 * this.length, half, values);
  }

  private unetFloats(what: string, at: number, half: boolean, values: number): Float32Array | Uint16Array {
    if (values > 2 * this.length) throw new RangeError(`a UNet ${what} of ${values} values for a workspace of ${this.length}`);
    const buffer = this.memory.kernels.memory.buffer;
    return half ? new Uint16Array(buffer, at, values) : new Float32Array(buffer, at, values);
  }
}
