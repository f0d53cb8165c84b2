// The UNet of an LDM-layout checkpoint (keys after "model.diffusion_model.") under diffusers'
// UNet2DConditionModel names. The LDM layout numbers its blocks in one flat sequence
// (input_blocks.N, output_blocks.N), so the levels are recovered by walking it: a downsampler
// ("input_blocks.N.0.op") ends a level on the way down, and each level on the way up has one
// block more than layers_per_block. Transformer (attention) sub-names are the same in both layouts.
import { ImportError } from './weights.ts';

/** LDM ResBlock parts -> diffusers ResnetBlock2D parts. */
const RESNET_PARTS: Record<string, string> = {
  'in_layers.0': 'norm1',
  'in_layers.2': 'conv1',
  'out_layers.0': 'norm2',
  'out_layers.3': 'conv2',
  'emb_layers.1': 'time_emb_proj',
  skip_connection: 'conv_shortcut',
};

const TOP_LEVEL: Record<string, string> = {
  'time_embed.0': 'time_embedding.linear_1',
  'time_embed.2': 'time_embedding.linear_2',
  // SDXL: the MLP over the pooled text embedding and the size/crop features (diffusers' add_embedding).
  'label_emb.0.0': 'add_embedding.linear_1',
  'label_emb.0.2': 'add_embedding.linear_2',
  'input_blocks.0.0': 'conv_in',
  'out.0': 'conv_norm_out',
  'out.2': 'conv_out',
};

/** "in_layers.2.weight" -> "conv1.weight"; undefined for parts a ResBlock does not have. */
function resnetPart(rest: string): string | undefined {
  const dot = rest.lastIndexOf('.');
  const part = RESNET_PARTS[rest.slice(0, dot)];
  return part === undefined ? undefined : part + rest.slice(dot);
}

/** Splits "input_blocks.4.1.proj_in.weight" into [4, 1, "proj_in.weight"]. */
function blockKey(key: string, kind: string): [number, number, string] | undefined {
  const match = new RegExp(`^${kind}\\.(\\d+)\\.(\\d+)\\.(.+)$`).exec(key);
  return match ? [Number(match[1]), Number(match[2]), match[3]] : undefined;
}

export interface UNetLayout {
  levels: number;
  layersPerBlock: number;
}

/** Levels and layers per level, from the input blocks' numbering. */
export function ldmUNetLayout(keys: string[]): UNetLayout {
  const inputs = new Set<number>();
  const downsamplers = new Set<number>();
  for (const key of keys) {
    const parts = blockKey(key, 'input_blocks');
    if (!parts || parts[0] === 0) continue;
    inputs.add(parts[0]);
    if (parts[1] === 0 && parts[2].startsWith('op.')) downsamplers.add(parts[0]);
  }
  if (inputs.size === 0) throw new ImportError('the checkpoint has no UNet input blocks (model.diffusion_model.input_blocks.*)');
  const last = Math.max(...inputs);
  // Each level but the last is layersPerBlock blocks and a downsampler: L levels give L*(n+1) - 1 blocks.
  const firstDown = Math.min(...downsamplers, last + 1);
  const layersPerBlock = firstDown - 1;
  const levels = (last + 1) / (layersPerBlock + 1);
  const consistent = layersPerBlock > 0 && Number.isInteger(levels) && [...downsamplers].every((n) => n % (layersPerBlock + 1) === 0);
  if (!consistent)
    throw new ImportError(
      `unusual UNet layout: input blocks 1..${last} with downsamplers at ${[...downsamplers].sort((a, b) => a - b).join(', ') || 'none'}`,
    );
  return { levels, layersPerBlock };
}

/** diffusers name -> LDM key (both without the "model.diffusion_model." prefix). Keys it does not know are left out. */
export function ldmUNetNames(keys: string[]): Map<string, string> {
  const { layersPerBlock } = ldmUNetLayout(keys);
  const names = new Map<string, string>();
  const perLevelUp = layersPerBlock + 1;
  for (const key of keys) {
    const name = unetName(key, layersPerBlock, perLevelUp);
    if (name !== undefined) names.set(name, key);
  }
  return names;
}

function unetName(key: string, layersPerBlock: number, perLevelUp: number): string | undefined {
  const dot = key.lastIndexOf('.');
  const top = TOP_LEVEL[key.slice(0, dot)];
  if (top !== undefined) return top + key.slice(dot);

  const input = blockKey(key, 'input_blocks');
  if (input && input[0] > 0) {
    const [n, slot, rest] = input;
    const level = Math.floor((n - 1) / (layersPerBlock + 1)),
      j = (n - 1) % (layersPerBlock + 1);
    if (j === layersPerBlock)
      return slot === 0 && rest.startsWith('op.') ? `down_blocks.${level}.downsamplers.0.conv.${rest.slice(3)}` : undefined;
    if (slot === 0) return prefixed(`down_blocks.${level}.resnets.${j}.`, resnetPart(rest));
    if (slot === 1) return `down_blocks.${level}.attentions.${j}.${rest}`;
    return undefined;
  }

  const middle = /^middle_block\.(\d)\.(.+)$/.exec(key);
  if (middle) {
    const [slot, rest] = [Number(middle[1]), middle[2]];
    if (slot === 1) return `mid_block.attentions.0.${rest}`;
    if (slot === 0 || slot === 2) return prefixed(`mid_block.resnets.${slot / 2}.`, resnetPart(rest));
    return undefined;
  }

  const output = blockKey(key, 'output_blocks');
  if (output) {
    const [n, slot, rest] = output;
    const level = Math.floor(n / perLevelUp),
      j = n % perLevelUp;
    if (slot === 0) return prefixed(`up_blocks.${level}.resnets.${j}.`, resnetPart(rest));
    // The upsampler follows the resnet (slot 1) or the resnet and its transformer (slot 2).
    if (rest.startsWith('conv.') && j === perLevelUp - 1) return `up_blocks.${level}.upsamplers.0.${rest}`;
    if (slot === 1) return `up_blocks.${level}.attentions.${j}.${rest}`;
    return undefined;
  }
  return undefined;
}

function prefixed(prefix: string, part: string | undefined): string | undefined {
  return part === undefined ? undefined : prefix + part;
}
