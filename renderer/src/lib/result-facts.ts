// The facts the result panel shows beside a generated image that its gallery entry does not carry as fields: A1111's
// variation seed and strength, read from the image's parameters text (as the engine wrote it).

export interface ImageVariation {
  seed: number;
  strength: number;
}

/**
 * "Variation seed: 101, Variation seed strength: 0.3" in the parameters' settings line (the last line: the prompts above
 * it may hold any text), or null when the image was not varied.
 */
export function imageVariation(parameters: string): ImageVariation | null {
  const settings = parameters.slice(parameters.lastIndexOf('\n') + 1);
  const seed = /(?:^|, )Variation seed: (\d+)(?:,|$)/.exec(settings);
  const strength = /(?:^|, )Variation seed strength: ([\d.]+)(?:,|$)/.exec(settings);
  if (!seed || !strength) return null;
  return { seed: Number(seed[1]), strength: Number(strength[1]) };
}

/** The "Variation seed" fact: "101 (strength 0.3)". */
export function variationFact(parameters: string): { label: string; value: string } | null {
  const variation = imageVariation(parameters);
  return variation ? { label: 'Variation seed', value: `${variation.seed} (strength ${variation.strength})` } : null;
}
