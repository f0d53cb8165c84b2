// Small helpers shared by the Node checks of the embedded model (plain JS, onnxruntime-node).
import * as ort from 'onnxruntime-node';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

// MODEL_DIR (env) points the Node checks (sample-onnx.mjs, check-speed.mjs) at another export, e.g. EXPORT_DIR of train.py
export const MODEL_DIR = process.env.MODEL_DIR
  ? path.resolve(process.env.MODEL_DIR)
  : path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'models', 'restart-shapes-64');

// CLIP ids (SD 1.5 tokenizer) of two prompts, equal to the tokenizer conformance vectors
export const IDS_RED_CIRCLE_ON_BLUE = [49406, 320, 736, 7117, 525, 320, 1746, 5994, 49407];
export const IDS_EMPTY = [49406, 49407];

export function pad77(ids) {
  const out = new Int32Array(77).fill(49407);
  out.set(ids.slice(0, 77));
  return out;
}

export async function loadModel(dir = MODEL_DIR, threads = 2) {
  const opts = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const s = async (p) => ort.InferenceSession.create(path.join(dir, p, 'model.onnx'), opts);
  const vaeCfg = JSON.parse(fs.readFileSync(path.join(dir, 'vae_decoder', 'config.json'), 'utf8'));
  return {
    text: await s('text_encoder'), unet: await s('unet'), vae: await s('vae_decoder'),
    scaling: vaeCfg.scaling_factor,
    factor: 2 ** (vaeCfg.block_out_channels.length - 1),  // pixels per latent cell (diffusers' vae_scale_factor)
  };
}

// SD 1.5 training schedule (scaled_linear 0.00085..0.012, 1000 steps) as k-diffusion sigmas
export function trainSigmas() {
  const n = 1000, a = Math.sqrt(0.00085), b = Math.sqrt(0.012);
  const s = new Float64Array(n);
  let ac = 1;
  for (let i = 0; i < n; i++) {
    const beta = (a + (b - a) * i / (n - 1)) ** 2;
    ac *= 1 - beta;
    s[i] = Math.sqrt((1 - ac) / ac);
  }
  return s;
}

export function karras(n, sMin, sMax, rho = 7) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push((sMax ** (1 / rho) + i / (n - 1) * (sMin ** (1 / rho) - sMax ** (1 / rho))) ** rho);
  }
  out.push(0);
  return out;
}

// fractional timestep for a sigma: linear interpolation in log sigma
export function sigmaToT(sig, table) {
  const ls = Math.log(sig);
  if (ls <= Math.log(table[0])) return 0;
  for (let i = 1; i < table.length; i++) {
    const hi = Math.log(table[i]);
    if (ls <= hi) {
      const lo = Math.log(table[i - 1]);
      return i - 1 + (ls - lo) / (hi - lo);
    }
  }
  return table.length - 1;
}

export function randn(n, seed) {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(rnd(), 1e-12), v = rnd();
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

// txt2img for one or more prompts at once (batch B): Euler on the Karras schedule with CFG.
export async function generate(m, idsList, { steps = 20, guidance = 5, seed = 0, size = 64, schedule = 'karras' } = {}) {
  const B = idsList.length;
  const h = size / m.factor, w = size / m.factor, lat = 4 * h * w;
  const ids = new Int32Array(2 * B * 77);
  for (let b = 0; b < B; b++) { ids.set(pad77(IDS_EMPTY), b * 77); ids.set(pad77(idsList[b]), (B + b) * 77); }
  // text encoder: unconditional and conditional (two calls, as a pipeline does for CFG)
  const enc = async (arr) => (await m.text.run({ input_ids: new ort.Tensor('int32', arr, [arr.length / 77, 77]) })).last_hidden_state;
  const un = await enc(ids.slice(0, B * 77));
  const co = await enc(ids.slice(B * 77));
  const hid = un.dims[2];
  const ctxData = new Float32Array(2 * B * 77 * hid);
  ctxData.set(un.data, 0); ctxData.set(co.data, B * 77 * hid);
  const ctx = new ort.Tensor('float32', ctxData, [2 * B, 77, hid]);
  const table = trainSigmas();
  const sig = schedule === 'karras' ? karras(steps, table[0], table[999])
    : [...Array.from({ length: steps }, (_, i) => { // 'uniform': timesteps evenly spaced from 999 to 0 (as DDIM)
      const t = 999 * (1 - i / (steps - 1)), lo = Math.floor(t), f = t - lo;
      return Math.exp(Math.log(table[lo]) * (1 - f) + Math.log(table[Math.min(lo + 1, 999)]) * f);
    }), 0];
  const x = randn(B * lat, seed);
  for (let i = 0; i < x.length; i++) x[i] *= sig[0];
  for (let i = 0; i < steps; i++) {
    const s = sig[i], cin = 1 / Math.sqrt(s * s + 1);
    const inp = new Float32Array(2 * B * lat);
    for (let j = 0; j < B * lat; j++) { inp[j] = x[j] * cin; inp[B * lat + j] = x[j] * cin; }
    const t = sigmaToT(s, table);
    const out = await m.unet.run({
      sample: new ort.Tensor('float32', inp, [2 * B, 4, h, w]),
      timestep: new ort.Tensor('float32', new Float32Array(2 * B).fill(t), [2 * B]),
      encoder_hidden_states: ctx,
    });
    const e = out.out_sample.data;
    const dt = sig[i + 1] - s;
    for (let j = 0; j < B * lat; j++) {
      const eps = e[j] + guidance * (e[B * lat + j] - e[j]);
      x[j] += eps * dt; // Euler: d = (x - denoised) / sigma = eps
    }
  }
  for (let j = 0; j < x.length; j++) x[j] /= m.scaling;
  const img = await m.vae.run({ latent_sample: new ort.Tensor('float32', x, [B, 4, h, w]) });
  return img.sample; // [B,3,size,size] in [-1,1]
}

export function writePng(file, rgb, width, height) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let i = 0; i < width * 3; i++) raw[y * (width * 3 + 1) + 1 + i] = rgb[y * width * 3 + i];
  }
  const crcTable = new Int32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c; });
  const crc = (buf) => { let c = -1; for (const b of buf) c = crcTable[(c ^ b) & 255] ^ (c >>> 8); return (c ^ -1) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4); ihdr[8] = 8; ihdr[9] = 2;
  fs.writeFileSync(file, Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
}
