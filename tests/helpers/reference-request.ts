// The request the fixture scripts' diffusers reference images were made with (tests/fixtures/**/make_*.py):
// seed 7 on torch's CPU generator, 8 Euler steps over the normal schedule, CFG 7.5, 64x64, no negative prompt.
// The SDXL scripts use CFG 5.
export const REFERENCE_PROMPT = 'a red circle on a blue background';

export const REFERENCE_REQUEST = {
  prompt: REFERENCE_PROMPT,
  negativePrompt: '',
  seed: 7,
  steps: 8,
  cfgScale: 7.5,
  sampler: 'euler',
  schedule: 'normal',
  noiseSource: 'torch-cpu',
  width: 64,
  height: 64,
} as const;
