// Lanczos-3 resampling of RGB images (the filter behind A1111's resizes, Pillow's LANCZOS), and A1111's three
// img2img resize modes. Separable: rows first, then columns, in floating point; one rounding at the end.
import type { ResizeMode } from '../contract/images.ts';
import type { RgbImage } from './decode.ts';

export type { ResizeMode } from '../contract/images.ts';

const LOBES = 3;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

const lanczos = (x: number) => (Math.abs(x) < LOBES ? sinc(x) * sinc(x / LOBES) : 0);

interface Taps {
  first: number;
  weights: Float64Array;
}

/**
 * For each output sample, the input samples it reads and their normalised weights. Output sample i's
 * centre lies at (i + 0.5) * in/out in input coordinates; when shrinking, the kernel widens by in/out so
 * that it also low-pass filters (as Pillow does).
 */
function taps(inSize: number, outSize: number): Taps[] {
  const scale = inSize / outSize,
    stretch = Math.max(scale, 1),
    support = LOBES * stretch;
  return Array.from({ length: outSize }, (_, i) => {
    const centre = (i + 0.5) * scale;
    const first = Math.max(0, Math.floor(centre - support + 0.5));
    const last = Math.min(inSize, Math.floor(centre + support + 0.5));
    const weights = new Float64Array(last - first);
    let sum = 0;
    for (let j = first; j < last; j++) sum += weights[j - first] = lanczos((j + 0.5 - centre) / stretch);
    for (let k = 0; k < weights.length; k++) weights[k] /= sum;
    return { first, weights };
  });
}

/** Any resize of `image` to width x height (aspect ratio not kept). */
export function lanczosResize(image: RgbImage, width: number, height: number): RgbImage {
  if (image.width === width && image.height === height) return { width, height, data: image.data.slice() };
  const across = taps(image.width, width),
    down = taps(image.height, height);
  const rows = new Float64Array(image.height * width * 3);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < width; x++) {
      const { first, weights } = across[x];
      let r = 0,
        g = 0,
        b = 0;
      for (let k = 0; k < weights.length; k++) {
        const at = (y * image.width + first + k) * 3,
          w = weights[k];
        r += w * image.data[at];
        g += w * image.data[at + 1];
        b += w * image.data[at + 2];
      }
      const to = (y * width + x) * 3;
      rows[to] = r;
      rows[to + 1] = g;
      rows[to + 2] = b;
    }
  }
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const { first, weights } = down[y];
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let k = 0; k < weights.length; k++) v += weights[k] * rows[((first + k) * width + x) * 3 + c];
        out[(y * width + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(v)));
      }
    }
  }
  return { width, height, data: out };
}

/** Copies `source` into a new width x height image at (left, top); parts outside are cut, uncovered pixels stay black. */
function place(source: RgbImage, width: number, height: number, left: number, top: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  for (let y = Math.max(0, top); y < Math.min(height, top + source.height); y++) {
    const x0 = Math.max(0, left),
      x1 = Math.min(width, left + source.width);
    out.set(
      source.data.subarray(((y - top) * source.width + x0 - left) * 3, ((y - top) * source.width + x1 - left) * 3),
      (y * width + x0) * 3,
    );
  }
  return { width, height, data: out };
}

/**
 * A1111's resize modes (modules/images.py resize_image): "just resize" stretches to the size; "crop and
 * resize" scales to cover the size and cuts the overflow evenly from both sides; "resize and fill" scales to
 * fit inside it and fills the bands on either side by stretching the image's outermost rows or columns.
 */
export function fitImage(image: RgbImage, width: number, height: number, mode: ResizeMode): RgbImage {
  if (mode === 'just-resize') return lanczosResize(image, width, height);
  const ratio = width / height,
    sourceRatio = image.width / image.height;
  // The scaled size, in A1111's integer arithmetic: one side matches, the other follows the aspect ratio.
  const cover = mode === 'crop-and-resize';
  const widthMatches = cover ? ratio > sourceRatio : ratio < sourceRatio;
  const scaledWidth = widthMatches ? width : Math.floor((image.width * height) / image.height);
  const scaledHeight = widthMatches ? Math.floor((image.height * width) / image.width) : height;
  const scaled = lanczosResize(image, Math.max(1, scaledWidth), Math.max(1, scaledHeight));
  const left = Math.floor(width / 2) - Math.floor(scaled.width / 2),
    top = Math.floor(height / 2) - Math.floor(scaled.height / 2);
  const out = place(scaled, width, height, left, top);
  if (cover) return out;
  // Fill: repeat the edge rows (or columns) of the scaled image into the empty bands.
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = x >= left && x < left + scaled.width && y >= top && y < top + scaled.height;
      if (inside) continue;
      const sx = Math.min(scaled.width - 1, Math.max(0, x - left)),
        sy = Math.min(scaled.height - 1, Math.max(0, y - top));
      out.data.set(scaled.data.subarray((sy * scaled.width + sx) * 3, (sy * scaled.width + sx) * 3 + 3), (y * width + x) * 3);
    }
  }
  return out;
}
