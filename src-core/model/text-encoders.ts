// The text encoders of a model folder and which of their outputs condition the UNet. SD 1/2 use
// text_encoder's last_hidden_state. SDXL (as optimum exports it) uses the penultimate hidden state of
// text_encoder and of text_encoder_2, joined along the channel axis, plus text_encoder_2's projected
// pooled output (text_embeds); the outputs are found by name in the session metadata.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadClipTokenizer, type ClipTokenizer } from '../tokenizer/clip-tokenizer.ts';
import { configInteger, type Json } from './configs.ts';
import { ModelError } from './errors.ts';
import { requireNames, type ComponentSession } from './session.ts';
import type { FloatType } from './tensors.ts';
import type { FinalLayerNorm } from './clip-skip.ts';
import { statRegularFile } from '../regular-file.ts';

export interface TextEncoderPart {
  component: 'text_encoder' | 'text_encoder_2';
  tokenizer: ClipTokenizer;
  session: ComponentSession;
  inputType: 'int32' | 'int64';
  /** Positions of one chunk (77). */
  tokens: number;
  /** Channels of `statesOutput`. */
  hidden: number;
  /** The output whose [tokens, hidden] states condition the UNet. */
  statesOutput: string;
  statesFloat: FloatType;
  /** SDXL's text_encoder_2: the projected pooled vector (text_embeds) and its width. */
  pooled?: { output: string; width: number };
  /** Clip skip: `statesOutput` is an earlier layer's, which goes through this layer norm (model/clip-skip.ts). */
  finalNorm?: FinalLayerNorm;
}

const HIDDEN_STATE = /^hidden_states\.(\d+)$/;

export function lastDim(shape: ReadonlyArray<number | string>): number | undefined {
  const d = shape[shape.length - 1];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

export async function loadTokenizer(dir: string, component: 'tokenizer' | 'tokenizer_2'): Promise<ClipTokenizer> {
  // merges.txt is read as plain text: a pipe there would block the read, a link to /dev/zero never end.
  for (const name of ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
    const path = join(dir, component, name);
    if (existsSync(path)) statRegularFile(path, { label: `${component}/${name}`, as: (e) => new ModelError(component, e.message) });
  }
  try {
    return await loadClipTokenizer(resolve(dir, component));
  } catch (error) {
    throw new ModelError(component, (error as Error).message);
  }
}

/**
 * transformers' hidden_states[-2]: with L layers there are L + 1 states (the embeddings, then each layer's
 * output), so the penultimate is hidden_states.{L-1}. L comes from the config where it says, else from the
 * highest hidden_states.N output.
 */
function penultimateOutput(session: ComponentSession, config: Json | undefined): string {
  const indices = [...session.outputs.keys()]
    .map((n) => HIDDEN_STATE.exec(n))
    .filter((m) => m !== null)
    .map((m) => Number(m![1]));
  if (indices.length === 0) {
    throw new ModelError(
      session.component,
      `has no hidden_states.N outputs (found ${[...session.outputs.keys()].map((n) => `"${n}"`).join(', ')}); SDXL ` +
        `conditions on the penultimate layer, which optimum exports for SDXL pipelines as hidden_states.0 to hidden_states.N`,
    );
  }
  const layers =
    config?.num_hidden_layers === undefined ? Math.max(...indices) : configInteger(config, 'num_hidden_layers', 1, session.component, 1000);
  if (layers < 2) throw new ModelError(session.component, `has ${layers} layer; SDXL needs the penultimate layer's states`);
  const name = `hidden_states.${layers - 1}`;
  if (!session.outputs.has(name))
    throw new ModelError(
      session.component,
      `has ${layers} layers but no output "${name}" (the penultimate layer's states, which SDXL uses)`,
    );
  return name;
}

function floatOf(session: ComponentSession, output: string): FloatType {
  const type = session.outputs.get(output)!.type;
  if (type !== 'float32' && type !== 'float16')
    throw new ModelError(session.component, `output "${output}" has type ${type}; float32 or float16 expected`);
  return type;
}

/**
 * Describes one opened text encoder. `sdxl`: take the penultimate hidden state (and, for text_encoder_2,
 * text_embeds); otherwise last_hidden_state as SD 1/2 do.
 */
export function describeTextEncoder(
  session: ComponentSession,
  tokenizer: ClipTokenizer,
  config: Json | undefined,
  options: { sdxl: boolean; pooled: boolean },
): TextEncoderPart {
  const component = session.component as TextEncoderPart['component'];
  requireNames(session, ['input_ids'], options.pooled ? ['text_embeds'] : ['last_hidden_state']);
  const input = session.inputs.get('input_ids')!;
  if (input.type !== 'int32' && input.type !== 'int64')
    throw new ModelError(component, `input_ids has type ${input.type}; int32 or int64 expected`);
  const statesOutput = options.sdxl ? penultimateOutput(session, config) : 'last_hidden_state';
  const hidden = lastDim(session.outputs.get(statesOutput)!.shape) ?? configInteger(config, 'hidden_size', 0, component);
  if (hidden === 0)
    throw new ModelError(component, 'the width of its hidden states is neither in the graph nor in config.json (hidden_size)');
  const tokens = typeof input.shape[1] === 'number' ? input.shape[1] : tokenizer.maxLength;
  const part: TextEncoderPart = {
    component,
    tokenizer,
    session,
    inputType: input.type,
    tokens,
    hidden,
    statesOutput,
    statesFloat: floatOf(session, statesOutput),
  };
  if (options.pooled) {
    const width = lastDim(session.outputs.get('text_embeds')!.shape) ?? configInteger(config, 'projection_dim', 0, component);
    if (width === 0)
      throw new ModelError(component, 'the width of text_embeds is neither in the graph nor in config.json (projection_dim)');
    floatOf(session, 'text_embeds');
    part.pooled = { output: 'text_embeds', width };
  }
  return part;
}
