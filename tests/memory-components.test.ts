// What the memory estimate counts as loaded, from the component files: every text encoder (SDXL's second too), the
// UNet and the VAE decoder (twice its fp16 file when it runs upcast to fp32); the VAE encoder when the request runs
// it (img2img, hires fix through pixels) or an earlier request opened it. The folders' sizes are summed here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGenerateRequest, RequestError, type GenerateRequestInput } from '../src-core/contract/generate.ts';
import { loadModel } from '../src-core/model/model.ts';
import { estimateRequestMemory, WEIGHT_COPIES } from '../src-core/pipeline/memory.ts';
import { refuseOverMemory } from '../src-core/pipeline/request-limits.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { vaeEncoderOpen } from '../src-core/pipeline/img2img-encode.ts';
import { writeFp16VaeDecoder } from './helpers/sdxl-folders.ts';
import { importWithAdapters } from './helpers/adapted-model.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const SDXL = join(FIXTURES, 'sdxl', 'onnx');
const INIT = new Uint8Array(readFileSync(join(FIXTURES, 'img2img', 'inputs', 'init-64.png')));
const SIZE = { width: 64, height: 64 };
const BASE = { prompt: 'a red circle', seed: 3, steps: 2, cfgScale: 7, ...SIZE };

/** The files directly in a component folder (model.onnx, model.onnx_data, config.json). */
function filesBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(dir, e.name)).size, 0);
}

const request = (input: Partial<GenerateRequestInput>) => parseGenerateRequest({ ...BASE, ...input });

test('SDXL: both text encoders, the UNet and the VAE decoder are weights; the encoder counts for img2img and pixel hires', async () => {
  const model = await loadModel(SDXL);
  try {
    const bytes = (c: string) => filesBytes(join(SDXL, c));
    assert.ok(bytes('text_encoder_2') > 0 && bytes('vae_encoder') > 0);
    assert.equal(model.info.weightBytes, bytes('text_encoder') + bytes('text_encoder_2') + bytes('unet') + bytes('vae_decoder'));
    assert.equal(model.info.encoderBytes, bytes('vae_encoder'));

    const shape = { ...SIZE, batchSize: 1, cfgScale: 7 };
    const txt2img = estimateRequestMemory(model.info, shape);
    const withEncoder = estimateRequestMemory(model.info, { ...shape, vaeEncoder: true });
    assert.equal(withEncoder.bytes - txt2img.bytes, WEIGHT_COPIES * bytes('vae_encoder'));

    // A budget that holds txt2img exactly: whatever loads the encoder is over it, a latent hires fix is not.
    const budget = { bytes: txt2img.bytes, source: 'the test' };
    const fits = (input: Partial<GenerateRequestInput>) => refuseOverMemory(model, request(input), [SIZE], budget);
    fits({});
    fits({ hires: { scale: 2, upscaler: 'latent' } });
    assert.throws(() => fits({ initImage: 'file:init.png' }), RequestError);
    assert.throws(() => fits({ hires: { scale: 2, upscaler: 'lanczos' } }), /64x64 needs about/);

    // Once an img2img run has opened the encoder, it stays loaded: txt2img counts it too.
    await generate(model, { ...BASE, initImage: 'file:init.png', strength: 0.5 }, { initImage: INIT });
    assert.throws(() => fits({}), RequestError);
  } finally {
    await model.dispose();
  }
});

test('an fp16 VAE decoder run in fp32 (force_upcast) counts twice its file; one marked fixed, once', async () => {
  for (const [forceUpcast, copies] of [
    [true, 2],
    [false, 1],
  ] as const) {
    const dir = join(mkdtempSync(join(tmpdir(), 'memory-components-')), 'sdxl');
    try {
      cpSync(SDXL, dir, { recursive: true });
      await writeFp16VaeDecoder(dir);
      const config = join(dir, 'vae_decoder', 'config.json');
      writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), force_upcast: forceUpcast }));
      const model = await loadModel(dir);
      try {
        const bytes = (c: string) => filesBytes(join(dir, c));
        assert.equal(model.info.vaeDecode, forceUpcast ? 'upcast' : 'fp16-fixed');
        assert.equal(
          model.info.weightBytes,
          bytes('text_encoder') + bytes('text_encoder_2') + bytes('unet') + copies * bytes('vae_decoder'),
          `force_upcast ${forceUpcast}`,
        );
      } finally {
        await model.dispose();
      }
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  }
});

test("img2img with LoRAs uses the model's one VAE encoder (an adapted copy shares it), which the estimate then counts", async () => {
  const fixture = await importWithAdapters(join(FIXTURES, 'import', 'sd1', 'diffusers'), () => ({
    loraDirs: [join(FIXTURES, 'lora', 'loras')],
    embeddingDirs: [],
  }));
  try {
    const { model } = fixture;
    const budget = { bytes: estimateRequestMemory(model.info, { ...SIZE, batchSize: 1, cfgScale: 7 }).bytes, source: 'the test' };
    refuseOverMemory(model, request({}), [SIZE], budget);
    await generate(
      model,
      { ...BASE, prompt: 'a red circle <lora:sd1-kohya:0.5>', initImage: 'file:init.png', strength: 0.5 },
      { initImage: INIT },
    );
    assert.equal(vaeEncoderOpen(model), true, 'opened for the adapted copy, held by the model');
    assert.throws(() => refuseOverMemory(model, request({}), [SIZE], budget), RequestError);
  } finally {
    await fixture.close();
  }
});
