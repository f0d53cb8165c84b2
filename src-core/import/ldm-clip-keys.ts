// The text encoder of an LDM-layout checkpoint under Hugging Face CLIPTextModel names ("text_model.*").
// SD 1 stores HF's CLIPTextModel itself under "cond_stage_model.transformer." (files saved with old
// transformers versions lack the "text_model." level). SD 2 stores OpenCLIP ViT-H under
// "cond_stage_model.model.", with q/k/v fused into one in_proj matrix, and uses the output of its
// penultimate layer: the converted model keeps every layer but the last, as diffusers and A1111 do.
import { elementCount, ImportError, rearrangedRef, type WeightSource } from './weights.ts';
import { viewOf, type TensorRef } from './safetensors.ts';

export const SD1_TEXT_PREFIX = 'cond_stage_model.transformer.';
export const SD2_TEXT_PREFIX = 'cond_stage_model.model.';

/** HF name -> LDM key (both with their full prefixes) for SD 1's CLIP text encoder (SDXL's first one at `prefix`). */
export function sd1TextNames(keys: string[], prefix = SD1_TEXT_PREFIX): Map<string, string> {
  const names = new Map<string, string>();
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    let rest = key.slice(prefix.length);
    if (!rest.startsWith('text_model.')) rest = `text_model.${rest}`;
    // A buffer of 0..76 that the graph computes itself (often int64, sometimes corrupted floats in merges).
    if (rest === 'text_model.embeddings.position_ids') continue;
    names.set(rest, key);
  }
  return names;
}

/** OpenCLIP parts of a residual block -> HF encoder layer parts (in_proj handled separately). */
const OPENCLIP_LAYER_PARTS: Record<string, string> = {
  ln_1: 'layer_norm1',
  ln_2: 'layer_norm2',
  'attn.out_proj': 'self_attn.out_proj',
  'mlp.c_fc': 'mlp.fc1',
  'mlp.c_proj': 'mlp.fc2',
};

const OPENCLIP_TOP: Record<string, string> = {
  'token_embedding.weight': 'text_model.embeddings.token_embedding.weight',
  positional_embedding: 'text_model.embeddings.position_embedding.weight',
  'ln_final.weight': 'text_model.final_layer_norm.weight',
  'ln_final.bias': 'text_model.final_layer_norm.bias',
};

/** The number of residual blocks in an OpenCLIP text encoder (SD 2's, or SDXL's second one at `prefix`). */
export function openClipLayerCount(keys: string[], prefix = SD2_TEXT_PREFIX): number {
  let most = -1;
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    const match = /^transformer\.resblocks\.(\d+)\./.exec(key.slice(prefix.length));
    if (match) most = Math.max(most, Number(match[1]));
  }
  return most + 1;
}

/** How an HF name of SD 2's text encoder is made: from one LDM tensor, or from a third of a fused q/k/v one. */
export type OpenClipSource = { key: string; third?: 0 | 1 | 2 };

/**
 * HF name -> source for SD 2's OpenCLIP text encoder, keeping `layers` layers (default: all but the
 * last, i.e. the penultimate layer's output, which is what SD 2 was trained with). SDXL's second text
 * encoder is the same layout at another prefix (text_projection is mapped by the caller).
 */
export function sd2TextNames(keys: string[], layers?: number, prefix = SD2_TEXT_PREFIX): Map<string, OpenClipSource> {
  const available = openClipLayerCount(keys, prefix);
  const kept = layers ?? available - 1;
  if (kept < 1 || kept > available) {
    throw new ImportError(`the text encoder config asks for ${kept} layers but the checkpoint's OpenCLIP text encoder has ${available}`);
  }
  const names = new Map<string, OpenClipSource>();
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    if (OPENCLIP_TOP[rest]) {
      names.set(OPENCLIP_TOP[rest], { key });
      continue;
    }
    const match = /^transformer\.resblocks\.(\d+)\.(.+)\.(weight|bias)$/.exec(rest);
    if (!match || Number(match[1]) >= kept) continue;
    const layer = `text_model.encoder.layers.${match[1]}`;
    if (match[2] === 'attn.in_proj') continue; // fused names are not in this form; see below
    const part = OPENCLIP_LAYER_PARTS[match[2]];
    if (part) names.set(`${layer}.${part}.${match[3]}`, { key });
  }
  for (const key of keys) {
    const match = key.startsWith(prefix)
      ? /^transformer\.resblocks\.(\d+)\.attn\.in_proj_(weight|bias)$/.exec(key.slice(prefix.length))
      : null;
    if (!match || Number(match[1]) >= kept) continue;
    (['q', 'k', 'v'] as const).forEach((which, third) => {
      names.set(`text_model.encoder.layers.${match[1]}.self_attn.${which}_proj.${match[2]}`, { key, third: third as 0 | 1 | 2 });
    });
  }
  return names;
}

/** One third (q, k or v) of a fused in_proj weight [3C, C] or bias [3C], read when needed. */
export function thirdOf(fused: TensorRef, third: 0 | 1 | 2, name: string): TensorRef {
  const [rows, ...rest] = fused.shape;
  if (rows === undefined || rows % 3 !== 0 || rest.length > 1) {
    throw new ImportError(`tensor ${name}: fused q/k/v of shape [${fused.shape.join(', ')}] cannot be split in three`);
  }
  const shape = [rows / 3, ...rest];
  const size = elementCount(shape);
  // A copy of the third (float16 bit patterns too, which an fp16 import writes as they are): it must not keep the
  // whole fused matrix alive, or expose it through .buffer.
  return viewOf(
    fused,
    rearrangedRef([fused], shape, ([values], out) => out.set(values!.subarray(third * size, (third + 1) * size))),
  );
}

/** CLIP ViT-L's tensors under HF names from keys under `prefix`: the first `layers` encoder layers, all when undefined. */
export function clipTextRefs(raw: WeightSource, prefix: string, layers: number | undefined, used: Set<string>): Map<string, TensorRef> {
  const text = new Map<string, TensorRef>();
  for (const [name, key] of sd1TextNames(raw.names(), prefix)) {
    const layer = /^text_model\.encoder\.layers\.(\d+)\./.exec(name);
    if (layer && layers !== undefined && Number(layer[1]) >= layers) continue;
    used.add(key);
    text.set(name, raw.get(key) as TensorRef);
  }
  return text;
}

/** OpenCLIP's tensors under HF names from keys under `prefix` (fused q/k/v split in three); `layers` as sd2TextNames. */
export function openClipTextRefs(raw: WeightSource, prefix: string, layers: number | undefined, used: Set<string>): Map<string, TensorRef> {
  const text = new Map<string, TensorRef>();
  for (const [name, source] of sd2TextNames(raw.names(), layers, prefix)) {
    used.add(source.key);
    const ref = raw.get(source.key) as TensorRef;
    text.set(name, source.third === undefined ? ref : thirdOf(ref, source.third, source.key));
  }
  return text;
}
