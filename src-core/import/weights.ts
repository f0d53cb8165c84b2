// The common currency of the importer: weights by diffusers name, read lazily so that a graph can be
// built from a whole checkpoint and written one tensor at a time (a model is never held whole in memory).

/** A tensor that is read only when the graph is written (one at a time, so a model is never held whole). */
export interface WeightRef {
  readonly shape: readonly number[];
  read(): Float32Array;
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
