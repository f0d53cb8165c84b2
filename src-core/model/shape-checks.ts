// Configs checked against what the sessions declare and do, so that a folder that could never
// generate (an impossible native size, a VAE factor its decoder does not have) is refused at load.
import { LIMITS } from '../contract/generate.ts';
import { ModelError } from './errors.ts';
import type { ComponentSession } from './session.ts';
import { floatTensor, type FloatType } from './tensors.ts';

const fixed = (d: number | string | undefined): number | undefined => (typeof d === 'number' && d > 0 ? d : undefined);

/**
 * The latent size: the UNet config's sample_size, which must agree with the `sample` input when the
 * export fixed its height and width.
 */
export function latentSizeOf(unet: ComponentSession, configured: number | undefined): number {
  const shape = unet.inputs.get('sample')!.shape;
  const h = fixed(shape[2]),
    w = fixed(shape[3]);
  if (h !== undefined && w !== undefined) {
    if (configured !== undefined && (configured !== h || configured !== w)) {
      throw new ModelError('unet', `config sample_size is ${configured} but unet/model.onnx takes ${h}x${w} latents`);
    }
    if (h === w) return h;
  }
  return configured ?? 64;
}

export function checkNativeSize(latentSize: number, vaeFactor: number): void {
  const side = latentSize * vaeFactor;
  if (side > LIMITS.imageSide) {
    throw new ModelError(
      'unet',
      `sample_size ${latentSize} at ${vaeFactor} pixels per latent cell (the VAE's block_out_channels) makes ${side}x${side} images; ` +
        `an image side is at most ${LIMITS.imageSide}`,
    );
  }
}

/**
 * Decodes a tiny latent to learn how many pixels the decoder really makes per latent cell, and
 * checks the decoder's fixed input size, if any, against the UNet's.
 */
export async function checkDecoderFactor(
  decoder: ComponentSession,
  expected: { vaeFactor: number; blocks: number; latentChannels: number; latentSize: number; float: FloatType },
): Promise<void> {
  const shape = decoder.inputs.get('latent_sample')!.shape;
  const h = fixed(shape[2]),
    w = fixed(shape[3]);
  if ((h !== undefined && h !== expected.latentSize) || (w !== undefined && w !== expected.latentSize)) {
    throw new ModelError(
      'vae_decoder',
      `decodes ${h ?? 'any'}x${w ?? 'any'} latents but the UNet makes ${expected.latentSize}x${expected.latentSize}`,
    );
  }
  const side = h ?? 2,
    batch = fixed(shape[0]) ?? 1;
  const latent = floatTensor(expected.float, new Float32Array(batch * expected.latentChannels * side * side), [
    batch,
    expected.latentChannels,
    side,
    side,
  ]);
  let out: readonly number[];
  try {
    out = (await decoder.session.run({ latent_sample: latent }, ['sample'])).sample.dims;
  } catch (error) {
    throw new ModelError(
      'vae_decoder',
      `could not decode a ${side}x${side} test latent: ${(error as Error).message.split('\n')[0].slice(0, 300)}`,
    );
  }
  const factor = out[2] / side;
  if (out.length !== 4 || out[2] !== out[3] || factor !== expected.vaeFactor) {
    throw new ModelError(
      'vae_decoder',
      `block_out_channels has ${expected.blocks} entries (${expected.vaeFactor} pixels per latent cell) but the decoder makes ` +
        `${factor} pixels per latent cell (a ${side}x${side} latent decodes to ${out.slice(2).join('x')})`,
    );
  }
}
