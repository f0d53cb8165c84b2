// The ONNX graph of Hugging Face's CLIPTextModel (transformers 4.44 modeling_clip.py), SD's text encoder:
// SD 1 is CLIP ViT-L (quick_gelu), SD 2 OpenCLIP ViT-H in its HF form (gelu, 23 layers: diffusers drops the
// last one so that last_hidden_state is the penultimate layer through final_layer_norm). SDXL uses CLIP ViT-L
// and CLIPTextModelWithProjection (OpenCLIP bigG) with every layer's hidden state exposed, as optimum
// exports them: SDXL conditions on the penultimate layer's state, without final_layer_norm.
import { Graph, type BuildOptions } from '../onnx/graph.ts';
import { attention, dimsOf, gelu, layerNorm, linear, quickGelu } from '../onnx/layers.ts';
import { ImportError, type WeightSource } from './weights.ts';

/** The fields of an HF CLIPTextConfig (text_encoder/config.json) that the graph uses. */
export interface ClipTextConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: 'quick_gelu' | 'gelu';
  layer_norm_eps: number;
  max_position_embeddings: number;
  vocab_size: number;
  /** 2 (the legacy value of SD's configs) means "the highest id is EOS"; any other value is looked for. */
  eos_token_id?: number;
}

const PREFIX = 'text_model';

/** Checks the config's fields, naming the first that is wrong. */
export function checkClipTextConfig(config: unknown): ClipTextConfig {
  const c = (config ?? {}) as Record<string, unknown>;
  const integer = (key: string) => {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
      throw new ImportError(`text_encoder config: ${key} must be a positive integer (got ${JSON.stringify(v)})`);
    return v;
  };
  const hidden = integer('hidden_size'),
    heads = integer('num_attention_heads');
  if (hidden % heads !== 0) throw new ImportError(`text_encoder config: hidden_size ${hidden} does not split into ${heads} heads`);
  const act = c.hidden_act;
  if (act !== 'quick_gelu' && act !== 'gelu')
    throw new ImportError(`text_encoder config: hidden_act ${JSON.stringify(act)} is not supported (quick_gelu or gelu)`);
  const eps = c.layer_norm_eps ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0)) throw new ImportError(`text_encoder config: layer_norm_eps must be a positive number`);
  const eos = c.eos_token_id;
  if (eos !== undefined && (typeof eos !== 'number' || !Number.isInteger(eos) || eos < 0))
    throw new ImportError('text_encoder config: eos_token_id must be an integer');
  return {
    hidden_size: hidden,
    num_hidden_layers: integer('num_hidden_layers'),
    num_attention_heads: heads,
    intermediate_size: integer('intermediate_size'),
    hidden_act: act,
    layer_norm_eps: eps,
    max_position_embeddings: integer('max_position_embeddings'),
    vocab_size: integer('vocab_size'),
    eos_token_id: eos,
  };
}

/** Refuses a tensor whose shape is not what the config implies (so a mismatch is named, not an ONNX runtime error). */
function expectShape(weights: WeightSource, name: string, shape: number[]): void {
  const actual = weights.get(name).shape;
  if (actual.length !== shape.length || actual.some((d, i) => d !== shape[i])) {
    throw new ImportError(`text_encoder: tensor ${name} has shape [${actual.join(', ')}], the config implies [${shape.join(', ')}]`);
  }
}

function checkWeights(weights: WeightSource, c: ClipTextConfig): void {
  const h = c.hidden_size,
    m = c.intermediate_size;
  expectShape(weights, `${PREFIX}.embeddings.token_embedding.weight`, [c.vocab_size, h]);
  expectShape(weights, `${PREFIX}.embeddings.position_embedding.weight`, [c.max_position_embeddings, h]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const layer = `${PREFIX}.encoder.layers.${i}`;
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) expectShape(weights, `${layer}.self_attn.${p}.weight`, [h, h]);
    expectShape(weights, `${layer}.mlp.fc1.weight`, [m, h]);
    expectShape(weights, `${layer}.mlp.fc2.weight`, [h, m]);
    for (const n of ['layer_norm1', 'layer_norm2']) expectShape(weights, `${layer}.${n}.weight`, [h]);
  }
  expectShape(weights, `${PREFIX}.final_layer_norm.weight`, [h]);
}

/** What the graph outputs besides last_hidden_state (SD 1/2: pooler_output only). */
export interface TextEncoderOutputs {
  /** CLIPTextModelWithProjection: text_embeds = text_projection(pooled) [batch, projection_dim] instead of pooler_output. */
  projection?: boolean;
  /** hidden_states.0 (the embeddings) to hidden_states.N (layer N's output, before final_layer_norm), as optimum names them. */
  hiddenStates?: boolean;
  /** The graph's name (the ONNX folder's component). */
  name?: string;
}

/**
 * input_ids int32 [batch, tokens] -> last_hidden_state [batch, tokens, hidden] and pooler_output [batch, hidden]
 * (the final state at each row's EOS), both in opts.float; see TextEncoderOutputs for SDXL's outputs. The causal
 * mask is built for any token count up to max_position_embeddings. opts.attention is not used (see the layer loop).
 */
