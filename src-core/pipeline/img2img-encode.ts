// Pixels -> latents with the model folder's vae_encoder, for img2img and pixel-space hires fix. The session
// is opened on first use (txt2img never needs it) and released with the model; a LoRA-adapted copy of the model
// shares its base's encoder.
//
// Which latent: the folders this app makes (the importer's, the embedded model's) export the encoder's
// posterior MEAN, unscaled; optimum's exports give "latent_parameters" (mean and log-variance stacked),
// whose mean half is taken. The mean is used, times the VAE's scaling factor. A1111 and diffusers draw a
// sample from the posterior instead (A1111 from torch's global generator, which no seed controls;
// diffusers from the pipeline's generator, before the noise); SD's VAE posterior is narrow, so the two
// differ by little, and the mean keeps img2img a function of the seed alone.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StableDiffusionModel } from '../model/model.ts';
import { ModelError } from '../model/errors.ts';
import { openComponent, type ComponentSession } from '../model/session.ts';
import { floatTensor, readFloats, type FloatType } from '../model/tensors.ts';
import { RequestError } from '../contract/generate.ts';
import type { RgbImage } from '../image/decode.ts';
import type { Timings } from './components.ts';

interface Encoder {
  session: ComponentSession;
  input: string;
  output: string;
  float: FloatType;
}

/** By the model's info, which its adapted copies share (their own dispose() frees nothing): one encoder per model. */
const encoders = new WeakMap<StableDiffusionModel['info'], Promise<Encoder>>();

async function openEncoder(model: StableDiffusionModel): Promise<Encoder> {
  requireVaeEncoder(model);
  const session = await openComponent(model.info.dir, 'vae_encoder', model.provider);
  if (model.sessions) {
    await model.sessions.adopt(session); // the base's sessions, which an adapted copy holds too
  } else {
    const release = model.dispose;
    model.dispose = async () => {
      await session.session.release().catch(() => undefined);
      await release();
    };
  }
  const input = session.inputs.has('sample') ? 'sample' : [...session.inputs.keys()][0];
  const output =
    ['latent_sample', 'latent_parameters', 'latent_dist'].find((name) => session.outputs.has(name)) ?? [...session.outputs.keys()][0];
  const type = session.inputs.get(input)?.type;
  if (type !== 'float32' && type !== 'float16')
    throw new ModelError('vae_encoder', `input "${input}" has type ${type}; float32 or float16 expected`);
  return { session, input, output, float: type };
}

function encoderFor(model: StableDiffusionModel): Promise<Encoder> {
  let encoder = encoders.get(model.info);
  if (!encoder) {
    encoder = openEncoder(model);
    encoders.set(model.info, encoder);
    encoder.catch(() => encoders.delete(model.info));
  }
  return encoder;
}

/** Whether the model's encoder session is open (or opening): it stays until the model is unloaded. */
export function vaeEncoderOpen(model: StableDiffusionModel): boolean {
  return encoders.has(model.info);
}

function noEncoderMessage(model: StableDiffusionModel): string {
  return (
    `${model.info.name} has no VAE encoder (vae_encoder/model.onnx), which img2img and pixel-space hires fix need; ` +
    'import the checkpoint again with this app (it writes one), or use a latent hires upscaler'
  );
}

/** Refuses early (before a job is queued) when the folder has no encoder. */
export function requireVaeEncoder(model: StableDiffusionModel): void {
  if (!existsSync(join(model.info.dir, 'vae_encoder', 'model.onnx'))) throw new RequestError(noEncoderMessage(model));
}

/** RGB bytes to the [-1, 1] NCHW floats the VAE takes. */
export function pixelsToVaeInput(image: RgbImage): Float32Array {
  const plane = image.width * image.height,
    out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = (image.data[p * 3 + c] / 255) * 2 - 1;
  return out;
}

/** One image's sampler-space latent: the encoder's posterior mean times the scaling factor, [C, H/f, W/f]. */
export async function encodeImage(model: StableDiffusionModel, image: RgbImage, timings: Timings): Promise<Float64Array> {
  const { latentChannels, scalingFactor, vaeFactor } = model.info;
  if (image.width % vaeFactor !== 0 || image.height % vaeFactor !== 0) {
    throw new RequestError(`the image to encode is ${image.width}x${image.height}, not a multiple of the VAE factor ${vaeFactor}`);
  }
  const encoder = await encoderFor(model);
  const feeds = { [encoder.input]: floatTensor(encoder.float, pixelsToVaeInput(image), [1, 3, image.height, image.width]) };
  const t0 = performance.now();
  const out = await encoder.session.session.run(feeds, [encoder.output]);
  timings.vaeMs += performance.now() - t0;
  const values = readFloats(out[encoder.output], `vae_encoder ${encoder.output}`);
  const plane = (image.width / vaeFactor) * (image.height / vaeFactor),
    perImage = latentChannels * plane;
  // latent_sample holds C channels; latent_parameters 2C (mean first, then log-variance).
  if (values.length !== perImage && values.length !== 2 * perImage) {
    throw new ModelError(
      'vae_encoder',
      `returned ${values.length} values for a ${image.width}x${image.height} ` +
        `image; expected ${perImage} (or ${2 * perImage} with the log-variance)`,
    );
  }
  const latent = new Float64Array(perImage);
  for (let i = 0; i < perImage; i++) latent[i] = values[i] * scalingFactor;
  return latent;
}
