// ms per UNet call (batch 2, latent 4x64x64, fp16) through onnxruntime-node on one execution provider.
//   node bench/gpu/ort-unet-bench.mjs --model unet.onnx --provider cuda --label NAME [--runs 40] [--warmup 10] [--profile DIR]
//     [--latent 128]
// --latent N: the latent's side (64 for 512x512, 128 for SDXL's 1024x1024). An SDXL UNet's extra inputs (text_embeds,
// time_ids) are fed too, at the widths its graph declares.
// onnxruntime-node is resolved from the folder this file is copied next to (the GPU machine has no npm
// install of the project; device-run.sh links the carried onnxruntime-node there). Prints one JSON line.
// With --profile, a second session records onnxruntime's per-node profile for 5 runs and the line gets
// the time per operator type and provider (where the time goes). With --compare-to OTHER.onnx, OTHER runs once on the
// same inputs and provider and the line gets max |out - other| / max |other| (the importer's fused CUDA graph against
// its portable one: the same network, so only fp16 rounding apart).
import { parseArgs } from 'node:util';
import { readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    provider: { type: 'string', default: 'cuda' },
    label: { type: 'string' },
    runs: { type: 'string', default: '40' },
    warmup: { type: 'string', default: '10' },
    profile: { type: 'string' },
    'compare-to': { type: 'string' },
    latent: { type: 'string', default: '64' },
  },
});
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const BATCH = 2,
  LATENT = Number(values.latent),
  TOKENS = 77;

function toHalf(x) {
  // float32 -> IEEE half bits (round to nearest; inputs here are small normals)
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000,
    exp = ((u >>> 23) & 0xff) - 112,
    mant = u & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | ((mant + 0x1000) >>> 13);
}

/** IEEE half bits -> number. */
function fromHalf(h) {
  const exp = (h >> 10) & 0x1f,
    mant = h & 0x3ff,
    sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const valuesOf = (t) => (t.type === 'float16' ? Array.from(t.data, fromHalf) : Array.from(t.data, Number));

/** max |a - b| / max |b| over two outputs of one shape. */
function relativeDifference(a, b) {
  const x = valuesOf(a),
    y = valuesOf(b);
  if (x.length !== y.length) return `shapes differ: ${a.dims} vs ${b.dims}`;
  let diff = 0,
    scale = 0;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return diff / scale;
}

function tensorFor(meta, dims) {
  const n = dims.reduce((a, b) => a * b, 1);
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  switch (meta.type) {
    case 'float16': {
      const a = new Uint16Array(n);
      for (let i = 0; i < n; i++) a[i] = toHalf(rand());
      return new ort.Tensor('float16', a, dims);
    }
    case 'float32': {
      const a = new Float32Array(n);
      // SDXL's time ids: original size, crop corner, target size, as its pipeline sends them for a square image
      const timeIds = [LATENT * 8, LATENT * 8, 0, 0, LATENT * 8, LATENT * 8];
      for (let i = 0; i < n; i++) a[i] = meta.name === 'timestep' ? 500 : meta.name === 'time_ids' ? timeIds[i % 6] : rand();
      return new ort.Tensor('float32', a, dims);
    }
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(n).fill(500n), dims);
    default:
      throw new Error(`input ${meta.name}: type ${meta.type} not handled`);
  }
}

/** A declared width, or the SD 1.5 / SDXL one where the graph leaves it open. */
const width = (meta, axis, otherwise) => (typeof meta.shape[axis] === 'number' ? meta.shape[axis] : otherwise);

function feeds(session) {
  const out = {};
  for (const meta of session.inputMetadata) {
    const dims = {
      sample: [BATCH, 4, LATENT, LATENT],
      encoder_hidden_states: [BATCH, TOKENS, width(meta, 2, 768)],
      timestep: [BATCH],
      text_embeds: [BATCH, width(meta, 1, 1280)],
      time_ids: [BATCH, 6],
    }[meta.name];
    if (!dims) throw new Error(`unexpected input ${meta.name}`);
    out[meta.name] = tensorFor(meta, dims);
  }
  return out;
}

