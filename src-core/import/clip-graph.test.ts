// The CLIP text encoder graph with seeded random weights (small dims) against a JS forward pass of
// transformers' CLIPTextModel, and the fixtures' diffusers folders against transformers' own outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildTextEncoder, type ClipTextConfig } from './clip-graph.ts';
import { arrayWeight, ImportError, weightMap, type WeightRef, type WeightSource } from './weights.ts';
import { randomValues, relativeError, runGraph } from '../onnx/testing.ts';
import { IMPORT_FIXTURES, REFERENCE_MODELS, referenceSkip, withDiffusersFolder } from '../../tests/helpers/import-fixtures.ts';
import { loadTensors } from '../../tests/helpers/references.ts';
import { referenceAttention, referenceGelu, referenceLayerNorm, referenceLinear, referenceQuickGelu } from '../onnx/reference.ts';

const base: ClipTextConfig = {
  hidden_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 40,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
  max_position_embeddings: 12,
  vocab_size: 30,
};

function clipShapes(c: ClipTextConfig): Map<string, number[]> {
  const h = c.hidden_size,
    shapes = new Map<string, number[]>();
  const add = (name: string, weight: number[]) => {
    shapes.set(`${name}.weight`, weight);
    shapes.set(`${name}.bias`, [weight[0]]);
  };
  shapes.set('text_model.embeddings.token_embedding.weight', [c.vocab_size, h]);
  shapes.set('text_model.embeddings.position_embedding.weight', [c.max_position_embeddings, h]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `text_model.encoder.layers.${i}`;
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) add(`${l}.self_attn.${p}`, [h, h]);
    add(`${l}.layer_norm1`, [h]);
    add(`${l}.layer_norm2`, [h]);
    add(`${l}.mlp.fc1`, [c.intermediate_size, h]);
    add(`${l}.mlp.fc2`, [h, c.intermediate_size]);
  }
  add('text_model.final_layer_norm', [h]);
  return shapes;
}

/** Seeded weights: matrices uniform in +-1/sqrt(fan in), norm scales near 1, embeddings in +-1. */
function randomClipWeights(c: ClipTextConfig, seed = 1): WeightSource {
  const entries = new Map<string, WeightRef>();
  let s = seed;
  for (const [name, shape] of clipShapes(c)) {
    const count = shape.reduce((a, b) => a * b, 1);
    const scale = name.includes('embedding') ? 1 : shape.length > 1 ? 1 / Math.sqrt(shape[1]) : 0.2;
    const values = randomValues(count, ++s * 7919, scale);
    if (/norm\d?\.weight$/.test(name)) for (let i = 0; i < count; i++) values[i] += 1;
    entries.set(name, arrayWeight(shape, values));
  }
  return weightMap(entries);
}

