// Hires fix's own prompt (A1111's hr_prompt): the second pass encodes it in place of the prompt. Its AND parts are
// encoded per pass, but the guided UNet call keeps one row layout for the whole job (its memory is estimated from
// the prompt), so a hires prompt must have as many parts as the prompt.
import { RequestError } from '../contract/generate.ts';
import { promptParts, type PromptPart } from './composable.ts';

/** A prompt's AND parts, or undefined for a plain prompt (one part of weight 1), as conditioning.ts reads them. */
export function composablePartsOf(prompt: string): PromptPart[] | undefined {
  const all = promptParts(prompt);
  return all.length > 1 || all[0].weight !== 1 ? all : undefined;
}

/** Refuses, in words, a hires prompt whose AND parts do not line up with the prompt's. */
export function checkHiresParts(prompt: string, hiresPrompt: string): void {
  const count = (text: string) => composablePartsOf(text)?.length ?? 0;
  const [main, hires] = [count(prompt), count(hiresPrompt)];
  if (main === hires) return;
  const said = (n: number) => (n === 0 ? 'no AND parts' : `${n} AND part${n === 1 ? ' (a weighted prompt)' : 's'}`);
  throw new RequestError(
    `the hires prompt has ${said(hires)} and the prompt ${said(main)}: a hires prompt needs as many AND parts as the prompt ` +
      '(a part weight such as "cat :0.5" counts as one); use the same number of ANDs in both, or leave the hires prompt empty',
  );
}
