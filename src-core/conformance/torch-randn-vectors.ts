// Format "torch-randn-vectors/1": what torch.randn(shape, generator=torch.Generator(device).manual_seed(seed))
// returns, as elements at given flat indices plus the sum and sum of squares of the whole tensor.
// Each case's `generator` field says which generator made it: "cuda" for the CUDA generator,
// "generator" or "cpu" for the CPU one (the file's `reference` text is the fallback when a case has no
// such field). Pass: every listed value within 1e-6 * max(1, |expected|); sum and sum_sq within 1e-3
// relative (of max(1, |expected|), so that a sum that happens to be near zero is not held to nothing).
import { TorchCpuNoiseStream, type TorchSeed } from '../noise/torch-cpu.ts';
import { TorchCudaNoiseStream } from '../noise/torch-cuda.ts';
import type { NoiseStream } from '../noise/types.ts';
import type { CaseResult } from './formats.ts';

export interface TorchRandnCase {
  id?: string;
  /** A JSON number, or a decimal string for seeds above 2^53 (JSON numbers lose digits there). */
  seed: number | string;
  shape: number[];
  generator?: string;
  indices: number[];
  values: number[];
  sum: number;
  sum_sq: number;
}

export interface TorchRandnDoc {
  format?: string;
  reference?: string;
  cases: TorchRandnCase[];
}

export const TORCH_RANDN_VALUE_TOLERANCE = 1e-6;
export const TORCH_RANDN_MOMENT_TOLERANCE = 1e-3;

export type TorchGeneratorKind = 'cpu' | 'cuda';

/** Which generator a case is for: its `generator` field, else the file's reference text. */
export function generatorKind(c: TorchRandnCase, reference?: string): TorchGeneratorKind {
  if (c.generator !== undefined) {
    const g = String(c.generator).toLowerCase();
    if (g === 'cuda' || g.startsWith('cuda:')) return 'cuda';
    if (g === 'cpu' || g === 'generator') return 'cpu';
    throw new Error(`unknown generator ${JSON.stringify(c.generator)} (known: "generator"/"cpu", "cuda")`);
  }
  if (reference !== undefined) {
    if (/device\s*=\s*['"]cuda|Generator\(\s*['"]cuda/.test(reference)) return 'cuda';
    if (/device\s*=\s*['"]cpu|Generator\(\s*\)/.test(reference)) return 'cpu';
  }
  throw new Error('the case has no "generator" field and the file\'s reference does not name a device');
}

/**
 * The seed as torch.Generator.manual_seed receives it: negative seeds wrap to 2^64 + seed as in torch
 * (from -2^63). A JSON number above 2^53 is taken as the number it parsed to (digits may have been lost
 * in parsing: write such seeds as strings).
 */
export function torchSeedOf(seed: unknown): TorchSeed {
  let value: bigint;
  if (typeof seed === 'string' && /^-?\d+$/.test(seed.trim())) value = BigInt(seed.trim());
  else if (typeof seed === 'number' && Number.isInteger(seed)) value = BigInt(seed);
  else throw new RangeError(`seed must be a whole number (got ${JSON.stringify(seed)})`);
  if (value < 0n && value >= -(1n << 63n)) value += 1n << 64n;
  return value;
}

export function createTorchStream(kind: TorchGeneratorKind, seed: TorchSeed): NoiseStream {
  return kind === 'cuda' ? new TorchCudaNoiseStream(seed) : new TorchCpuNoiseStream(seed);
}

export function runTorchRandnCase(c: TorchRandnCase, reference?: string): CaseResult {
  const shape = Array.isArray(c.shape) ? c.shape : [];
  let id = c.id ?? `seed=${String(c.seed)} shape=${shape.join('x')}`;
  try {
    const kind = generatorKind(c, reference);
    id = c.id ?? `${kind} ${id}`;
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`bad shape ${JSON.stringify(c.shape)}`);
    if (!Array.isArray(c.indices) || !Array.isArray(c.values) || c.indices.length !== c.values.length) {
      throw new Error('indices and values must be arrays of the same length');
    }
    const numel = shape.reduce((a, b) => a * b, 1);
    const noise = createTorchStream(kind, torchSeedOf(c.seed)).randn(numel);

    const problems: string[] = [];
    let worst = 0,
      worstAt = -1;
    c.indices.forEach((index, k) => {
      if (!Number.isSafeInteger(index) || index < 0 || index >= numel) {
        problems.push(`index ${index} is outside the tensor (${numel} elements)`);
        return;
      }
      const expected = c.values[k];
      const ratio = Math.abs(noise[index] - expected) / (TORCH_RANDN_VALUE_TOLERANCE * Math.max(1, Math.abs(expected)));
      if (!(ratio <= worst)) {
        worst = Number.isNaN(ratio) ? Infinity : ratio;
        worstAt = k;
      }
    });
    if (worst > 1) {
      problems.push(`element ${c.indices[worstAt]}: got ${noise[c.indices[worstAt]]}, expected ${c.values[worstAt]}`);
    }
    let sum = 0,
      sumSq = 0;
    for (let i = 0; i < numel; i++) {
      sum += noise[i];
      sumSq += noise[i] * noise[i];
    }
    const sumErr = Math.abs(sum - c.sum) / Math.max(1, Math.abs(c.sum));
    const sumSqErr = Math.abs(sumSq - c.sum_sq) / Math.max(1, Math.abs(c.sum_sq));
    if (!(sumErr <= TORCH_RANDN_MOMENT_TOLERANCE)) problems.push(`sum ${sum} vs ${c.sum}`);
    if (!(sumSqErr <= TORCH_RANDN_MOMENT_TOLERANCE)) problems.push(`sum_sq ${sumSq} vs ${c.sum_sq}`);
    return {
      id,
      pass: problems.length === 0,
      detail:
        `values=${c.indices.length} worst_err/tol=${worst.toFixed(2)} ` +
        `sum_rel=${sumErr.toExponential(1)} sum_sq_rel=${sumSqErr.toExponential(1)}` +
        (problems.length ? ' -- ' + problems.join('; ') : ''),
    };
  } catch (error) {
    return { id, pass: false, detail: `error: ${(error as Error).message}` };
  }
}

export function runTorchRandnVectors(doc: TorchRandnDoc): CaseResult[] {
  if (!doc || !Array.isArray(doc.cases)) throw new Error('a torch-randn-vectors/1 file needs a "cases" array');
  return doc.cases.map((c) => runTorchRandnCase(c, doc.reference));
}
