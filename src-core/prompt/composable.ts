// AUTOMATIC1111's composable diffusion (`AND`): a prompt is split into parts, each with its own conditioning and a
// weight, and guidance sums them: D = D_u + sum_i w_i s (D_i - D_u) (sd_samplers_cfg_denoiser.py combine_denoised).
// The parsing is A1111's get_multicond_prompt_list (modules/prompt_parser.py), for the prompt only (the negative
// prompt goes through get_learned_conditioning, where `AND` is plain text):
//   re_AND    = r"\bAND\b"                     parts = re_AND.split(prompt)
//   re_weight = r"^((?:\s|.)*?)(?:\s*:\s*([-+]?(?:\d+\.?|\d*\.\d+)))?\s*$"   re_weight.search(part)
// so each part loses its trailing whitespace and a trailing `:weight` (default 1), and a prompt without `AND` is one
// part, its weight read the same way (`a cat :0.5` guides with half the scale, as in A1111). \b, \s and \d are
// Python's Unicode classes (python-chars.ts); float() reads any script's digits.
import { isPythonWordChar, PYTHON_WHITESPACE_CLASS, pythonRstrip, readPythonDecimal } from './python-chars.ts';

export interface PromptPart {
  text: string;
  weight: number;
}

const WS = PYTHON_WHITESPACE_CLASS;
const D = '\\p{Nd}';
/** re_weight after its lazy text group: an optional `:weight`, then whitespace to the end. */
const TAIL = new RegExp(`^(?:${WS}*:${WS}*([-+]?(?:${D}+\\.?|${D}*\\.${D}+)))?${WS}*$`, 'u');

const wordBefore = (s: string, i: number): boolean => {
  if (i === 0) return false;
  const low = s.charCodeAt(i - 1);
  const cp = low >= 0xdc00 && low <= 0xdfff && i >= 2 ? s.codePointAt(i - 2)! : low;
  return isPythonWordChar(cp);
};
const wordAt = (s: string, i: number): boolean => i < s.length && isPythonWordChar(s.codePointAt(i)!);

/** re.split(r"\bAND\b", prompt). */
export function splitAnd(prompt: string): string[] {
  const parts: string[] = [];
  let from = 0;
  for (let at = prompt.indexOf('AND'); at >= 0; at = prompt.indexOf('AND', at + 1)) {
    if (at < from || wordBefore(prompt, at) || wordAt(prompt, at + 3)) continue;
    parts.push(prompt.slice(from, at));
    from = at + 3;
  }
  parts.push(prompt.slice(from));
  return parts;
}

/**
 * One part's text and weight: re_weight.search, whose lazy text group ends where the rest can follow. The rest holds
 * one colon at most, with only whitespace before it, so the text ends before the whitespace ahead of the last colon
 * (with a weight), or else before the trailing whitespace.
 */
export function partWeight(part: string): PromptPart {
  const colon = part.lastIndexOf(':');
  if (colon >= 0) {
    const start = pythonRstrip(part.slice(0, colon)).length;
    const m = TAIL.exec(part.slice(start));
    if (m?.[1] !== undefined) return { text: part.slice(0, start), weight: readPythonDecimal(m[1])! };
  }
  return { text: pythonRstrip(part), weight: 1 };
}

/** A prompt's parts, as A1111's get_multicond_prompt_list reads them. */
export function promptParts(prompt: string): PromptPart[] {
  return splitAnd(prompt).map(partWeight);
}

/**
 * The parts where they change guidance (more than one, or one with a weight other than 1); undefined for a plain
 * prompt, which keeps the usual path (its text is promptParts(prompt)[0].text).
 */
export function composableParts(prompt: string): PromptPart[] | undefined {
  if (!prompt.includes('AND') && !prompt.includes(':')) return undefined;
  const parts = promptParts(prompt);
  return parts.length > 1 || parts[0].weight !== 1 ? parts : undefined;
}

/** The UNet's rows per image: the parts and the negative prompt with AND, 2 guided, 1 unguided. */
export function unetRowsPerImage(prompt: string, cfgScale: number): number {
  const parts = composableParts(prompt);
  return parts ? parts.length + 1 : cfgScale !== 1 ? 2 : 1;
}
