// Hires fix's crop of the upscaled latents when resizing to a size (contract/hires-geometry.ts computes where).
import type { HiresGeometry } from '../contract/hires-geometry.ts';

/** [batch, C, H, W] latents with `crop` cells cut from each edge: A1111's samples[:, :, top:H-bottom, left:W-right]. */
export function cropLatents(
  latents: Float64Array,
  shape: { planes: number; h: number; w: number },
  crop: HiresGeometry['crop'],
): Float64Array {
  const { planes, h, w } = shape;
  if (!crop.top && !crop.bottom && !crop.left && !crop.right) return latents;
  const outH = h - crop.top - crop.bottom,
    outW = w - crop.left - crop.right;
  const out = new Float64Array(planes * outH * outW);
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < outH; y++) {
      const from = p * h * w + (y + crop.top) * w + crop.left;
      out.set(latents.subarray(from, from + outW), (p * outH + y) * outW);
    }
  }
  return out;
}
