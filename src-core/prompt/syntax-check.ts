// A prompt A1111 would refuse is refused before its job is queued, in the words encoding would use. The texts
// checked are the texts encoding reads (conditioning.ts): each AND part, each part's and the negative prompt's
// scheduled texts for every pass (prompt editing can make a weight that only one text holds, as in
// `(a:[1.2:1.2.3:5])`), or the typed texts where nothing is scheduled.
import { RequestError } from '../contract/generate.ts';
import { parseExtraNetworks } from '../adapters/prompt-tags.ts';
import { promptParts } from './composable.ts';
import type { PassSteps } from './conditioning.ts';
import { parseEmphasis, PromptSyntaxError } from './emphasis.ts';
import { hasScheduling, promptSchedule } from './schedule.ts';
import { checkHiresParts } from './hires-prompt.ts';

/**
 * Throws a RequestError naming the prompt and the fault. `passes`: each pass's steps (pipeline/prompt-steps.ts);
 * without them, only texts without prompt editing (what the CLI can check before a model is loaded).
 */
export function checkPromptSyntax(prompts: { prompt: string; negativePrompt: string }, passes?: readonly PassSteps[]): void {
  // LoRA tags leave the prompt before encoding; the negative prompt's are read as text (model-adapters.ts).
  const all = promptParts(parseExtraNetworks(prompts.prompt).prompt);
  const parts = all.length > 1 || all[0].weight !== 1 ? all : [all[0]];
  const negative = prompts.negativePrompt;
  const scheduled = passes !== undefined && (parts.some((part) => hasScheduling(part.text)) || hasScheduling(negative));
  // Without the passes a scheduled text is left for the check after planning (its texts depend on the steps).
  const textsOf = (text: string): string[] =>
    scheduled
      ? passes.flatMap((pass) => promptSchedule(text, pass.steps, pass.hires).map((t) => t.text))
      : passes === undefined && hasScheduling(text)
        ? []
        : [text];
  const checks: Array<[string, string[], string[]]> = [
    ['prompt', parts.map((part) => part.text), parts.flatMap((part) => textsOf(part.text))],
    ['negative prompt', [negative], textsOf(negative)],
  ];
  // Hires fix's own texts (pipeline/prompt-steps.ts hiresPrompts, tags removed), scheduled for their pass only.
  for (const pass of passes ?? []) {
    const ownTexts = (text: string) => (hasScheduling(text) ? promptSchedule(text, pass.steps, pass.hires).map((t) => t.text) : [text]);
    if (pass.prompt !== undefined) {
      checkHiresParts(parseExtraNetworks(prompts.prompt).prompt, pass.prompt);
      const own = promptParts(pass.prompt);
      checks.push(['hires prompt', own.map((part) => part.text), own.flatMap((part) => ownTexts(part.text))]);
    }
    if (pass.negativePrompt !== undefined) checks.push(['hires negative prompt', [pass.negativePrompt], ownTexts(pass.negativePrompt)]);
  }
  for (const [label, typed, texts] of checks) {
    for (const text of new Set(texts)) {
      try {
        parseEmphasis(text);
      } catch (error) {
        if (!(error instanceof PromptSyntaxError)) throw error;
        // The error's character counts in the text encoded, which prompt editing may have made.
        const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
        const made = typed.includes(text) ? '' : ` (in "${shown}", a text prompt editing makes)`;
        throw new RequestError(`${label}${made}: ${error.message}`);
      }
    }
  }
}
