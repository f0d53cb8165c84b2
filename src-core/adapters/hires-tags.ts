// Hires fix's own prompt and LoRAs: A1111 users copy the prompt into the hires prompt, tags and all, so the same LoRA
// tags there are fine (they leave the hires prompt as they leave the prompt). Different ones would need another set
// of adapted weights for the second pass alone, which this app does not make: refused in words.
import { RequestError } from '../contract/generate.ts';
import { loraCalls, parseExtraNetworks, type LoraCall } from './prompt-tags.ts';

const callKey = (call: LoraCall) => `${call.name}:${call.te}:${call.unet}:${call.dyn ?? ''}`;

/** Throws a RequestError where the hires prompt's LoRA tags are not the prompt's (names and weights; order aside). */
export function checkHiresLoras(prompt: string, hiresPrompt: string | undefined): void {
  if (!hiresPrompt) return;
  const main = loraCalls(parseExtraNetworks(prompt).tags).map(callKey).sort();
  const hires = loraCalls(parseExtraNetworks(hiresPrompt).tags).map(callKey).sort();
  if (main.join('\u0000') === hires.join('\u0000')) return;
  const shown = (keys: string[]) => (keys.length === 0 ? 'none' : keys.map((k) => `<lora:${k.replace(/:$/, '')}>`).join(' '));
  throw new RequestError(
    `the hires prompt's LoRA tags (${shown(hires)}) are not the prompt's (${shown(main)}): both passes run with the prompt's ` +
      "LoRAs here (a LoRA set for the second pass alone is not supported); give the hires prompt the prompt's LoRA tags, or leave it empty",
  );
}
