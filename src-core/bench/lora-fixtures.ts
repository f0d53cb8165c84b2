// What the LoRA benchmark runs on, written by it: an SD 1.5-sized UNet of random weights (SD 1.5's tensor list,
// bench/import/sd15-ldm-shapes.json, under the importer's names and through its graph builder) and random kohya
// LoRA files for it (fp16, as most downloaded files are). Nothing large is committed.
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../app-root.ts';
import { writeModel } from '../onnx/write-model.ts';
import { buildUNet } from '../import/unet-graph.ts';
import { ldmUNetNames } from '../import/ldm-unet-keys.ts';
import { elementCount, weightMap, type WeightRef } from '../import/weights.ts';
import { safetensorsHeader } from '../import/safetensors.ts';
import { toHalfBits } from '../model/half.ts';
import { LayerTable, type LayerTarget } from '../adapters/layer-names.ts';
import { componentWeights, readModelProto } from '../adapters/onnx-patch.ts';

/** SD 1.5's UNet config (runwayml/stable-diffusion-v1-5 unet/config.json). */
const SD15_UNET_CONFIG = {
  _class_name: 'UNet2DConditionModel',
  act_fn: 'silu',
  attention_head_dim: 8,
  block_out_channels: [320, 640, 1280, 1280],
  center_input_sample: false,
  cross_attention_dim: 768,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  downsample_padding: 1,
  flip_sin_to_cos: true,
  freq_shift: 0,
  in_channels: 4,
  layers_per_block: 2,
  mid_block_scale_factor: 1,
  norm_eps: 1e-5,
  norm_num_groups: 32,
  out_channels: 4,
  sample_size: 64,
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  upcast_attention: false,
  use_linear_projection: false,
};

/** Deterministic small values (a fixed LCG), about +-0.03. */
function fill(out: Float32Array, seed: number): Float32Array {
  let state = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = ((state >>> 8) / 2 ** 24 - 0.5) * 0.06;
  }
  return out;
}

/** Writes dir/unet (model.onnx, model.onnx_data, config.json) for SD 1.5's UNet with random fp32 weights. */
export async function writeRandomUNet(dir: string): Promise<void> {
  const shapes = JSON.parse(readFileSync(join(appRoot(), 'bench', 'import', 'sd15-ldm-shapes.json'), 'utf8')) as Record<
    string,
    [number[], string]
  >;
  const prefix = 'model.diffusion_model.';
  const keys = Object.keys(shapes)
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length));
  const refs = new Map<string, WeightRef>();
  let seed = 1;
  for (const [name, key] of ldmUNetNames(keys)) {
    const shape = shapes[prefix + key]![0];
    const mySeed = seed++;
    refs.set(name, {
      shape,
      read: (scratch) => fill(scratch?.floats(elementCount(shape)) ?? new Float32Array(elementCount(shape)), mySeed),
    });
  }
  const graph = buildUNet(weightMap(refs), SD15_UNET_CONFIG as never, { float: 'float32', attention: 'mha' });
  await writeModel(graph, join(dir, 'unet'));
  writeFileSync(join(dir, 'unet', 'config.json'), JSON.stringify(SD15_UNET_CONFIG, null, 2));
}

/** The layers a usual kohya LoRA trains: every transformer's attention, feed-forward and projections. */
export function attentionLayers(targets: LayerTarget[]): LayerTarget[] {
  return targets.filter((t) =>
    /attentions\.\d+\.(proj_in|proj_out|transformer_blocks\.\d+\.(attn[12]\.(to_q|to_k|to_v|to_out\.0)|ff\.net\.(0\.proj|2)))$/.test(
      t.module,
    ),
  );
}

/**
 * The layers a usual kohya LoRA trains (attentionLayers) in the UNet graph at `unetOnnx` (its `unet/` weight names),
 * and the graph's table of layers, which LoRA modules are matched against.
 */
export function loraLayersOf(unetOnnx: string): { layers: LayerTarget[]; table: LayerTable } {
  const weights = componentWeights(readModelProto(unetOnnx));
  const table = new LayerTable('unet', weights, { layersPerBlock: 2 });
  const layers = attentionLayers(
    [...new Set([...weights.dims.keys()].map((n) => n.replace(/\.weight(\.T)?$/, '')))]
      .map((m) => table.dotted(m))
      .filter((t) => t !== undefined),
  );
  return { layers, table };
}

/**
 * A kohya LoRA file (diffusers-layout names, fp16 factors) of `rank` for the given layers. `baseModel`: kohya's
 * ss_base_model_version, the family it says it was trained on (sd_v1, sdxl_base_v1-0).
 */
export function writeRandomLora(path: string, layers: LayerTarget[], rank: number, alpha: number, seed: number, baseModel = 'sd_v1'): void {
  const header: Record<string, unknown> = {
    __metadata__: { ss_network_dim: String(rank), ss_network_alpha: String(alpha), ss_base_model_version: baseModel },
  };
  const parts: Uint8Array[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], values: Float32Array, dtype: 'F16' | 'F32') => {
    const bytes = dtype === 'F16' ? new Uint8Array(toHalfBits(values).buffer) : new Uint8Array(values.buffer);
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  };
  for (const [i, layer] of layers.entries()) {
    const name = `lora_unet_${layer.module.replaceAll('.', '_')}`;
    const [out, ...rest] = layer.shape;
    const inner = rest.reduce((a, b) => a * b, 1);
    const kernel = rest.length > 1 ? [1, 1] : [];
    add(`${name}.lora_down.weight`, [rank, rest[0]!, ...rest.slice(1)], fill(new Float32Array(rank * inner), seed * 7919 + 2 * i), 'F16');
    add(`${name}.lora_up.weight`, [out!, rank, ...kernel], fill(new Float32Array(out! * rank), seed * 7919 + 2 * i + 1), 'F16');
    add(`${name}.alpha`, [], Float32Array.of(alpha), 'F32');
  }
  mkdirSync(join(path, '..'), { recursive: true });
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, safetensorsHeader(header));
    for (const part of parts) writeSync(fd, part);
  } finally {
    closeSync(fd);
  }
}
