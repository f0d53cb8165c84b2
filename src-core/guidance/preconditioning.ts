// The Karras-style preconditioning of an SD UNet (eps- or v-prediction on SD's sigmas), shared by the host's guided
// denoiser and the device's run.
import type { PredictionType } from './unet.ts';

/** c_in scales the UNet's input; D = c_skip x + c_out (model output). */
export function preconditioning(prediction: PredictionType, sigma: number): { cIn: number; cSkip: number; cOut: number } {
  const norm = Math.sqrt(sigma * sigma + 1);
  if (prediction === 'epsilon') return { cIn: 1 / norm, cSkip: 1, cOut: -sigma };
  return { cIn: 1 / norm, cSkip: 1 / (sigma * sigma + 1), cOut: -sigma / norm };
}
