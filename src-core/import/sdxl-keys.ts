// An SDXL single-file checkpoint (Stability's "SGM" layout, what A1111, ComfyUI and model sites use) as
// diffusers-named WeightSources: the UNet under "model.diffusion_model." (LDM block numbering, with the
// text_time embedding as "label_emb.0.{0,2}"), the VAE under "first_stage_model.", CLIP ViT-L under
// "conditioner.embedders.0.transformer." (Hugging Face names already) and OpenCLIP ViT-bigG under
// "conditioner.embedders.1.model." (fused q/k/v, text_projection stored as [width, projection], the
// transpose of HF's Linear weight). SDXL keeps every bigG layer: its pooled embedding needs the last one,
// and the penultimate state is taken from the hidden-state outputs (diffusers' convert_open_clip_checkpoint).
import { transposedWeight } from '../onnx/layers.ts';
import { leftOver, namedSource, unetAndVaeRefs, type LdmOptions, type MappedCheckpoint } from './ldm-keys.ts';
import { clipTextRefs, openClipLayerCount, openClipTextRefs } from './ldm-clip-keys.ts';
import { viewOf, type TensorRef } from './safetensors.ts';
import { ImportError, type WeightSource } from './weights.ts';

export const SGM_TEXT_PREFIX = 'conditioner.embedders.0.transformer.';
export const SGM_TEXT2_PREFIX = 'conditioner.embedders.1.model.';

/** An SDXL checkpoint mapped: textEncoder is CLIP ViT-L (HF CLIPTextModel names). */
export interface SgmComponents extends MappedCheckpoint {
  /** OpenCLIP ViT-bigG as HF CLIPTextModelWithProjection (text_model.*, text_projection.weight). */
  textEncoder2: WeightSource;
}

export interface SgmOptions extends Pick<LdmOptions, 'label' | 'requireVae'> {
  /** Layers to keep in text encoder 1 and 2 (from a config folder); default: all of them. */
  textLayers?: number;
  text2Layers?: number;
}

/** The transposed view of a tensor that keeps its dtype (so the dtype check still sees it). */
function transposed(ref: TensorRef): TensorRef {
  return viewOf(ref, transposedWeight(ref));
}

/** Maps an SGM-layout SDXL base checkpoint. Throws ImportError when a component is absent altogether. */
export function mapSgmCheckpoint(raw: WeightSource, options: SgmOptions = {}): SgmComponents {
  const label = options.label ?? 'checkpoint';
  const keys = raw.names();
  const used = new Set<string>();
  const { unet, vae } = unetAndVaeRefs(raw, used, label, options);

  const text = clipTextRefs(raw, SGM_TEXT_PREFIX, options.textLayers, used);
  if (text.size === 0) throw new ImportError(`${label} has no first text encoder (no ${SGM_TEXT_PREFIX}* weights)`);

  const text2 = openClipTextRefs(raw, SGM_TEXT2_PREFIX, options.text2Layers ?? openClipLayerCount(keys, SGM_TEXT2_PREFIX), used);
  const projection = `${SGM_TEXT2_PREFIX}text_projection`;
  if (text2.size === 0 || !raw.has(projection)) {
    throw new ImportError(`${label} has no complete second text encoder (${SGM_TEXT2_PREFIX}* with text_projection)`);
  }
  used.add(projection);
  text2.set('text_projection.weight', transposed(raw.get(projection) as TensorRef));

  return {
    unet: namedSource(unet, `UNet of ${label}`),
    vae: namedSource(vae, `VAE of ${label}`),
    textEncoder: namedSource(text, `first text encoder of ${label}`),
    textEncoder2: namedSource(text2, `second text encoder of ${label}`),
    ...leftOver(keys, used),
  };
}
