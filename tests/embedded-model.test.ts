// The embedded default model (models/restart-shapes-64): diffusers-ONNX interface, size, a tiny
// end-to-end pass, and its evaluator on committed held-out real images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const DIR = new URL('../models/restart-shapes-64/', import.meta.url).pathname;
const PARTS = ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder'] as const;
// CLIP ids of "a red circle on a blue background" (SD 1.5 tokenizer, as in the tokenizer conformance vectors)
const PROMPT_IDS = [49406, 320, 736, 7117, 525, 320, 1746, 5994, 49407];

interface Meta {
  name: string;
  type: string;
  rank: number;
}

function metas(list: readonly ort.InferenceSession.ValueMetadata[]): Meta[] {
  return list.map((m) =>
    m.isTensor ? { name: m.name, type: m.type, rank: m.shape.length } : { name: m.name, type: 'non-tensor', rank: -1 },
  );
}

function readJson<T>(p: string): T {
  return JSON.parse(readFileSync(p, 'utf8')) as T;
}

/** Latent side of a 64x64 image: the VAE halves the size once per block after the first (diffusers' vae_scale_factor). */
function latentSide(): number {
  return 64 / 2 ** (readJson<{ block_out_channels: number[] }>(join(DIR, 'vae_decoder/config.json')).block_out_channels.length - 1);
}

function ids77(ids: number[], batch: number): ort.Tensor {
  const a = new Int32Array(77 * batch).fill(49407);
  for (let b = 0; b < batch; b++) a.set(ids, b * 77);
  return new ort.Tensor('int32', a, [batch, 77]);
}

function allFinite(t: ort.Tensor): boolean {
  return (t.data as Float32Array).every(Number.isFinite);
}

const sessions = new Map<string, ort.InferenceSession>();
async function session(part: string): Promise<ort.InferenceSession> {
  let s = sessions.get(part);
  if (!s) {
    s = await ort.InferenceSession.create(join(DIR, part, 'model.onnx'), { intraOpNumThreads: 2 });
    sessions.set(part, s);
  }
  return s;
}

test('folder has the diffusers-ONNX layout and the SD 1.5 tokenizer and scheduler', () => {
  for (const f of [
    'model_index.json',
    'scheduler/scheduler_config.json',
    'tokenizer/vocab.json',
    'tokenizer/merges.txt',
    'tokenizer/tokenizer_config.json',
    'tokenizer/special_tokens_map.json',
    ...PARTS.flatMap((p) => [`${p}/model.onnx`, `${p}/config.json`]),
  ]) {
    assert.ok(existsSync(join(DIR, f)), `missing ${f}`);
  }
  const sched = readJson<Record<string, unknown>>(join(DIR, 'scheduler/scheduler_config.json'));
  assert.equal(sched.beta_schedule, 'scaled_linear');
  assert.equal(sched.beta_start, 0.00085);
  assert.equal(sched.beta_end, 0.012);
  assert.equal(sched.num_train_timesteps, 1000);
  assert.equal(sched.prediction_type, 'epsilon');
  assert.equal(sched.steps_offset, 1);
  const unet = readJson<{ sample_size: number; in_channels: number; cross_attention_dim: number }>(join(DIR, 'unet/config.json'));
  const text = readJson<{ hidden_size: number }>(join(DIR, 'text_encoder/config.json'));
  const vae = readJson<{ block_out_channels: number[]; latent_channels: number; scaling_factor: number }>(
    join(DIR, 'vae_decoder/config.json'),
  );
  // 64x64 images: the UNet's latent side times the VAE's downsampling factor
  assert.equal(unet.sample_size, latentSide());
  assert.equal(unet.in_channels, 4);
  assert.equal(unet.cross_attention_dim, text.hidden_size);
  assert.equal(vae.latent_channels, 4);
  assert.ok(vae.scaling_factor > 0);
});

test('all ONNX files together are at most 25 MB', () => {
  let total = 0;
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.onnx') || n.endsWith('.onnx_data') || n === 'weights.pb') total += statSync(p).size;
    }
  };
  walk(DIR);
  assert.ok(total > 0);
  assert.ok(total <= 25 * 1024 * 1024, `ONNX files total ${total} bytes`);
});