/** transformers' CLIPTextModel forward: embeddings, pre-LN causal layers, final_layer_norm, pooled at EOS. */
function referenceClip(w: WeightSource, c: ClipTextConfig, ids: Int32Array, n: number, t: number) {
  const h = c.hidden_size,
    read = (name: string) => w.get(name).read();
  const lin = (x: Float32Array, p: string, inF: number, outF: number) =>
    referenceLinear(x, read(`${p}.weight`), read(`${p}.bias`), inF, outF);
  const ln = (x: Float32Array, p: string) => referenceLayerNorm(x, read(`${p}.weight`), read(`${p}.bias`), h, c.layer_norm_eps);
  const tokens = read('text_model.embeddings.token_embedding.weight'),
    positions = read('text_model.embeddings.position_embedding.weight');
  let state = new Float32Array(n * t * h);
  for (let r = 0; r < n * t; r++) for (let e = 0; e < h; e++) state[r * h + e] = tokens[ids[r] * h + e] + positions[(r % t) * h + e];
  const states = [state];
  const act = c.hidden_act === 'gelu' ? referenceGelu : referenceQuickGelu;
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `text_model.encoder.layers.${i}`;
    const x = ln(state, `${l}.layer_norm1`);
    const [q, k, v] = ['q_proj', 'k_proj', 'v_proj'].map((p) => lin(x, `${l}.self_attn.${p}`, h, h));
    const attended = lin(referenceAttention(q, k, v, n, t, t, h, c.num_attention_heads, true), `${l}.self_attn.out_proj`, h, h);
    state = state.map((value, j) => value + attended[j]);
    const up = lin(ln(state, `${l}.layer_norm2`), `${l}.mlp.fc1`, h, c.intermediate_size).map(act);
    const down = lin(up, `${l}.mlp.fc2`, c.intermediate_size, h);
    state = state.map((value, j) => value + down[j]);
    states.push(state);
  }
  const last = ln(state, 'text_model.final_layer_norm');
  const pooled = new Float32Array(n * h);
  for (let b = 0; b < n; b++) {
    const row = Array.from(ids.subarray(b * t, (b + 1) * t));
    const at = c.eos_token_id === undefined || c.eos_token_id === 2 ? row.indexOf(Math.max(...row)) : row.indexOf(c.eos_token_id);
    pooled.set(last.subarray((b * t + at) * h, (b * t + at + 1) * h), b * h);
  }
  return { last, pooled, states };
}

/** Rows like a tokenizer's: BOS-ish start, words, then EOS (the highest id) repeated as padding. */
function tokenRows(n: number, t: number, eos: number, seed: number): Int32Array {
  const ids = new Int32Array(n * t),
    r = randomValues(n * t, seed);
  for (let b = 0; b < n; b++) {
    const words = 1 + ((b * 2) % (t - 2));
    for (let i = 0; i < t; i++) ids[b * t + i] = i === 0 ? 0 : i <= words ? 3 + Math.floor((r[b * t + i] + 1) * 10) : eos;
  }
  return ids;
}

async function check(c: ClipTextConfig, float: 'float32' | 'float16', t: number, tolerance: number) {
  const w = randomClipWeights(c);
  const n = 3,
    eos = c.eos_token_id !== undefined && c.eos_token_id !== 2 ? c.eos_token_id : c.vocab_size - 1;
  const ids = tokenRows(n, t, eos, 11);
  const out = await runGraph(buildTextEncoder(w, c, { float }), { input_ids: { data: ids, dims: [n, t] } });
  const expected = referenceClip(w, c, ids, n, t);
  const label = `${c.hidden_act} ${float} t=${t}`;
  assert.ok(
    relativeError(out.last_hidden_state as Float32Array, expected.last) < tolerance,
    `${label} last: ${relativeError(out.last_hidden_state as Float32Array, expected.last)}`,
  );
  assert.ok(
    relativeError(out.pooler_output as Float32Array, expected.pooled) < tolerance,
    `${label} pooled: ${relativeError(out.pooler_output as Float32Array, expected.pooled)}`,
  );
}

test('SD 1 form (quick_gelu) matches the JS forward pass at two token counts (one graph, symbolic tokens)', async () => {
  for (const t of [7, 12]) await check(base, 'float32', t, 1e-5);
});

test('SD 2 form (gelu) matches, and eos_token_id other than 2 pools at the first EOS', async () => {
  await check({ ...base, hidden_act: 'gelu' }, 'float32', 9, 1e-5);
  await check({ ...base, eos_token_id: 5 }, 'float32', 9, 1e-5);
});

test('a float16 text encoder runs on CPU and stays close to the reference', async () => {
  await check(base, 'float16', 8, 1e-2);
});

