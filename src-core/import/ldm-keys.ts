// A single-file checkpoint in the original LDM / A1111 layout as three WeightSources under diffusers
// names (unet, vae, text encoder), plus a separate VAE file in either layout. Nothing is read here:
// each mapped weight reads its tensor when the graph is written. EMA copies ("model_ema.*") are
// ignored; every other key that no component uses is listed so the importer can report it.
import { ldmUNetNames } from './ldm-unet-keys.ts';
import { isLdmVaeLayout, ldmVaeNames, vaeDiffusersName, VAE_LINEAR_WEIGHTS } from './ldm-vae-keys.ts';
import { SD1_TEXT_PREFIX, SD2_TEXT_PREFIX, clipTextRefs, openClipTextRefs } from './ldm-clip-keys.ts';
import { viewOf, type TensorRef } from './safetensors.ts';
import { ImportError, reshapedRef, type WeightSource } from './weights.ts';

export const UNET_PREFIX = 'model.diffusion_model.';
export const VAE_PREFIX = 'first_stage_model.';
const EMA_PREFIX = 'model_ema.';

/** What a single-file checkpoint's keys map to (LDM and SGM layouts alike), and what is left over. */
export interface MappedCheckpoint extends LeftOver {
  unet: WeightSource;
  vae: WeightSource;
  textEncoder: WeightSource;
}

export interface LeftOver {
  /** Keys of the file that no component uses (EMA copies excepted), e.g. SD 2's last text layer. */
  unused: string[];
  /** How many "model_ema.*" keys were ignored. */
  emaIgnored: number;
}

export interface LdmComponents extends MappedCheckpoint {
  /** SD 1's CLIP ViT-L ("clip") or SD 2's OpenCLIP ViT-H ("openclip"). */
  textKind: 'clip' | 'openclip';
}

/** The keys that no component used, EMA copies counted apart. */
export function leftOver(keys: string[], used: Set<string>): LeftOver {
  return {
    unused: keys.filter((k) => !used.has(k) && !k.startsWith(EMA_PREFIX)),
    emaIgnored: keys.filter((k) => k.startsWith(EMA_PREFIX)).length,
  };
}

export interface LdmOptions {
  /** Text encoder layers to keep (from an override config); SD 2 default: all but the last. */
  textLayers?: number;
  /** Names the file in error messages. */
  label?: string;
  /** False when a separate VAE file will replace the checkpoint's, which may then have none. */
  requireVae?: boolean;
}

/** A source over a fixed set of refs whose "missing tensor" error says where the tensor was looked for. */
export function namedSource(refs: Map<string, TensorRef>, where: string): WeightSource {
  return {
    has: (name) => refs.has(name),
    get(name) {
      const ref = refs.get(name);
      if (!ref) throw new ImportError(`missing tensor ${name} (${where})`);
      return ref;
    },
    names: () => [...refs.keys()],
  };
}

/** The same tensor viewed with another shape of the same size (1x1 conv [C, C, 1, 1] -> linear [C, C]). */
export function reshaped(ref: TensorRef, shape: number[]): TensorRef {
  return viewOf(ref, reshapedRef(ref, shape));
}

/** Drops trailing 1x1 dimensions of the VAE attention's conv weights. */
function asLinear(ref: TensorRef): TensorRef {
  const shape = [...ref.shape];
  while (shape.length > 2 && shape[shape.length - 1] === 1) shape.pop();
  return shape.length === ref.shape.length ? ref : reshaped(ref, shape);
}

/** VAE weights under today's diffusers names from keys without prefix, in either layout. */
export function vaeRefs(raw: WeightSource, prefix: string, used: Set<string>): Map<string, TensorRef> {
  const keys = raw
    .names()
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length));
  const refs = new Map<string, TensorRef>();
  const names = isLdmVaeLayout(keys) ? ldmVaeNames(keys) : new Map(keys.map((k) => [vaeDiffusersName(k), k]));
  for (const [name, key] of names) {
    if (!/^(encoder|decoder|quant_conv|post_quant_conv)\./.test(name)) continue;
    used.add(prefix + key);
    const ref = raw.get(prefix + key) as TensorRef;
    refs.set(name, VAE_LINEAR_WEIGHTS.test(name) ? asLinear(ref) : ref);
  }
  return refs;
}

