// Requests for the comparison grid and the guidance sweep. No Node or engine imports.
import { z } from 'zod';
import {
  GenerateRequestFields,
  GenerateRequestSchema,
  RestartSettingsSchema,
  SAMPLER_CHOICES,
  SCHEDULE_CHOICES,
  LIMITS,
  workIssue,
  type GenerateRequest,
} from './generate.ts';
import { NOISE_SOURCE_CHOICES } from './generate.ts';
import { RNG_NAMES, samplerSettingIssue, sigmaRangeIssues } from './grid-setting-axes.ts';

const values = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1).max(12);

export const GridAxisSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sampler'), values: values(z.enum(SAMPLER_CHOICES)) }).strict(),
  z.object({ kind: z.literal('steps'), values: values(z.number().int().min(1).max(LIMITS.steps)) }).strict(),
  z.object({ kind: z.literal('cfgScale'), values: values(z.number().finite().min(0).max(LIMITS.cfgScale)) }).strict(),
  z.object({ kind: z.literal('seed'), values: values(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)) }).strict(),
  z.object({ kind: z.literal('restart'), values: values(RestartSettingsSchema) }).strict(),
  z.object({ kind: z.literal('schedule'), values: values(z.enum(SCHEDULE_CHOICES)) }).strict(),
  // A1111's "Prompt S/R": the first value is searched for in the prompts, each value replaces it in turn.
  z.object({ kind: z.literal('promptSR'), values: values(z.string().min(1).max(LIMITS.promptChars)) }).strict(),
  // Denoising strength: img2img's when the base has a source image, else hires fix's (A1111's "Denoising" axis).
  z.object({ kind: z.literal('strength'), values: values(z.number().finite().gt(0).max(1)) }).strict(),
  // A1111's "Clip skip", "Var. seed" and "Var. strength" axes, with the request fields' limits (strength 0: no variation).
  z.object({ kind: z.literal('clipSkip'), values: values(z.number().int().min(1).max(LIMITS.clipSkip)) }).strict(),
  z.object({ kind: z.literal('variationSeed'), values: values(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)) }).strict(),
  z.object({ kind: z.literal('variationStrength'), values: values(z.number().finite().min(0).max(1)) }).strict(),
  // A1111's "Eta", "Sigma noise", "Schedule min sigma", "Schedule max sigma", "Schedule rho" and "RNG source" axes, with
  // the request fields' limits (grid-setting-axes.ts: the samplers that read eta and sNoise, each cell's sigma range).
  z.object({ kind: z.literal('eta'), values: values(GenerateRequestFields.shape.eta.unwrap()) }).strict(),
  z.object({ kind: z.literal('sNoise'), values: values(GenerateRequestFields.shape.sNoise.unwrap()) }).strict(),
  z.object({ kind: z.literal('scheduleSigmaMin'), values: values(GenerateRequestFields.shape.scheduleSigmaMin.unwrap()) }).strict(),
  z.object({ kind: z.literal('scheduleSigmaMax'), values: values(GenerateRequestFields.shape.scheduleSigmaMax.unwrap()) }).strict(),
  z.object({ kind: z.literal('scheduleRho'), values: values(GenerateRequestFields.shape.scheduleRho.unwrap()) }).strict(),
  z.object({ kind: z.literal('noiseSource'), values: values(z.enum(NOISE_SOURCE_CHOICES)) }).strict(),
]);
export type GridAxis = z.output<typeof GridAxisSchema>;
export type AxisKind = GridAxis['kind'];

export const GridRequestSchema = z
  .object({
    base: GenerateRequestSchema,
    x: GridAxisSchema,
    y: GridAxisSchema.optional(),
  })
  .strict()
  .refine((g) => !g.y || g.y.kind !== g.x.kind, { message: 'the two axes must differ', path: ['y'] })
  .superRefine((g, ctx) => {
    for (const which of ['x', 'y'] as const) {
      const axis = g[which];
      if (axis?.kind === 'strength' && !g.base.initImage && !g.base.hires) {
        ctx.addIssue({
          code: 'custom',
          path: [which, 'kind'],
          message: 'a denoising-strength axis needs a source image (img2img) or hires fix in the Generate form',
        });
      }
      const issue = axis && (variationIssue(axis.kind, g) ?? samplerSettingIssue(axis.kind, g));
      if (issue) ctx.addIssue({ code: 'custom', path: [which, 'kind'], message: issue });
      if (axis?.kind !== 'promptSR') continue;
      const search = axis.values[0];
      if (!g.base.prompt.includes(search) && !g.base.negativePrompt.includes(search)) {
        ctx.addIssue({
          code: 'custom',
          path: [which, 'values', 0],
          message: `Prompt S/R: "${search}" is not in the prompt or the negative prompt`,
        });
      }
    }
    sigmaRangeIssues(g, ctx);
  });
export type GridRequest = z.output<typeof GridRequestSchema>;

/**
 * What a variation axis lacks in the base request, or undefined. A strength axis turns each cell towards the base's
 * variation seed (A1111's subseed), so it needs one; a seed axis changes nothing at strength 0 (A1111 would make
 * identical cells). The other axis may give what the base lacks.
 */
