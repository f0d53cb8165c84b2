// Which weight of an imported model a LoRA module changes. The importer names every initializer after its
// diffusers weight ("down_blocks.0.attentions.0.proj_in.weight"; a Linear's is stored transposed, as
// "<module>.weight.T"). LoRA files name modules three ways: kohya / A1111 files write a module path with every
// dot made an underscore, in diffusers' layout ("lora_unet_down_blocks_0_attentions_0_proj_in", SD 1 files) or
// in the original LDM layout ("lora_unet_input_blocks_1_1_proj_in", SDXL files), and Hugging Face CLIP names for
// the text encoders; diffusers / PEFT files write the dotted diffusers path. Each module is looked up by name in
// a table built from the model's own initializers, so names are never guessed back from underscores.
import type { ComponentWeights } from './onnx-patch.ts';

/** One weight a LoRA module can change. */
export interface LayerTarget {
  /** The diffusers module path ("mid_block.attentions.0.proj_out"). */
  module: string;
  /** The initializer that holds its weight. */
  initializer: string;
  /** The initializer is the weight transposed ([in, out], a Linear's as the importer stores it). */
  transposed: boolean;
  /** The weight's shape as torch has it ([out, in] or [out, in, kh, kw]). */
  shape: number[];
}

/** LDM ResBlock parts under their diffusers names (the inverse of the importer's map). */
const RESNET_LDM: Record<string, string> = {
  norm1: 'in_layers.0',
  conv1: 'in_layers.2',
  norm2: 'out_layers.0',
  conv2: 'out_layers.3',
  time_emb_proj: 'emb_layers.1',
  conv_shortcut: 'skip_connection',
};

const TOP_LEVEL_LDM: Record<string, string> = {
  'time_embedding.linear_1': 'time_embed.0',
  'time_embedding.linear_2': 'time_embed.2',
  'add_embedding.linear_1': 'label_emb.0.0',
  'add_embedding.linear_2': 'label_emb.0.2',
  conv_in: 'input_blocks.0.0',
  conv_norm_out: 'out.0',
  conv_out: 'out.2',
};

function resnetLdm(prefix: string, rest: string): string | undefined {
  const [part, ...tail] = rest.split('.');
  const ldm = RESNET_LDM[part];
  return ldm === undefined ? undefined : [prefix + ldm, ...tail].join('.');
}

/**
 * The LDM module path of a diffusers UNet module: `layersPerBlock` resnets per down level (up levels have one
 * more), `upHasAttention(level)` tells where an up level's upsampler sits (after its transformer or its resnet).
 */
export function ldmUNetModule(module: string, layersPerBlock: number, upHasAttention: (level: number) => boolean): string | undefined {
  const top = TOP_LEVEL_LDM[module];
  if (top !== undefined) return top;
  const perLevel = layersPerBlock + 1;
  let m = /^down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(module);
  if (m) {
    const block = 1 + Number(m[1]) * perLevel + Number(m[3]);
    return m[2] === 'resnets' ? resnetLdm(`input_blocks.${block}.0.`, m[4]) : `input_blocks.${block}.1.${m[4]}`;
  }
  m = /^down_blocks\.(\d+)\.downsamplers\.0\.conv$/.exec(module);
  if (m) return `input_blocks.${(Number(m[1]) + 1) * perLevel}.0.op`;
  m = /^mid_block\.resnets\.(\d)\.(.+)$/.exec(module);
  if (m) return resnetLdm(`middle_block.${2 * Number(m[1])}.`, m[2]);
  m = /^mid_block\.attentions\.0\.(.+)$/.exec(module);
  if (m) return `middle_block.1.${m[1]}`;
  m = /^up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(module);
  if (m) {
    const block = Number(m[1]) * perLevel + Number(m[3]);
    return m[2] === 'resnets' ? resnetLdm(`output_blocks.${block}.0.`, m[4]) : `output_blocks.${block}.1.${m[4]}`;
  }
  m = /^up_blocks\.(\d+)\.upsamplers\.0\.conv$/.exec(module);
  if (m) {
    const level = Number(m[1]);
    return `output_blocks.${level * perLevel + layersPerBlock}.${upHasAttention(level) ? 2 : 1}.conv`;
  }
  return undefined;
}

/** The weights of one component that LoRA modules can change, by module path (dotted and underscored, both layouts). */
export class LayerTable {
  private readonly byDotted = new Map<string, LayerTarget>();
  private readonly byUnderscored = new Map<string, LayerTarget>();

  constructor(
    readonly component: string,
    weights: ComponentWeights,
    options: { layersPerBlock?: number } = {},
  ) {
    for (const [initializer, dims] of weights.dims) {
      const transposed = initializer.endsWith('.weight.T');
      if (!transposed && !initializer.endsWith('.weight')) continue;
      const module = initializer.slice(0, initializer.lastIndexOf('.weight'));
      // Only matrices and kernels: norms' weights are vectors (reshaped to [C, 1, 1] for GroupNorm) and LoRA leaves them.
      if (dims.length < 2 || (dims.length === 3 && dims[1] === 1 && dims[2] === 1)) continue;
      const shape = transposed ? [dims[1], dims[0]] : [...dims];
      const target = { module, initializer, transposed, shape };
      this.byDotted.set(module, target);
      this.byUnderscored.set(module.replaceAll('.', '_'), target);
    }
    if (options.layersPerBlock !== undefined) {
      const modules = [...this.byDotted.keys()];
      const upHasAttention = (level: number) => modules.some((m) => m.startsWith(`up_blocks.${level}.attentions.`));
      for (const [module, target] of [...this.byDotted]) {
        const ldm = ldmUNetModule(module, options.layersPerBlock, upHasAttention);
        if (ldm !== undefined) this.byUnderscored.set(ldm.replaceAll('.', '_'), target);
      }
    }
  }

  /** A module named the dotted diffusers way. */
  dotted(module: string): LayerTarget | undefined {
    return this.byDotted.get(module);
  }

  /** A module named the kohya way (either layout). */
  underscored(name: string): LayerTarget | undefined {
    return this.byUnderscored.get(name);
  }

  get size(): number {
    return this.byDotted.size;
  }
}