test('input/output names and dtypes are those of a diffusers export', async () => {
  const te = await session('text_encoder');
  assert.deepEqual(metas(te.inputMetadata), [{ name: 'input_ids', type: 'int32', rank: 2 }]);
  assert.deepEqual(metas(te.outputMetadata)[0], { name: 'last_hidden_state', type: 'float32', rank: 3 });
  const unet = await session('unet');
  assert.deepEqual(metas(unet.inputMetadata), [
    { name: 'sample', type: 'float32', rank: 4 },
    { name: 'timestep', type: 'float32', rank: 1 },
    { name: 'encoder_hidden_states', type: 'float32', rank: 3 },
  ]);
  assert.deepEqual(metas(unet.outputMetadata), [{ name: 'out_sample', type: 'float32', rank: 4 }]);
  const dec = await session('vae_decoder');
  assert.deepEqual(metas(dec.inputMetadata), [{ name: 'latent_sample', type: 'float32', rank: 4 }]);
  assert.deepEqual(metas(dec.outputMetadata), [{ name: 'sample', type: 'float32', rank: 4 }]);
  const enc = await session('vae_encoder');
  assert.deepEqual(metas(enc.inputMetadata), [{ name: 'sample', type: 'float32', rank: 4 }]);
  assert.deepEqual(metas(enc.outputMetadata), [{ name: 'latent_sample', type: 'float32', rank: 4 }]);
});

test('tiny end-to-end pass: text encoder, UNet (batch 2, fractional timestep), VAE decode and encode', async () => {
  const hidden = readJson<{ hidden_size: number }>(join(DIR, 'text_encoder/config.json')).hidden_size;
  const te = await session('text_encoder');
  const { last_hidden_state: ctx } = await te.run({ input_ids: ids77(PROMPT_IDS, 2) });
  assert.deepEqual(ctx.dims, [2, 77, hidden]);
  assert.ok(allFinite(ctx));
  const unet = await session('unet');
  const side = latentSide();
  const sample = new ort.Tensor(
    'float32',
    Float32Array.from({ length: 2 * 4 * side * side }, (_, i) => Math.sin(i * 0.37)),
    [2, 4, side, side],
  );
  for (const t of [new Float32Array([981.5, 981.5]), new Float32Array([12.25])]) {
    const out = await unet.run({ sample, timestep: new ort.Tensor('float32', t, [t.length]), encoder_hidden_states: ctx });
    assert.deepEqual(out.out_sample.dims, [2, 4, side, side]);
    assert.ok(allFinite(out.out_sample));
  }
  const dec = await session('vae_decoder');
  const img = (await dec.run({ latent_sample: sample })).sample;
  assert.deepEqual(img.dims, [2, 3, 64, 64]);
  assert.ok((img.data as Float32Array).every((v) => Number.isFinite(v) && v >= -1 && v <= 1));
  const enc = await session('vae_encoder');
  const lat = (await enc.run({ sample: img })).latent_sample;
  assert.deepEqual(lat.dims, [2, 4, side, side]);
  assert.ok(allFinite(lat));
});

test('evaluator classifies committed held-out real images at >= 98% per attribute', async () => {
  const info = readJson<{ outputs: Record<string, { classes?: unknown[] }> }>(join(DIR, 'evaluator/evaluator.json'));
  const held = readJson<{ file: string; labels: Record<string, number[]> }>(join(DIR, 'evaluator/heldout-20.json'));
  const raw = readFileSync(join(DIR, 'evaluator', held.file));
  const n = raw.length / (64 * 64 * 3);
  assert.equal(n, 20);
  const x = new Float32Array(n * 3 * 64 * 64);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < 64 * 64; p++) {
      for (let c = 0; c < 3; c++) x[(i * 3 + c) * 64 * 64 + p] = raw[(i * 64 * 64 + p) * 3 + c] / 127.5 - 1;
    }
  }
  const ev = await ort.InferenceSession.create(join(DIR, 'evaluator/model.onnx'));
  const out = await ev.run({ image: new ort.Tensor('float32', x, [n, 3, 64, 64]) });
  assert.ok('features' in out);
  for (const [name, labels] of Object.entries(held.labels)) {
    const classes = info.outputs[name]?.classes;
    assert.ok(classes, `evaluator.json lists classes of ${name}`);
    const k = classes.length;
    const logits = out[name].data as Float32Array;
    assert.deepEqual(out[name].dims, [n, k]);
    let ok = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (logits[i * k + j] > logits[i * k + best]) best = j;
      if (best === labels[i]) ok++;
    }
    assert.ok(ok / n >= 0.98, `${name}: ${ok}/${n}`);
  }
});