function variationIssue(kind: AxisKind, g: { base: GenerateRequest; x: GridAxis; y?: GridAxis }): string | undefined {
  const other = g.x.kind === kind ? g.y?.kind : g.x.kind;
  if (kind === 'variationStrength' && g.base.variationSeed === undefined && other !== 'variationSeed')
    return (
      "a variation-strength axis needs a variation seed (the Generate form's Variation seed, base.variationSeed) " +
      'or a variation-seed axis'
    );
  if (kind === 'variationSeed' && !g.base.variationStrength && other !== 'variationStrength')
    return (
      'a variation-seed axis changes nothing at variation strength 0: set a Variation strength above 0 in the Generate form, ' +
      'or add a variation-strength axis'
    );
  return undefined;
}

const generateFields = GenerateRequestFields.shape;

/** The generate request's fields a sweep takes from the Generate form, optional (no defaults: absent is left out). */
const SWEEP_GENERATE_FIELDS = {
  noiseSource: generateFields.noiseSource.unwrap().optional(),
  clipSkip: generateFields.clipSkip,
  emphasis: generateFields.emphasis.unwrap().optional(),
  etaNoiseSeedDelta: generateFields.etaNoiseSeedDelta,
};

/** The names of those fields: each sweep point's generate request carries them as they are. */
export const SWEEP_GENERATE_KEYS = Object.keys(SWEEP_GENERATE_FIELDS) as Array<keyof typeof SWEEP_GENERATE_FIELDS>;

export const SweepRequestSchema = z
  .object({
    prompt: z.string().max(LIMITS.promptChars),
    negativePrompt: z.string().max(LIMITS.promptChars).default(''),
    samplers: z.array(z.enum(SAMPLER_CHOICES)).min(1).max(6).default(['euler']),
    steps: z.number().int().min(1).max(LIMITS.steps).default(20),
    schedule: z.enum(SCHEDULE_CHOICES).default('karras'),
    cfgScales: z.array(z.number().finite().min(0).max(LIMITS.cfgScale)).min(1).max(12),
    seeds: z.number().int().min(2).max(64).default(8),
    firstSeed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
    restart: RestartSettingsSchema.optional(),
    // The Generate form's settings that change every image, as the generate request's fields (same names and limits);
    // absent means the generate request's default. No width or height: the sweep measures at the model's native size.
    ...SWEEP_GENERATE_FIELDS,
  })
  .strict()
  .superRefine((r, ctx) => {
    const issue = workIssue(r.samplers.length * r.cfgScales.length * r.seeds, r.steps);
    if (issue) ctx.addIssue({ code: 'custom', path: ['seeds'], message: issue });
    // A repeated value would be a second point with the same seeds, and the same images.
    for (const key of ['samplers', 'cfgScales'] as const) {
      const list: unknown[] = r[key];
      const repeated = list.findIndex((v, i) => list.indexOf(v) !== i);
      if (repeated >= 0) ctx.addIssue({ code: 'custom', path: [key, repeated], message: `${list[repeated]} is listed twice` });
    }
  });
export type SweepRequest = z.output<typeof SweepRequestSchema>;
export type SweepRequestInput = z.input<typeof SweepRequestSchema>;

/** A1111's X/Y/Z plot names of the axes it labels "Name: value". */
const SETTING_AXIS_NAMES = {
  eta: 'Eta',
  sNoise: 'Sigma noise',
  scheduleSigmaMin: 'Schedule min sigma',
  scheduleSigmaMax: 'Schedule max sigma',
  scheduleRho: 'Schedule rho',
} as const;

/** The label an axis value gets on the grid and in exports. */
export function axisLabel(kind: AxisKind, value: unknown): string {
  if (kind === 'restart') {
    const r = value as z.output<typeof RestartSettingsSchema>;
    return 'preset' in r ? `restart ${r.preset}` : `restart ${JSON.stringify(r.segments)}`;
  }
  if (kind === 'cfgScale') return `CFG ${value}`;
  if (kind === 'promptSR') return String(value);
  if (kind === 'strength') return `denoising ${value}`;
  // As A1111's X/Y/Z plot writes these axes' values in its legend.
  if (kind === 'clipSkip') return `Clip skip: ${value}`;
  if (kind === 'variationSeed') return `Var. seed: ${value}`;
  if (kind === 'variationStrength') return `Var. strength: ${value}`;
  if (kind in SETTING_AXIS_NAMES) return `${SETTING_AXIS_NAMES[kind as keyof typeof SETTING_AXIS_NAMES]}: ${value}`;
  if (kind === 'noiseSource') return `RNG source: ${RNG_NAMES[value as keyof typeof RNG_NAMES] ?? value}`;
  return `${kind} ${value}`;
}

/**
 * How the engine batches a sweep point's seeds: the largest batch size up to 8 that divides them (count x batchSize
 * makes exactly `seeds` images). The window reads it too: a batch's images share every evaluation.
 */
export function sweepBatchSize(seeds: number): number {
  for (let size = Math.min(seeds, 8); size > 1; size--) if (seeds % size === 0) return size;
  return 1;
}