const options = (extra = {}) => ({ executionProviders: [values.provider], graphOptimizationLevel: 'all', ...extra });
const result = {
  label: values.label ?? values.provider,
  model: values.model,
  provider: values.provider,
  ort: ort.env.versions?.common ?? 'unknown',
};
try {
  let t = performance.now();
  const session = await ort.InferenceSession.create(values.model, options());
  result.createMs = Math.round(performance.now() - t);
  const input = feeds(session);
  const times = [];
  const warmup = Number(values.warmup),
    runs = Number(values.runs);
  t = performance.now();
  await session.run(input);
  result.firstRunMs = Math.round(performance.now() - t);
  for (let i = 0; i < warmup + runs; i++) {
    t = performance.now();
    const out = await session.run(input);
    if (i >= warmup) times.push(performance.now() - t);
    if (i === 0) {
      const o = out[session.outputNames[0]];
      result.outputType = o.type;
      result.outputFinite = Array.from(o.data.slice(0, 64)).every(
        (v) => Number.isFinite(Number(v)) && (o.type !== 'float16' || (v & 0x7c00) !== 0x7c00),
      );
    }
  }
  result.medianMs = Number(median(times).toFixed(3));
  result.minMs = Number(Math.min(...times).toFixed(3));
  result.maxMs = Number(Math.max(...times).toFixed(3));
  result.runs = runs;
  if (values['compare-to']) {
    const mine = (await session.run(input))[session.outputNames[0]];
    const other = await ort.InferenceSession.create(values['compare-to'], options());
    const theirs = (await other.run(feeds(other)))[other.outputNames[0]]; // the same seeded values in its types
    result.comparedTo = values['compare-to'];
    result.relativeDifference = relativeDifference(mine, theirs);
    await other.release();
  }
  await session.release();
  if (values.profile) result.profile = await profile(values.profile, input);
} catch (error) {
  result.error = String(error.message ?? error)
    .split('\n')
    .slice(0, 3)
    .join(' | ')
    .slice(0, 600);
}
console.log(JSON.stringify(result));

async function profile(dir, input) {
  mkdirSync(dir, { recursive: true });
  const prefix = join(dir, `${result.label}`);
  const session = await ort.InferenceSession.create(values.model, options({ enableProfiling: true, profileFilePrefix: prefix }));
  for (let i = 0; i < 8; i++) await session.run(input);
  session.endProfiling();
  await session.release();
  const file = readdirSync(dir)
    .filter((f) => f.startsWith(`${result.label}_`) && f.endsWith('.json'))
    .sort()
    .pop();
  if (!file) return { error: 'no profile file written' };
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const lastRuns = runs.slice(-5);
  const from = lastRuns.length ? lastRuns[0].ts : 0;
  const byOp = new Map();
  let nodeTotal = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < from) continue;
    const key = `${e.args?.op_name ?? '?'} @ ${e.args?.provider ?? '?'}`;
    byOp.set(key, (byOp.get(key) ?? 0) + e.dur);
    nodeTotal += e.dur;
  }
  const perRun = (us) => Number((us / 1000 / Math.max(1, lastRuns.length)).toFixed(3));
  const top = [...byOp.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 14)
    .map(([k, us]) => ({ op: k, msPerRun: perRun(us) }));
  const providers = {};
  for (const [k, us] of byOp) {
    const p = k.split(' @ ')[1];
    providers[p] = Number(((providers[p] ?? 0) + us / 1000 / Math.max(1, lastRuns.length)).toFixed(3));
  }
  return {
    file,
    runs: lastRuns.length,
    modelRunMs: perRun(lastRuns.reduce((a, e) => a + e.dur, 0)),
    kernelMsPerRun: perRun(nodeTotal),
    msByProvider: providers,
    top,
  };
}
