// The embedded model's independent evaluator: a classifier trained on real procedural images (not
// on the generator's output) that predicts background colour, shape, shape colour and count, and
// exposes a feature vector for Frechet distance and diversity. Lives in <model>/evaluator/.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { RealFeatureBank } from './real-reference.ts';
import type { GaussianStats } from './stats.ts';

export const HEADS = ['background', 'shape', 'color', 'count'] as const;
export type Head = (typeof HEADS)[number];
export type Labels = Record<Head, number>;

export interface EvaluatorSpec {
  input: { name: string; shape: Array<string | number> };
  outputs: Record<string, { kind: 'logits' | 'features'; classes?: Array<string | number>; size?: number }>;
}

export interface PromptCase {
  prompt: string;
  labels: Labels;
}

/** Words after which a prompt no longer names one thing the evaluator can check. */
const NEGATIONS = new Set(['no', 'not', 'without', 'never', 'nor']);
/** Counts the evaluator has no class for (it tells one shape from two). */
const OTHER_COUNTS = new Set(['zero', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'several', 'many', 'few', 'dozen']);

export interface Evaluation {
  predictions: Labels[];
  features: Float32Array[];
}

export class Evaluator {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly spec: EvaluatorSpec,
    readonly reference: GaussianStats,
    readonly prompts: PromptCase[],
    readonly size: number,
    /** Real features per prompt (evaluator/real_features.*), for FD against real images of the same prompts; null when absent. */
    readonly bank: RealFeatureBank | null,
  ) {}

  static async load(modelDir: string): Promise<Evaluator | null> {
    const dir = join(modelDir, 'evaluator');
    if (!existsSync(join(dir, 'model.onnx'))) return null;
    const spec = JSON.parse(readFileSync(join(dir, 'evaluator.json'), 'utf8')) as EvaluatorSpec;
    const stats = JSON.parse(readFileSync(join(dir, 'reference_stats.json'), 'utf8'));
    const prompts = JSON.parse(readFileSync(join(dir, 'prompts.json'), 'utf8')).prompts as PromptCase[];
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    const size = Number(spec.input.shape[spec.input.shape.length - 1]);
    return new Evaluator(session, spec, { mean: stats.mean, cov: stats.cov }, prompts, size, RealFeatureBank.load(dir));
  }

  classes(head: Head): Array<string | number> {
    return this.spec.outputs[head].classes ?? [];
  }

  /** Images as RGBA bytes (as decoded from PNG) of the evaluator's size. */
  async evaluate(images: Uint8Array[], batch = 64): Promise<Evaluation> {
    const s = this.size,
      plane = s * s;
    const out: Evaluation = { predictions: [], features: [] };
    for (let start = 0; start < images.length; start += batch) {
      const chunk = images.slice(start, start + batch);
      const data = new Float32Array(chunk.length * 3 * plane);
      chunk.forEach((rgba, n) => {
        if (rgba.length !== plane * 4) throw new RangeError(`the evaluator takes ${s}x${s} images`);
        for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) data[n * 3 * plane + c * plane + p] = rgba[p * 4 + c] / 127.5 - 1;
      });
      const result = await this.session.run({ [this.spec.input.name]: new ort.Tensor('float32', data, [chunk.length, 3, s, s]) });
      const features = result.features.data as Float32Array,
        dim = features.length / chunk.length;
      for (let n = 0; n < chunk.length; n++) {
        const labels = {} as Labels;
        for (const head of HEADS) {
          const logits = result[head].data as Float32Array,
            k = logits.length / chunk.length;
          let best = 0;
          for (let j = 1; j < k; j++) if (logits[n * k + j] > logits[n * k + best]) best = j;
          labels[head] = best;
        }
        out.predictions.push(labels);
        out.features.push(features.slice(n * dim, (n + 1) * dim));
      }
    }
    return out;
  }

  /**
   * What a prompt asks for, in evaluator classes: the prompt set's labels when the prompt is one of
   * them, otherwise read from the words (colour names, shape names, "two", "on ... background").
   * Null when the words do not name exactly one of each (two shapes, two colours on either side of
   * "on", a count other than one or two, a negation): the evaluator cannot tell what such a prompt asks.
   */
  promptLabels(prompt: string): Labels | null {
    const known = this.prompts.find((p) => p.prompt === prompt.trim());
    if (known) return known.labels;
    const colors = this.classes('color').map(String),
      shapes = this.classes('shape').map(String);
    const words: string[] = prompt.toLowerCase().match(/[a-z]+|[0-9]+/g) ?? [];
    if (words.some((w) => NEGATIONS.has(w) || OTHER_COUNTS.has(w) || (/^[0-9]+$/.test(w) && w !== '1' && w !== '2'))) return null;
    const onIndex = words.lastIndexOf('on');
    // The one colour named in words[from, to), -1 for none or several.
    const colorIn = (from: number, to: number) => {
      const named = new Set(words.slice(from, to).flatMap((w) => (colors.includes(w) ? [colors.indexOf(w)] : [])));
      return named.size === 1 ? [...named][0] : -1;
    };
    const color = colorIn(0, onIndex < 0 ? words.length : onIndex);
    const background = onIndex < 0 ? -1 : colorIn(onIndex + 1, words.length);
    const named = shapes.flatMap((s, i) => (words.includes(s) || words.includes(`${s}s`) ? [i] : []));
    if (color < 0 || background < 0 || named.length !== 1) return null;
    const shape = named[0];
    const plural = words.includes('two') || words.includes('2') || words.includes(`${shapes[shape]}s`);
    const count = this.classes('count')
      .map(Number)
      .indexOf(plural ? 2 : 1);
    return { background, shape, color, count };
  }
}

/** Counts, over batches of predictions, how many images got each attribute right and how many got all of them. */
export class AccuracyTally {
  readonly hits = Object.fromEntries(HEADS.map((h) => [h, 0])) as Record<Head, number>;
  allRight = 0;
  images = 0;

  add(predictions: Labels[], wanted: Labels): void {
    for (const p of predictions) {
      let right = 0;
      for (const h of HEADS)
        if (p[h] === wanted[h]) {
          this.hits[h]++;
          right++;
        }
      if (right === HEADS.length) this.allRight++;
    }
    this.images += predictions.length;
  }

  /** Fraction of the images counted so far with this attribute (or, for 'all', every attribute) right. */
  rate(head: Head | 'all'): number {
    return (head === 'all' ? this.allRight : this.hits[head]) / this.images;
  }
}

/** Fraction of images whose every attribute matches what the prompt asked for. */
export function promptAccuracy(predictions: Labels[], wanted: Labels): number {
  const hits = predictions.filter((p) => HEADS.every((h) => p[h] === wanted[h])).length;
  return hits / predictions.length;
}