/** UNet weights under diffusers names from "model.diffusion_model.*" (LDM and SGM layouts alike). */
export function unetRefs(raw: WeightSource, used: Set<string>, label: string): Map<string, TensorRef> {
  const unetKeys = raw
    .names()
    .filter((k) => k.startsWith(UNET_PREFIX))
    .map((k) => k.slice(UNET_PREFIX.length));
  if (unetKeys.length === 0) throw new ImportError(`${label} has no UNet (no ${UNET_PREFIX}* tensors)`);
  const unet = new Map<string, TensorRef>();
  for (const [name, key] of ldmUNetNames(unetKeys)) {
    used.add(UNET_PREFIX + key);
    unet.set(name, raw.get(UNET_PREFIX + key) as TensorRef);
  }
  return unet;
}

/** A checkpoint's UNet and VAE tensors (LDM and SGM layouts alike); ImportError when the VAE is absent and required. */
export function unetAndVaeRefs(
  raw: WeightSource,
  used: Set<string>,
  label: string,
  options: Pick<LdmOptions, 'requireVae'>,
): { unet: Map<string, TensorRef>; vae: Map<string, TensorRef> } {
  const unet = unetRefs(raw, used, label);
  const vae = vaeRefs(raw, VAE_PREFIX, used);
  if (vae.size === 0 && options.requireVae !== false)
    throw new ImportError(`${label} has no VAE (no ${VAE_PREFIX}* tensors); pass a separate VAE file`);
  return { unet, vae };
}

/** Maps an LDM-layout SD 1 / SD 2 checkpoint. Throws ImportError when a component is absent altogether. */
export function mapLdmCheckpoint(raw: WeightSource, options: LdmOptions = {}): LdmComponents {
  const label = options.label ?? 'checkpoint';
  const keys = raw.names();
  const used = new Set<string>();

  const { unet, vae } = unetAndVaeRefs(raw, used, label, options);

  const openClip = keys.some((k) => k.startsWith(SD2_TEXT_PREFIX));
  const text = openClip
    ? openClipTextRefs(raw, SD2_TEXT_PREFIX, options.textLayers, used)
    : clipTextRefs(raw, SD1_TEXT_PREFIX, options.textLayers, used);
  if (text.size === 0) throw new ImportError(`${label} has no text encoder (no ${SD1_TEXT_PREFIX}* or ${SD2_TEXT_PREFIX}* weights)`);

  return {
    unet: namedSource(unet, `UNet of ${label}`),
    vae: namedSource(vae, `VAE of ${label}`),
    textEncoder: namedSource(text, `text encoder of ${label}`),
    textKind: openClip ? 'openclip' : 'clip',
    ...leftOver(keys, used),
  };
}

/**
 * A separate VAE file (e.g. vae-ft-mse-840000-ema-pruned.safetensors): LDM names with or without
 * "first_stage_model.", or diffusers names (also with a "vae." prefix).
 */
export function mapVaeFile(raw: WeightSource, label = 'VAE file'): { vae: WeightSource; unused: string[] } {
  const keys = raw.names();
  const prefix = [VAE_PREFIX, 'vae.'].find((p) => keys.some((k) => k.startsWith(p + 'decoder.'))) ?? '';
  const used = new Set<string>();
  const vae = vaeRefs(raw, prefix, used);
  if (!vae.has('decoder.conv_in.weight')) throw new ImportError(`${label} is not a VAE: it has no decoder (decoder.conv_in.weight)`);
  return { vae: namedSource(vae, label), unused: keys.filter((k) => !used.has(k)) };
}
