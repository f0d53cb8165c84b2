// Decoded images ([3, H, W] floats in [-1, 1], the VAE's output) as 8-bit RGBA: for previews, hires fix's pixel
// pass and PNG rows. No onnxruntime here: the PNG encoder's worker thread uses it too (png/encode-thread.ts).

/** One channel value in [-1, 1] as a byte. */
const toByte = (v: number) => Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);

/** [3, H, W] floats in [-1, 1] as RGBA bytes into `out` from `start`, with `rowGap` bytes before every row after the first. */
function writeRgba(image: Float32Array, width: number, height: number, out: Uint8Array, start: number, rowGap: number): void {
  const plane = width * height;
  for (let y = 0, p = 0, o = start; y < height; y++, o += rowGap) {
    for (let x = 0; x < width; x++, p++, o += 4) {
      out[o] = toByte(image[p]);
      out[o + 1] = toByte(image[plane + p]);
      out[o + 2] = toByte(image[2 * plane + p]);
      out[o + 3] = 255;
    }
  }
}

/** [3, H, W] floats in [-1, 1] to RGBA bytes. */
export function toRgba(image: Float32Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  writeRgba(image, width, height, out, 0, 0);
  return out;
}

/** [3, H, W] floats in [-1, 1] straight to a PNG's RGBA rows, each after its filter byte (0: none): one pass, no copy. */
export function toPngRows(image: Float32Array, width: number, height: number): Buffer {
  if (image.length !== 3 * width * height) throw new RangeError(`${image.length} values are not a ${width}x${height} image's 3 planes`);
  const out = Buffer.alloc(height * (width * 4 + 1));
  writeRgba(image, width, height, out, 1, 1);
  return out;
}
