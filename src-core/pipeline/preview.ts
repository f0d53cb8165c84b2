// A cheap live preview: a fixed linear map from latent channels to RGB, applied per latent cell.
// The map is measured once per model by decoding a zero latent and one unit latent per channel,
// so it fits any VAE (SD's published factors would be wrong for other latent spaces).
import type { StableDiffusionModel } from '../model/model.ts';
import { decodeLatents, newTimings } from './components.ts';
import { previewBytes } from '../kernels/preview-kernel.ts';

export interface LatentPreviewMap {
  bias: [number, number, number];
  /** weights[c] = RGB change per unit of channel c. */
  weights: Array<[number, number, number]>;
}

const maps = new WeakMap<StableDiffusionModel, Promise<LatentPreviewMap>>();

export function latentPreviewMap(model: StableDiffusionModel): Promise<LatentPreviewMap> {
  let map = maps.get(model);
  if (!map) {
    map = measure(model);
    maps.set(model, map);
  }
  return map;
}

async function measure(model: StableDiffusionModel): Promise<LatentPreviewMap> {
  const { latentChannels: C } = model.info;
  const side = 2,
    cells = side * side;
  const probes = new Float64Array((C + 1) * C * cells);
  for (let c = 0; c < C; c++) probes.fill(1, (c + 1) * C * cells + c * cells, (c + 1) * C * cells + (c + 1) * cells);
  const images = await decodeLatents(model, probes, C + 1, side, side, newTimings());
  const meanRgb = (image: Float32Array): [number, number, number] => {
    const plane = image.length / 3;
    const m = [0, 1, 2].map((ch) => image.subarray(ch * plane, (ch + 1) * plane).reduce((a, b) => a + b, 0) / plane);
    return [m[0], m[1], m[2]];
  };
  const bias = meanRgb(images[0]);
  const weights = images.slice(1).map((img) => meanRgb(img).map((v, i) => v - bias[i]) as [number, number, number]);
  return { bias, weights };
}

/**
 * The app's previews come at most this often (about 20 a second, whatever the step time): a UNet step on a GPU takes
 * a few ms, and a preview per step would cost the engine and the window more than anyone can see.
 */
export const PREVIEW_INTERVAL_MS = 50;

/**
 * The map as the preview kernel's coefficients, on the byte scale: byte = (rgb + 1) / 2 * 255, so each colour's
 * constant is 127.5 (bias + 1) and each weight 127.5 w (kernels/preview-kernel.ts).
 */
const coefficients = new WeakMap<LatentPreviewMap, Float64Array>();
function coefficientsOf(map: LatentPreviewMap): Float64Array {
  let k = coefficients.get(map);
  if (!k) {
    k = Float64Array.from([...map.bias, ...map.weights.flat()], (v, i) => 127.5 * (i < 3 ? v + 1 : v));
    coefficients.set(map, k);
  }
  return k;
}

/** RGBA bytes at latent resolution for one image's latent [C, h, w], each colour clamped to [-1, 1] (0 and 255). */
export function previewRgba(map: LatentPreviewMap, latent: Float64Array, channels: number, height: number, width: number): Uint8Array {
  // previewBytes refuses a map for another channel count (its coefficients' length).
  if (latent.length !== channels * height * width)
    throw new RangeError(`a preview of ${latent.length} values for ${channels}x${height}x${width}`);
  return previewBytes(coefficientsOf(map), latent, channels);
}
