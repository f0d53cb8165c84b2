// The live preview's colour map applied to a latent, as latent-kernels.wat's preview_rgba (two pixels at a time, with
// SIMD) or, below KERNEL_FROM values or for an odd number of pixels, as a JavaScript loop of the same formula in the
// same order (WebAssembly never fuses a multiply with an add, so both give the same bytes). The kernel is there as the
// preview runs between two UNet calls, a few times a second: V8 had not optimized the loop by then, which took
// 180-260 us at 4x64x64 in the bench's runs.
import { memoryFor } from './kernel-memory.ts';
import { KERNEL_FROM } from './latent-kernels.ts';

/**
 * RGBA bytes for a latent [channels, plane]: per colour, v = k[colour] + sum over c of k[3 + 3c + colour] * x[c] (in
 * channel order), byte = floor(v + 0.5) saturated to [0, 255] (NaN: 0); alpha 255.
 */
export function previewBytes(k: Float64Array, latent: Float64Array, channels: number): Uint8Array {
  const plane = latent.length / channels;
  if (!Number.isInteger(plane) || k.length !== 3 * channels + 3)
    throw new RangeError(`a preview of ${latent.length} values in ${channels} channels with ${k.length} coefficients`);
  if (latent.length < KERNEL_FROM || plane % 2 === 1) return previewLoop(k, latent, channels, plane);
  const m = memoryFor(latent, latent.length);
  // A slot holds 8 bytes per latent value: the 4 per pixel of the bytes fit slot 2, the coefficients slot 3.
  const outAt = 2 * m.slotBytes;
  m.doubles[3].set(k);
  m.kernels.preview_rgba(outAt, m.input(0, latent), 3 * m.slotBytes, channels, 8 * plane);
  return new Uint8Array(m.kernels.memory.buffer.slice(outAt, outAt + 4 * plane));
}

function previewLoop(k: Float64Array, latent: Float64Array, channels: number, plane: number): Uint8Array {
  const out = new Uint8Array(4 * plane);
  const byte = (v: number) => Math.min(255, Math.max(0, Math.floor(v + 0.5)));
  for (let p = 0; p < plane; p++) {
    let r = k[0],
      g = k[1],
      b = k[2];
    for (let c = 0, at = p; c < channels; c++, at += plane) {
      const x = latent[at];
      r += k[3 + 3 * c] * x;
      g += k[4 + 3 * c] * x;
      b += k[5 + 3 * c] * x;
    }
    out[4 * p] = byte(r);
    out[4 * p + 1] = byte(g);
    out[4 * p + 2] = byte(b);
    out[4 * p + 3] = 255;
  }
  return out;
}
