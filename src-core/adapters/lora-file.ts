// The modules of a LoRA .safetensors file, in the three layouts people download: kohya / A1111
// ("lora_unet_<path>.lora_down.weight", ".lora_up.weight", ".alpha"; "lora_te_", "lora_te1_", "lora_te2_"),
// LoCon (the same keys on convolutions, 1x1 and 3x3 kernels), and diffusers / PEFT ("<path>.lora_A.weight",
// ".lora_B.weight"; older diffusers files "<path>.lora.down.weight" or "to_q_lora.down.weight"). Other LyCORIS
// kinds (LoHa, LoKr, IA3, OFT, DoRA, CP-decomposed LoCon) are listed as unsupported, never dropped silently.
import { openSafetensors, type SafetensorsFile, type TensorRef } from '../import/safetensors.ts';
import { ImportError } from '../import/weights.ts';

/** A LoRA file that cannot be used as it is (unreadable, damaged values): the request is refused, naming it. */
export class LoraFileError extends Error {
  override name = 'LoraFileError';
}

export type LoraComponent = 'unet' | 'text_encoder' | 'text_encoder_2';

export interface LoraModule {
  /** The module's name as the file writes it (for reports). */
  key: string;
  /** The component the file says it belongs to; undefined where the file does not say (bare PEFT names). */
  component?: LoraComponent;
  /** 'underscored': a kohya name (dots made underscores); 'dotted': a diffusers module path. */
  style: 'underscored' | 'dotted';
  name: string;
  down: TensorRef;
  up: TensorRef;
  alpha?: number;
}

export interface LoraContents {
  modules: LoraModule[];
  /** Modules of kinds this app does not apply (LoHa, LoKr, ...), by name and kind. */
  unsupported: Array<{ key: string; kind: string }>;
  metadata: Readonly<Record<string, string>>;
}

const KOHYA_PREFIXES: Array<[string, LoraComponent]> = [
  ['lora_unet_', 'unet'],
  ['lora_te1_', 'text_encoder'],
  ['lora_te2_', 'text_encoder_2'],
  ['lora_te_', 'text_encoder'],
];
const DOTTED_PREFIXES: Array<[string, LoraComponent | undefined]> = [
  ['unet.', 'unet'],
  ['text_encoder_2.', 'text_encoder_2'],
  ['text_encoder.', 'text_encoder'],
  ['base_model.model.', undefined],
];
/** Parameter names of the LyCORIS kinds that are not plain low-rank products. */
const OTHER_KINDS: Array<[RegExp, string]> = [
  [/^hada_/, 'LoHa'],
  [/^lokr_/, 'LoKr'],
  [/^(on_input|weight)$/, 'IA3'],
  [/^oft_|^oft_blocks|^oft_diag/, 'OFT'],
  [/^dora_scale$/, 'DoRA'],
  [/^lora_mid\.weight$/, 'LoCon with CP decomposition'],
  [/^(w_norm|b_norm)$/, 'norm'],
  [/^(diff|diff_b)$/, 'full weight difference'],
];

interface Parts {
  down?: string;
  up?: string;
  alpha?: string;
  other?: string;
}

/** Splits a key into its module and the module's parameter name, in any of the known layouts. */
function splitKey(key: string): { module: string; part: keyof Parts; raw: string } | undefined {
  let m = /^(.+?)\.(lora_down\.weight|lora_up\.weight|alpha|lora_A(?:\.[^.]+)?\.weight|lora_B(?:\.[^.]+)?\.weight)$/.exec(key);
  if (m) {
    const p = m[2];
    const part = p === 'alpha' ? 'alpha' : p.startsWith('lora_down') || p.startsWith('lora_A') ? 'down' : 'up';
    return { module: m[1], part, raw: p };
  }
  // Older diffusers files: "<module>.lora.down.weight", "<attn>.processor.to_q_lora.down.weight", "<mlp>.lora_linear_layer.up.weight".
  m = /^(.+?)(\.lora|_lora|\.lora_linear_layer)\.(down|up)\.weight$/.exec(key);
  if (m) return { module: `${m[1]}${m[2] === '_lora' ? '_lora' : ''}`, part: m[3] as 'down' | 'up', raw: m[3] };
  m = /^(lora_(?:unet|te\d?)_[^.]+)\.(.+)$/.exec(key);
  if (m) return { module: m[1], part: 'other', raw: m[2] };
  return undefined;
}

