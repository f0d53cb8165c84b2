// The memory estimate of a request against measured peaks (issue 14, item 4), the budget it is
// held to, and the network shapes it reads from diffusers configs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { unetShape } from '../src-core/model/architecture.ts';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { loadModel } from '../src-core/model/model.ts';
import { estimateRequestMemory, largestSquareThatFits, memoryBudget, sizeStep } from '../src-core/pipeline/memory.ts';
import { contextTokensOf, refuseOverMemory } from '../src-core/pipeline/request-limits.ts';
import { planJob } from '../src-core/pipeline/passes.ts';
import { parseGenerateRequest, RequestError } from '../src-core/contract/generate.ts';
import { countPrompt } from '../src-core/prompt/count.ts';

const MIB = 2 ** 20;

// Peak RSS of one-step generations on restart-shapes-64, each in its own process
// (`npm run bench:memory`, onnxruntime-node CPU, 2-core dev machine; the table in memory.ts).
const MEASURED = [
  { size: 64, batch: 1, cfg: 7, peakMiB: 240 },
  { size: 128, batch: 1, cfg: 7, peakMiB: 303 },
  { size: 192, batch: 1, cfg: 7, peakMiB: 634 },
  { size: 256, batch: 1, cfg: 7, peakMiB: 1434 },
  { size: 320, batch: 1, cfg: 7, peakMiB: 3220 },
  { size: 192, batch: 1, cfg: 1, peakMiB: 460 },
  { size: 128, batch: 4, cfg: 7, peakMiB: 578 },
  { size: 128, batch: 8, cfg: 1, peakMiB: 641 },
  { size: 64, batch: 16, cfg: 7, peakMiB: 360 },
  // Prompts of 8 and 32 chunks (`--cases 64x1x7x8,...`: BREAK between copies of a short prompt), 2026-12-07.
  { size: 64, batch: 1, cfg: 7, chunks: 8, peakMiB: 232 },
  { size: 64, batch: 1, cfg: 7, chunks: 32, peakMiB: 261 },
  { size: 128, batch: 1, cfg: 7, chunks: 32, peakMiB: 468 },
  { size: 256, batch: 1, cfg: 7, chunks: 32, peakMiB: 1429 },
  { size: 64, batch: 4, cfg: 7, chunks: 32, peakMiB: 416 },
];

test('the estimate is an upper bound within 2x of the measured peaks on the built-in model', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    for (const m of MEASURED) {
      const chunks = ('chunks' in m ? m.chunks : undefined) ?? 1;
      const shape = { width: m.size, height: m.size, batchSize: m.batch, cfgScale: m.cfg, contextTokens: 77 * chunks };
      const estimate = estimateRequestMemory(model.info, shape, 'cpu').bytes / MIB;
      const label =
        `${m.size}x${m.size} batch ${m.batch} CFG ${m.cfg}, ${chunks} chunk(s): ` +
        `estimate ${estimate.toFixed(0)} MiB, measured ${m.peakMiB} MiB`;
      assert.ok(estimate >= m.peakMiB, `under the measurement: ${label}`);
      assert.ok(estimate <= 2 * m.peakMiB, `over twice the measurement: ${label}`);
    }
    // 1024x1024 failed in onnxruntime with "Failed to allocate 137438953472": one buffer of that size.
    const big = estimateRequestMemory(model.info, { width: 1024, height: 1024, batchSize: 1, cfgScale: 7 }, 'cpu');
    assert.ok(big.bytes > 137_438_953_472, `${big.bytes}`);
    assert.equal(big.attentionPositions, 256 * 256);
    assert.equal(big.unetBatch, 2);
  } finally {
    await model.dispose();
  }
});

test('the largest square that fits is a multiple of the size step, fits, and the next one does not', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    assert.equal(sizeStep(model.info), 8, '4 pixels per latent cell x one UNet downsampling');
    const shape = { batchSize: 2, cfgScale: 7 };
    const budget = 2e9;
    const side = largestSquareThatFits(model.info, shape, budget, 4096)!;
    assert.equal(side % 8, 0);
    assert.ok(estimateRequestMemory(model.info, { ...shape, width: side, height: side }).bytes <= budget);
    assert.ok(estimateRequestMemory(model.info, { ...shape, width: side + 8, height: side + 8 }).bytes > budget);
    assert.equal(largestSquareThatFits(model.info, shape, 1e6, 4096), undefined, 'nothing fits in 1 MB');
    assert.equal(largestSquareThatFits(model.info, shape, 1e15, 4096), 4096);
  } finally {
    await model.dispose();
  }
});

test('the budget: RESTART_STUDIO_MEMORY_GB when set, else 60% of the machine or container memory', () => {
  assert.equal(memoryBudget('cpu', { RESTART_STUDIO_MEMORY_GB: '9.6' }).bytes, 9.6e9);
  assert.match(memoryBudget('cuda', { RESTART_STUDIO_MEMORY_GB: '80' }).source, /set by RESTART_STUDIO_MEMORY_GB/);
  const limit = process.constrainedMemory?.() ?? 0;
  const machine = limit > 0 ? Math.min(limit, totalmem()) : totalmem();
  for (const env of [{}, { RESTART_STUDIO_MEMORY_GB: 'lots' }, { RESTART_STUDIO_MEMORY_GB: '-3' }]) {
    assert.equal(memoryBudget('cpu', env).bytes, 0.6 * machine, JSON.stringify(env));
  }
  assert.match(memoryBudget('cuda', {}).source, /cuda device memory is not visible .*RESTART_STUDIO_MEMORY_GB/);
});

