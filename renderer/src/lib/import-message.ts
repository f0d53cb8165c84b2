// What the notes box says after png.read: which image the parameters came from (by name, never by its
// seed alone), or that the PNG had none, and what could not be carried over.
import type { ParametersImportResult } from '../../../src-core/contract/api.ts';

export interface ImportMessage {
  /** False when the PNG carried no parameters: the form is left as it was. */
  found: boolean;
  headline: string;
  notes: string[];
}

const NO_PARAMETERS = 'this PNG has no generation parameters';

/**
 * `source` names the image as the user knows it: '"photo.png"', 'the gallery image "seed 42, 10:14, Euler"'.
 * `img2imgSource`: whether the form has an img2img source image (an img2img PNG does not carry its own).
 */
export function importMessage(source: string, result: ParametersImportResult, currentModel?: string, img2imgSource = false): ImportMessage {
  const found = Object.keys(result.request).length > 0;
  const notes = result.notes.filter((n) => n !== NO_PARAMETERS);
  if (found && result.model && currentModel && result.model !== currentModel) {
    notes.push(`the image was made with the model "${result.model}"; the current model is "${currentModel}"`);
  }
  const strength = result.request.strength;
  if (found && typeof strength === 'number' && !result.request.hires && !img2imgSource) {
    notes.push(
      `the image was made with img2img (denoising strength ${strength}) from a source image that PNGs do not carry: ` +
        'choose that image as the img2img source to make it again; without one, Generate makes a new image from the prompt',
    );
  }
  if (!found) return { found, headline: `${source}: ${NO_PARAMETERS}.`, notes };
  return { found, headline: `Loaded parameters from ${source}${notes.length ? ':' : '.'}`, notes };
}
