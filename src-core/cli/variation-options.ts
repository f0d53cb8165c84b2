// The generate command's variation options (A1111's "Variation seed" and "Variation seed strength"):
// --variation-seed N, --variation-strength X.
import { randomInt } from 'node:crypto';
import { GenerateRequestFields, type GenerateRequestInput } from '../contract/generate.ts';
import { checkedNumberOption, ignoredNote } from './option-values.ts';

export const VARIATION_HELP = `  --variation-strength X how far (0-1) each image's first noise turns towards its variation seed's (A1111's
                         "Variation seed strength"; default 0: off). Every image then keeps --seed
  --variation-seed N     the first image's variation seed; image k uses N + k (default: random)
`;

export const VARIATION_OPTIONS = {
  'variation-seed': { type: 'string' },
  'variation-strength': { type: 'string' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** The request's variation fields (none at strength 0 or unset), and a note for a variation seed given without a strength. */
export function variationFromCli(values: Values): { fields: Partial<GenerateRequestInput>; notes: string[] } {
  const fields = GenerateRequestFields.shape;
  const strength = checkedNumberOption(values, 'variation-strength', fields.variationStrength);
  const seed = checkedNumberOption(values, 'variation-seed', fields.variationSeed);
  if (!strength) {
    const notes = seed === undefined ? [] : [ignoredNote(['variation-seed'], 'runs with --variation-strength over 0', 'this run has none')];
    return { fields: {}, notes };
  }
  return { fields: { variationStrength: strength, variationSeed: seed ?? randomInt(0, 2 ** 32) }, notes: [] };
}