/** An old diffusers attention-processor path ("attn1.processor.to_q_lora", "self_attn.to_q_lora") as the module it changes. */
function diffusersModule(path: string): string {
  return path
    .replace(/\.processor\.(to_[qkv])_lora$/, '.$1')
    .replace(/\.processor\.to_out_lora$/, '.to_out.0')
    .replace(/\.self_attn\.to_([qkv])_lora$/, '.self_attn.$1_proj')
    .replace(/\.self_attn\.to_out_lora$/, '.self_attn.out_proj');
}

function classify(module: string): Pick<LoraModule, 'component' | 'style' | 'name'> | undefined {
  for (const [prefix, component] of KOHYA_PREFIXES) {
    if (module.startsWith(prefix)) return { component, style: 'underscored', name: module.slice(prefix.length) };
  }
  for (const [prefix, component] of DOTTED_PREFIXES) {
    if (module.startsWith(prefix)) return { component, style: 'dotted', name: diffusersModule(module.slice(prefix.length)) };
  }
  if (module.includes('.')) return { component: undefined, style: 'dotted', name: diffusersModule(module) };
  return undefined;
}

function scalar(file: SafetensorsFile, key: string): number {
  let values: Float32Array;
  try {
    values = file.read(key);
  } catch (error) {
    if (error instanceof ImportError) throw new LoraFileError(`the LoRA file ${file.path}: ${(error as Error).message}`);
    throw error;
  }
  if (values.length !== 1 || !Number.isFinite(values[0]))
    throw new LoraFileError(`the LoRA file ${file.path}: ${key} is not one finite number`);
  return values[0];
}

/**
 * Reads the file's header and groups its tensors into modules (values are read later, when applied). A file that cannot
 * be read is a LoraFileError naming it (the reader's words say what is wrong), so that the request is refused in them.
 */
export function readLoraFile(path: string): { contents: LoraContents; file: SafetensorsFile } {
  let file: SafetensorsFile;
  try {
    file = openSafetensors(path);
  } catch (error) {
    if (error instanceof ImportError) throw new LoraFileError(`the LoRA file ${path} cannot be read: ${error.message}`);
    throw error;
  }
  try {
    const groups = new Map<string, Parts>();
    const unknown: string[] = [];
    for (const key of file.names()) {
      const split = splitKey(key);
      if (!split) {
        unknown.push(key);
        continue;
      }
      const parts = groups.get(split.module) ?? {};
      if (split.part === 'other') parts.other ??= split.raw;
      else parts[split.part] = key;
      groups.set(split.module, parts);
    }
    const modules: LoraModule[] = [];
    const unsupported: LoraContents['unsupported'] = [];
    for (const [module, parts] of groups) {
      if (parts.other !== undefined && (parts.down === undefined || OTHER_KINDS.some(([re]) => re.test(parts.other!)))) {
        const kind = OTHER_KINDS.find(([re]) => re.test(parts.other!))?.[1] ?? `unknown parameter "${parts.other}"`;
        unsupported.push({ key: module, kind });
        continue;
      }
      const where = classify(module);
      if (!where || parts.down === undefined || parts.up === undefined) {
        unsupported.push({
          key: module,
          kind: parts.down === undefined || parts.up === undefined ? 'incomplete (no up or down matrix)' : 'unknown layout',
        });
        continue;
      }
      modules.push({
        key: module,
        ...where,
        down: file.weight(parts.down),
        up: file.weight(parts.up),
        ...(parts.alpha !== undefined ? { alpha: scalar(file, parts.alpha) } : {}),
      });
    }
    for (const key of unknown) unsupported.push({ key, kind: 'not a LoRA tensor' });
    if (modules.length === 0 && unsupported.length === 0) throw new LoraFileError(`the LoRA file ${path} holds no tensors`);
    return { contents: { modules, unsupported, metadata: file.metadata }, file };
  } catch (error) {
    file.close();
    throw error;
  }
}

/** The base model family a LoRA's metadata names (kohya's ss_* keys, modelspec), as A1111 reads it. */
export function loraBaseModel(metadata: Readonly<Record<string, string>>): 'SD 1' | 'SD 2' | 'SDXL' | undefined {
  const architecture = metadata['modelspec.architecture'] ?? '';
  if (String(metadata.ss_base_model_version ?? '').startsWith('sdxl_') || architecture.startsWith('stable-diffusion-xl')) return 'SDXL';
  if (metadata.ss_v2 === 'True' || architecture.startsWith('stable-diffusion-v2')) return 'SD 2';
  if (architecture.startsWith('stable-diffusion-v1') || Object.keys(metadata).some((k) => k.startsWith('ss_'))) return 'SD 1';
  return undefined;
}