test('bad configs and mis-shaped or missing tensors are ImportErrors that name the field or tensor', () => {
  const w = randomClipWeights(base);
  const refused = (config: unknown, weights: WeightSource, pattern: RegExp) =>
    assert.throws(
      () => buildTextEncoder(weights, config as ClipTextConfig, { float: 'float32' }),
      (e: unknown) => e instanceof ImportError && pattern.test(e.message),
    );
  refused({ ...base, hidden_act: 'relu' }, w, /hidden_act "relu"/);
  refused({ ...base, num_attention_heads: 3 }, w, /does not split into 3 heads/);
  refused({ ...base, num_hidden_layers: undefined }, w, /num_hidden_layers/);
  refused({ ...base, intermediate_size: 41 }, w, /mlp\.fc1\.weight has shape \[40, 16\], the config implies \[41, 16\]/);
  refused({ ...base, num_hidden_layers: 3 }, w, /missing tensor text_model\.encoder\.layers\.2\./);
});

test('SDXL outputs: every hidden state (optimum names, before final_layer_norm) and text_embeds through text_projection', async () => {
  const c: ClipTextConfig = { ...base, hidden_act: 'gelu', num_hidden_layers: 3 };
  const source = randomClipWeights(c);
  const projection = randomValues(12 * c.hidden_size, 97, 0.25);
  const w = weightMap(
    new Map([
      ...source.names().map((name) => [name, source.get(name)] as const),
      ['text_projection.weight', arrayWeight([12, c.hidden_size], projection)],
    ]),
  );
  const n = 2,
    t = 9,
    ids = tokenRows(n, t, c.vocab_size - 1, 5);
  const graph = buildTextEncoder(w, c, { float: 'float32' }, { projection: true, hiddenStates: true, name: 'text_encoder_2' });
  const out = await runGraph(graph, { input_ids: { data: ids, dims: [n, t] } });
  assert.deepEqual(Object.keys(out), [
    'text_embeds',
    'last_hidden_state',
    'hidden_states.0',
    'hidden_states.1',
    'hidden_states.2',
    'hidden_states.3',
  ]);
  const expected = referenceClip(w, c, ids, n, t);
  expected.states.forEach((state, i) =>
    assert.ok(relativeError(out[`hidden_states.${i}`] as Float32Array, state) < 1e-5, `hidden_states.${i}`),
  );
  const embeds = referenceLinear(expected.pooled, projection, new Float32Array(12), c.hidden_size, 12);
  assert.ok(relativeError(out.text_embeds as Float32Array, embeds) < 1e-5, 'text_embeds');
  // Without the options the SD 1/2 outputs are unchanged; a projection with a bias is not CLIP's.
  assert.deepEqual(Object.keys(await runGraph(buildTextEncoder(w, c, { float: 'float32' }), { input_ids: { data: ids, dims: [n, t] } })), [
    'last_hidden_state',
    'pooler_output',
  ]);
  const biased = weightMap(
    new Map([...w.names().map((name) => [name, w.get(name)] as const), ['text_projection.bias', arrayWeight([12], new Float32Array(12))]]),
  );
  assert.throws(() => buildTextEncoder(biased, c, { float: 'float32' }, { projection: true }), /text_projection\.bias is not expected/);
});

for (const model of REFERENCE_MODELS) {
  test(
    `${model} diffusers folder: last_hidden_state and pooler_output match transformers to 1e-4 relative`,
    { skip: referenceSkip(model) },
    async () => {
      const tensors = loadTensors(IMPORT_FIXTURES, model);
      await withDiffusersFolder(join(IMPORT_FIXTURES, model, 'diffusers'), async (folder) => {
        const graph = buildTextEncoder(folder.weights.textEncoder, folder.configs.textEncoder as unknown as ClipTextConfig, {
          float: 'float32',
        });
        for (const key of ['prompt', 'empty']) {
          const ids = tensors[`input_ids_${key}`];
          const out = await runGraph(graph, { input_ids: { data: Int32Array.from(ids.data), dims: ids.shape } });
          for (const name of ['last_hidden_state', 'pooler_output']) {
            const error = relativeError(out[name] as Float32Array, tensors[`text_${name}_${key}`].data);
            assert.ok(error < 1e-4, `${model} ${key} ${name}: ${error}`);
          }
        }
      });
    },
  );
}
