// The same-prompt real reference: a committed bank of evaluator features of real procedural images
// (evaluator/real_features.f16 + real_features.json, made by scripts/real-bank.ts), K per prompt of the
// evaluator's prompt set in two disjoint halves. A run's Frechet distance compares its images with real
// images of exactly the prompts (and per-prompt counts) it drew, from half A; half B, the same prompts
// and counts again, gives the real-vs-real floor: what a sampler that drew the real distribution would score.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Evaluator, Labels } from './evaluator.ts';
import { fromHalfBits } from '../model/half.ts';
import { featureStats, frechetDistance, type GaussianStats } from './stats.ts';

export const BANK_INDEX = 'real_features.json';

export interface RealBankIndex {
  description: string;
  /** Raw little-endian float16 [prompts, perPrompt, dim], prompt-major, next to this index. */
  file: string;
  dim: number;
  /** Images per prompt in the bank: the first half is the reference (A), the second the floor's real set (B). */
  perPrompt: number;
  seed: number;
  /** SHA-256 of the evaluator's model.onnx the features were computed with: a retrained evaluator needs a new bank. */
  evaluator_sha256: string;
  made_by: string;
  prompts: string[];
}

/** What a run drew: each prompt with the number of images it generated for it. */
export interface Draw {
  prompt: string;
  count: number;
}

export interface SamePromptReference {
  /** Gaussian statistics of real features (half A) for exactly the run's prompts and counts. */
  stats: GaussianStats;
  /** Frechet distance of a second real set (half B, same prompts and counts) to `stats`. */
  floor: number;
  images: number;
}

export class RealFeatureBank {
  private readonly byPrompt: Map<string, number>;

  constructor(
    readonly index: RealBankIndex,
    private readonly bits: Uint16Array,
  ) {
    if (bits.length !== index.prompts.length * index.perPrompt * index.dim)
      throw new RangeError(
        `${index.file} holds ${bits.length} values, the index describes ${index.prompts.length}x${index.perPrompt}x${index.dim}`,
      );
    this.byPrompt = new Map(index.prompts.map((p, i) => [p, i]));
  }

  /** The bank of `<model>/evaluator/`, or null when the model has none or it was made with another evaluator. */
  static load(evaluatorDir: string): RealFeatureBank | null {
    const indexPath = join(evaluatorDir, BANK_INDEX);
    if (!existsSync(indexPath)) return null;
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as RealBankIndex;
    if (index.evaluator_sha256 !== evaluatorHash(evaluatorDir)) {
      console.warn(`${indexPath} was made with another evaluator model.onnx; run npx tsx scripts/real-bank.ts to remake it`);
      return null;
    }
    const raw = readFileSync(join(evaluatorDir, index.file));
    const bits = new Uint16Array(raw.length / 2);
    for (let i = 0; i < bits.length; i++) bits[i] = raw.readUInt16LE(2 * i);
    return new RealFeatureBank(index, bits);
  }

  /** Images per prompt in each half: the most one prompt of a run can be compared with. */
  get halfSize(): number {
    return Math.floor(this.index.perPrompt / 2);
  }

  has(prompt: string): boolean {
    return this.byPrompt.has(prompt.trim());
  }

  /** The first `count` real feature vectors of a prompt in half 0 (A) or 1 (B). */
  features(prompt: string, half: 0 | 1, count: number): Float32Array[] {
    const p = this.byPrompt.get(prompt.trim());
    if (p === undefined) throw new RangeError(`the real feature bank has no prompt "${prompt}"`);
    if (count > this.halfSize)
      throw new RangeError(`the real feature bank has ${this.halfSize} images per prompt and half (asked ${count})`);
    const { dim, perPrompt } = this.index;
    return Array.from({ length: count }, (_, i) => {
      const start = (p * perPrompt + half * this.halfSize + i) * dim;
      return fromHalfBits(this.bits.subarray(start, start + dim));
    });
  }

  realSet(draws: Draw[], half: 0 | 1): Float32Array[] {
    return draws.flatMap((d) => this.features(d.prompt, half, d.count));
  }

  /** Reference statistics and real-vs-real floor for exactly these prompts and counts. */
  reference(draws: Draw[]): SamePromptReference {
    const stats = featureStats(this.realSet(draws, 0));
    const floor = frechetDistance(featureStats(this.realSet(draws, 1)), stats);
    return { stats, floor, images: draws.reduce((n, d) => n + d.count, 0) };
  }
}

export function evaluatorHash(evaluatorDir: string): string {
  return createHash('sha256')
    .update(readFileSync(join(evaluatorDir, 'model.onnx')))
    .digest('hex');
}

/** Raw uint8 RGB images [n, side, side, 3] (shapes_data's layout) as the RGBA bytes the evaluator takes. */
export function rgbImagesToRgba(raw: Uint8Array, side: number): Uint8Array[] {
  const size = side * side * 3;
  return Array.from({ length: Math.floor(raw.length / size) }, (_, i) => {
    const rgba = new Uint8Array(side * side * 4).fill(255);
    for (let p = 0; p < side * side; p++) rgba.set(raw.subarray(i * size + p * 3, i * size + p * 3 + 3), p * 4);
    return rgba;
  });
}

/**
 * The same-prompt reference for a prompt typed by a person (the Explore view's sweep): the bank prompt with the same
 * attributes (as the evaluator reads them from the words), `count` real images of it, capped at the bank's half size.
 */
export function samePromptReference(evaluator: Pick<Evaluator, 'bank' | 'prompts' | 'promptLabels'>, prompt: string, count: number) {
  const wanted = evaluator.promptLabels(prompt);
  if (!evaluator.bank || !wanted || count < 2) return null;
  const heads = Object.keys(wanted) as Array<keyof Labels>;
  const match = evaluator.prompts.find((p) => heads.every((h) => p.labels[h] === wanted[h]));
  if (!match || !evaluator.bank.has(match.prompt)) return null;
  return { prompt: match.prompt, ...evaluator.bank.reference([{ prompt: match.prompt, count: Math.min(count, evaluator.bank.halfSize) }]) };
}