test('attention levels and heads as diffusers reads them from UNet configs', () => {
  // SD 1.5: attention_head_dim 8 is the number of heads; the lowest level has no attention.
  const sd15 = unetShape({
    block_out_channels: [320, 640, 1280, 1280],
    attention_head_dim: 8,
    down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
    up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  });
  assert.deepEqual(sd15.heads, [8, 8, 8, 0]);
  assert.equal(sd15.described, true);
  // SD 2.x: heads per level.
  assert.deepEqual(
    unetShape({
      block_out_channels: [320, 640, 1280, 1280],
      attention_head_dim: [5, 10, 20, 20],
      down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
    }).heads,
    [5, 10, 20, 0],
  );
  // SDXL: no attention at the highest resolution.
  assert.deepEqual(
    unetShape({
      block_out_channels: [320, 640, 1280],
      attention_head_dim: [5, 10, 20],
      transformer_layers_per_block: [1, 2, 10],
      down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
      up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
    }).heads,
    [0, 10, 20],
  );
  // A config that leaves the network out gets SD 1.5's shape, and says so.
  const unknown = unetShape({ sample_size: 4, cross_attention_dim: 8 });
  assert.deepEqual(unknown.channels, [320, 640, 1280, 1280]);
  assert.equal(unknown.described, false);
});

test('a prompt of more than 32 chunks is refused before it runs, and its counter says so', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    const chunks = (n: number) => Array<string>(n).fill('a red circle').join(' BREAK ');
    assert.equal(contextTokensOf(model, { prompt: chunks(32), negativePrompt: '' }), 32 * 77);
    assert.equal(contextTokensOf(model, { prompt: 'a cat', negativePrompt: chunks(3) }), 3 * 77, 'the negative prompt counts too');
    // 3,300 BREAKs once held 5 GB for a 64x64 image: now a short refusal, before any text encoder run.
    const hires = { scale: 2, steps: 2, strength: 0.5, upscaler: 'latent' };
    for (const [request, which] of [
      [{ prompt: chunks(33), negativePrompt: '' }, 'the prompt'],
      [{ prompt: 'a cat', negativePrompt: 'BREAK '.repeat(3300) }, 'the negative prompt'],
      [{ prompt: 'a cat', negativePrompt: '', hires: { ...hires, prompt: chunks(33) } }, 'the hires prompt'],
      [{ prompt: 'a cat', negativePrompt: '', hires: { ...hires, negativePrompt: chunks(34) } }, 'the hires negative prompt'],
    ] as const) {
      assert.throws(
        () =>
          refuseOverMemory(model, { ...parseGenerateRequest({ ...request, seed: 1, width: 64, height: 64 }) }, [{ width: 64, height: 64 }]),
        (e: Error) =>
          e instanceof RequestError &&
          e.message.startsWith(`${which} makes `) &&
          /makes \d+ chunks of 75 tokens .* at most 32/.test(e.message) &&
          e.message.length < 300,
      );
    }
    assert.match(countPrompt(model, chunks(33)).warning ?? '', /more than 32 chunks of 75 tokens: the engine refuses/);
    assert.equal(countPrompt(model, chunks(32)).warning, undefined);
  } finally {
    await model.dispose();
  }
});

test("hires fix through pixels to another aspect: the VAE's memory is sized by the upscaled image before its crop", async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    // 64x64, resized to 512x64 with Lanczos: upscaled to cover (512x512), encoded, then cropped to 512x64.
    const request = parseGenerateRequest({
      prompt: 'a cat',
      seed: 1,
      width: 64,
      height: 64,
      hires: { resizeWidth: 512, resizeHeight: 64, steps: 2, strength: 0.5, upscaler: 'lanczos' },
    });
    const job = planJob(model, request, { width: 64, height: 64 });
    const hires = job.passes[1];
    assert.deepEqual([hires.width, hires.height, hires.vaeImage], [512, 64, { width: 512, height: 512 }]);
    const latent = planJob(model, { ...request, hires: { ...request.hires!, upscaler: 'latent' } }, { width: 64, height: 64 });
    assert.equal(latent.passes[1].vaeImage, undefined, 'latent upscalers never encode');
    const shape = { batchSize: 1, cfgScale: 7, vaeEncoder: true };
    const cropped = estimateRequestMemory(model.info, { ...shape, width: 512, height: 64 });
    const whole = estimateRequestMemory(model.info, { ...shape, width: 512, height: 64, vaeImage: hires.vaeImage });
    assert.ok(whole.parts.vae > cropped.parts.vae * 1.5, `${whole.parts.vae} vs ${cropped.parts.vae}`);
    // A budget the cropped size alone fits in, the upscaled encode does not: refused.
    assert.ok(whole.bytes > cropped.bytes, `${whole.bytes} vs ${cropped.bytes}`);
    const budget = { bytes: cropped.bytes, source: 'a test budget' };
    assert.throws(() => refuseOverMemory(model, request, job.passes, budget), RequestError);
    refuseOverMemory(model, request, job.passes, { ...budget, bytes: whole.bytes });
  } finally {
    await model.dispose();
  }
});
