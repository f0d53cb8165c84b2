// The generate command's variation options, A1111's "Extra" seed options: --variation-seed N, --variation-strength X
// ("Variation seed", "Variation seed strength") and --seed-resize-from WxH ("Resize seed from width/height"), and its
// seed setting --ensd N ("Eta noise seed delta").
import { randomInt } from 'node:crypto';
import { GenerateRequestFields, GenerateRequestSchema, type GenerateRequestInput } from '../contract/generate.ts';
import { checkedNumberOption, ignoredNote } from './option-values.ts';

export const VARIATION_HELP = `  --variation-strength X how far (0-1) each image's first noise turns towards its variation seed's (A1111's
                         "Variation seed strength"; default 0: off). Every image then keeps --seed
  --variation-seed N     the first image's variation seed; image k uses N + k (default: random)
  --seed-resize-from WxH draw each image's first noise for this size and paste it centred (A1111's "Resize seed from";
                         a seed keeps much of its picture at another size; default 0x0: off)
  --ensd N               A1111's "Eta noise seed delta": the noise samplers draw after the start (Euler a...) comes
                         from seed + N's generator (NovelAI's images used 31337; default 0: off)
`;

export const VARIATION_OPTIONS = {
  'variation-seed': { type: 'string' },
  'variation-strength': { type: 'string' },
  'seed-resize-from': { type: 'string' },
  ensd: { type: 'string' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/**
 * --seed-resize-from WxH, each side checked as its request field. A side of 0 is off, as in A1111: left out of the
 * request (with a note unless both are 0).
 */
function seedResizeFromCli(spec: string | boolean | undefined): { fields: Partial<GenerateRequestInput>; notes: string[] } {
  if (spec === undefined) return { fields: {}, notes: [] };
  const match = /^(\d+)x(\d+)$/.exec(String(spec).trim());
  if (!match) throw new Error(`--seed-resize-from must be WIDTHxHEIGHT, e.g. 512x768 (got "${String(spec)}")`);
  const width = Number(match[1]),
    height = Number(match[2]);
  const checked = GenerateRequestSchema.safeParse({ prompt: '', seed: 0, seedResizeFromWidth: width, seedResizeFromHeight: height });
  if (!checked.success) {
    const sides = checked.error.issues.map((issue) => `${issue.path[0] === 'seedResizeFromWidth' ? 'width' : 'height'} ${issue.message}`);
    throw new Error(`--seed-resize-from ${width}x${height}: ${sides.join('; ')}`);
  }
  if (width === 0 || height === 0) {
    const notes = width === height ? [] : [`--seed-resize-from ${width}x${height} has a side of 0, which turns it off (as in A1111)`];
    return { fields: {}, notes };
  }
  return { fields: { seedResizeFromWidth: width, seedResizeFromHeight: height }, notes: [] };
}

/**
 * The request's variation fields (none at strength 0 or unset) and seed resize, and a note for a variation seed given
 * without a strength.
 */
export function variationFromCli(values: Values): { fields: Partial<GenerateRequestInput>; notes: string[] } {
  const fields = GenerateRequestFields.shape;
  const seedDelta = checkedNumberOption(values, 'ensd', fields.etaNoiseSeedDelta);
  const resize = seedResizeFromCli(values['seed-resize-from']);
  if (seedDelta) resize.fields.etaNoiseSeedDelta = seedDelta;
  const strength = checkedNumberOption(values, 'variation-strength', fields.variationStrength);
  const seed = checkedNumberOption(values, 'variation-seed', fields.variationSeed);
  if (!strength) {
    const notes = seed === undefined ? [] : [ignoredNote(['variation-seed'], 'runs with --variation-strength over 0', 'this run has none')];
    return { fields: resize.fields, notes: [...notes, ...resize.notes] };
  }
  const variation = { variationStrength: strength, variationSeed: seed ?? randomInt(0, 2 ** 32) };
  return { fields: { ...variation, ...resize.fields }, notes: resize.notes };
}