export function buildTextEncoder(
  weights: WeightSource,
  config: ClipTextConfig,
  opts: BuildOptions,
  outputs: TextEncoderOutputs = {},
): Graph {
  const c = checkClipTextConfig(config);
  checkWeights(weights, c);
  const projectionDim = outputs.projection ? checkProjection(weights, c.hidden_size) : 0;
  const g = new Graph(outputs.name ?? 'text_encoder', opts.float);
  const ids = g.input('input_ids', 'int32', ['batch', 'tokens']);
  const hidden = c.hidden_size,
    eps = c.layer_norm_eps;

  let h = g.scope(`${PREFIX}.embeddings`, () => {
    const tokenTable = g.weight(`${PREFIX}.embeddings.token_embedding.weight`, weights.get(`${PREFIX}.embeddings.token_embedding.weight`));
    const positionTable = g.weight(
      `${PREFIX}.embeddings.position_embedding.weight`,
      weights.get(`${PREFIX}.embeddings.position_embedding.weight`),
    );
    const tokens = g.op('Gather', [tokenTable, g.op('Cast', [ids], { to: 7 /* int64 */ })], { axis: 0 }, { name: 'token_embedding' });
    // position_ids = arange(tokens): the first `tokens` rows of the table, broadcast over the batch
    const count = dimsOf(g, ids, 1, 2);
    const positions = g.op('Slice', [positionTable, g.constant([0], 'int64'), count, g.constant([0], 'int64')], undefined, {
      name: 'position_embedding',
    });
    return g.op('Add', [tokens, positions], undefined, { name: 'embeddings' });
  });

  const states = [h];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const layer = `${PREFIX}.encoder.layers.${i}`;
    h = g.scope(layer, () => {
      const normed = layerNorm(g, weights, h, `${layer}.layer_norm1`, eps);
      const [q, k, v] = ['q_proj', 'k_proj', 'v_proj'].map((p) => linear(g, weights, normed, `${layer}.self_attn.${p}`));
      // Always the plain form: at 77 tokens MultiHeadAttention saves nothing measurable, and its causal
      // (unidirectional) mode is not on every provider that runs com.microsoft ops.
      const mixed = g.scope('self_attn', () =>
        attention(g, q, k, v, c.num_attention_heads, { causal: true, mode: 'plain', channels: hidden }),
      );
      const attended = g.op('Add', [h, linear(g, weights, mixed, `${layer}.self_attn.out_proj`)], undefined, {
        name: 'attention_residual',
      });
      const up = linear(g, weights, layerNorm(g, weights, attended, `${layer}.layer_norm2`, eps), `${layer}.mlp.fc1`);
      const act = g.scope('mlp', () => (c.hidden_act === 'gelu' ? gelu(g, up) : quickGelu(g, up)));
      return g.op('Add', [attended, linear(g, weights, act, `${layer}.mlp.fc2`)], undefined, { name: 'mlp_residual' });
    });
    states.push(h);
  }

  const last = layerNorm(g, weights, h, `${PREFIX}.final_layer_norm`, eps);
  const pool = pooled(g, last, ids, c.eos_token_id);
  // optimum's output order: text_embeds first for the projection model, pooler_output after last_hidden_state otherwise.
  if (outputs.projection) g.output('text_embeds', linear(g, weights, pool, 'text_projection'), opts.float, ['batch', projectionDim]);
  g.output('last_hidden_state', last, opts.float, ['batch', 'tokens', hidden]);
  if (!outputs.projection) g.output('pooler_output', pool, opts.float, ['batch', hidden]);
  if (outputs.hiddenStates) states.forEach((state, i) => g.output(`hidden_states.${i}`, state, opts.float, ['batch', 'tokens', hidden]));
  return g;
}

/** text_projection.weight [projection_dim, hidden] (a Linear without bias); returns projection_dim. */
function checkProjection(weights: WeightSource, hidden: number): number {
  const shape = weights.get('text_projection.weight').shape;
  if (shape.length !== 2 || shape[1] !== hidden) {
    throw new ImportError(
      `text_encoder_2: tensor text_projection.weight has shape [${shape.join(', ')}], the config implies [projection_dim, ${hidden}]`,
    );
  }
  if (weights.has('text_projection.bias'))
    throw new ImportError("text_encoder_2: tensor text_projection.bias is not expected (CLIP's projection has no bias)");
  return shape[0]!;
}

/**
 * The final state at each row's EOS token, as transformers picks it: with the legacy eos_token_id 2 the
 * position of the highest id (SD's EOS, 49407, is the highest), else the first position holding eos_token_id.
 * ArgMax returns the first of equal maxima, as torch.argmax does, so EOS padding picks the first EOS.
 */
function pooled(g: Graph, last: string, ids: string, eos: number | undefined): string {
  return g.scope('pooler', () => {
    const searched =
      eos === undefined || eos === 2 ? ids : g.op('Cast', [g.op('Equal', [ids, g.constant([eos], 'int32', [])])], { to: 6 /* int32 */ });
    const position = g.op('ArgMax', [searched], { axis: 1, keepdims: 1 }); // [batch, 1] int64
    return g.op('GatherND', [last, position], { batch_dims: 1 }, { name: 'pooler_output' });
  });
}
