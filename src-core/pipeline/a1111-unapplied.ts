// Keys of A1111's (and Forge's) parameters that change the image but that this app does not apply: each one present
// with a value that has an effect gets a note, so that a dropped PNG does not pass for reproduced when it is not.
// Names and effects from A1111's modules/processing.py, sd_samplers_kdiffusion.py and shared_options.py.

/** Whether the value does something (A1111 writes most only when changed, some also at their defaults). */
type Effect = (value: string) => boolean;

const any: Effect = () => true;
const isTrue: Effect = (value) => value.trim().toLowerCase() === 'true';
const nonZero: Effect = (value) => {
  const n = Number(value.trim());
  return !(Number.isFinite(n) && n === 0);
};

/** key: [what it is in A1111, when it has an effect] */
const UNAPPLIED: Record<string, [string, Effect]> = {
  'Eta DDIM': ["DDIM's eta (DDIM is deterministic here)", nonZero],
  'SGM noise multiplier': ["SDXL's start noise scaled by sqrt(1 + sigma_max^2)", isTrue],
  NGMS: ['the negative guidance minimum sigma (steps below it skip the negative prompt)', nonZero],
  'Skip Early CFG': ['the negative prompt ignored in early steps', nonZero],
  'Token merging ratio': ['token merging (ToMe) in the UNet', nonZero],
  'Token merging ratio hr': ["token merging (ToMe) in hires fix's pass", nonZero],
  'Downcast alphas_cumprod': ["the schedule's alphas_cumprod rounded to float16", isTrue],
  Tiling: ['seamless tiling', isTrue],
  'Face restoration': ['face restoration after decoding', any],
  Refiner: ['the SDXL refiner model', any],
  'Extra noise': ["img2img's extra noise", nonZero],
  'Image CFG scale': ["instruct-pix2pix's image guidance", any],
  Hypernet: ['a hypernetwork', any],
};

/** Notes for the unapplied keys in `values` (an A1111 parameters text's key-value pairs). */
export function unappliedNotes(values: Record<string, string>): string[] {
  const notes: string[] = [];
  for (const [key, [what, effect]] of Object.entries(UNAPPLIED)) {
    const value = values[key];
    if (value === undefined || !effect(value)) continue;
    notes.push(`"${key}: ${value.trim().slice(0, 40)}" (${what}) is not applied here: the image will differ from the original`);
  }
  return notes;
}
