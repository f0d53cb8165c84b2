// The common currency of the importer: weights by diffusers name, read lazily so that a graph can be
// built from a whole checkpoint and written one tensor at a time (a model is never held whole in memory).

/** A tensor that is read only when the graph is written (one at a time, so a model is never held whole). */
export interface WeightRef {
  readonly shape: readonly number[];
  /** The values; arrays may come from `scratch`, valid until its next reset (the writer's next weight). */
  read(scratch?: Scratch): Float32Array;
  /**
   * The values' float16 bit patterns as a file stores them, where it does and the values are read in its order: an
   * fp16 graph's writer copies them instead of converting them to float32 and back (the same bits; absent otherwise).
   */
  readHalves?(scratch?: Scratch): Uint16Array;
}

/** Values as one weight holds them: float32 values, or float16 bit patterns (WeightRef.readHalves). */
export type WeightValues = Float32Array | Uint16Array;

/**
 * A weight whose values are its sources' values moved into another order by `arrange` (a transpose, a packing), for
 * float32 values and, where every source has them, for float16 bit patterns too: moving values moves their bits.
 */
export function rearrangedRef(
  sources: readonly WeightRef[],
  shape: readonly number[],
  arrange: <T extends WeightValues>(inputs: T[], out: T) => void,
): WeightRef {
  const count = elementCount(shape);
  // A source that gives another number of values than its shape has would be rearranged wrongly, not refused.
  const checked = <T extends WeightValues>(inputs: T[]): T[] => {
    inputs.forEach((values, i) => {
      const expected = elementCount(sources[i]!.shape);
      if (values.length !== expected)
        throw new ImportError(`a weight of shape [${sources[i]!.shape.join(', ')}] gave ${values.length} values`);
    });
    return inputs;
  };
  const ref: WeightRef = {
    shape,
    read(scratch) {
      const out = scratch?.floats(count) ?? new Float32Array(count);
      arrange(checked(sources.map((s) => s.read(scratch))), out);
      return out;
    },
  };
  if (!sources.every((s) => s.readHalves)) return ref;
  return {
    ...ref,
    readHalves(scratch) {
      const out = scratch?.halves(count) ?? new Uint16Array(count);
      arrange(checked(sources.map((s) => s.readHalves!(scratch))), out);
      return out;
    },
  };
}

/** The same values seen with another shape of the same size (a reshape), float16 bit patterns included. */
export function reshapedRef(ref: WeightRef, shape: readonly number[]): WeightRef {
  const view: WeightRef = { shape, read: (scratch) => ref.read(scratch) };
  return ref.readHalves ? { ...view, readHalves: (scratch) => ref.readHalves!(scratch) } : view;
}

/**
 * Memory reused from one weight to the next while a model is written. Fresh memory costs a page fault
 * per 4 KB on first touch (about 7 us each on the 2-core VMs, more than converting the values), and an
 * SD 1.5 import reads a billion values, so readers take their arrays from here instead of allocating.
 */
export class Scratch {
  #buffer = new ArrayBuffer(0);
  #used = 0;

  /** Forgets every array handed out since the last reset; the memory is handed out again. */
  reset(): void {
    this.#used = 0;
  }

  floats(count: number): Float32Array<ArrayBuffer> {
    const offset = this.#take(count * 4);
    return new Float32Array(this.#buffer, offset, count);
  }

  halves(count: number): Uint16Array<ArrayBuffer> {
    const offset = this.#take(count * 2);
    return new Uint16Array(this.#buffer, offset, count);
  }

  bytes(count: number): Uint8Array<ArrayBuffer> {
    const offset = this.#take(count);
    return new Uint8Array(this.#buffer, offset, count);
  }

  /**
   * The offset of a 64-byte aligned slice of the current region. A region too small is replaced by a
   * larger one (arrays already handed out keep the old one alive until they are dropped).
   */
  #take(bytes: number): number {
    let start = Math.ceil(this.#used / 64) * 64;
    if (start + bytes > this.#buffer.byteLength) {
      this.#buffer = new ArrayBuffer(Math.max(2 * this.#buffer.byteLength, 2 * bytes + 64));
      start = 0;
    }
    this.#used = start + bytes;
    return start;
  }
}

/** Weights by their diffusers names (e.g. "down_blocks.0.resnets.0.conv1.weight"). */
export interface WeightSource {
  has(name: string): boolean;
  /** Throws ImportError("missing tensor NAME") when absent. */
  get(name: string): WeightRef;
  names(): string[];
}

/** A problem with the model being imported, phrased for the user. */
export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

/** A simple Map-backed source. */
export function weightMap(entries: Map<string, WeightRef>): WeightSource {
  return {
    has: (name) => entries.has(name),
    get(name) {
      const ref = entries.get(name);
      if (!ref) throw new ImportError(`missing tensor ${name}`);
      return ref;
    },
    names: () => [...entries.keys()],
  };
}

/** An in-memory weight (tests, derived weights). */
export function arrayWeight(shape: number[], data: Float32Array): WeightRef {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new ImportError(`weight of shape [${shape.join(', ')}] given ${data.length} values`);
  return { shape: [...shape], read: () => data };
}

/** The number of values in a tensor of this shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
