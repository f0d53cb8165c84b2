// A cheap live preview: a fixed linear map from latent channels to RGB, applied per latent cell.
// The map is measured once per model by decoding a zero latent and one unit latent per channel,
// so it fits any VAE (SD's published factors would be wrong for other latent spaces).
import type { StableDiffusionModel } from '../model/model.ts';
import { decodeLatents, newTimings } from './components.ts';

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

/** RGBA bytes at latent resolution for one image's latent [C, h, w]. */
export function previewRgba(map: LatentPreviewMap, latent: Float64Array, channels: number, height: number, width: number): Uint8Array {
  const plane = height * width,
    out = new Uint8Array(plane * 4);
  // The weights as one flat array, [c][rgb]; each colour sums bias + w[0] v[0] + w[1] v[1] + ... in channel order.
  const weights = Float64Array.from(map.weights.flat());
  const r0 = map.bias[0],
    g0 = map.bias[1],
    b0 = map.bias[2];
  for (let p = 0; p < plane; p++) {
    let r = r0,
      g = g0,
      b = b0;
    for (let c = 0, at = p; c < channels; c++, at += plane) {
      const v = latent[at];
      r += weights[3 * c] * v;
      g += weights[3 * c + 1] * v;
      b += weights[3 * c + 2] * v;
    }
    out[4 * p] = Math.round(Math.min(1, Math.max(0, (r + 1) / 2)) * 255);
    out[4 * p + 1] = Math.round(Math.min(1, Math.max(0, (g + 1) / 2)) * 255);
    out[4 * p + 2] = Math.round(Math.min(1, Math.max(0, (b + 1) / 2)) * 255);
    out[4 * p + 3] = 255;
  }
  return out;
}
