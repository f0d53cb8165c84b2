// The importer's bad input and options, end to end on the fixture checkpoints: every failure is a
// specific ImportError (or ImportCancelled) and leaves nothing behind (no output folder, no partial
// folder); a separate VAE file replaces the checkpoint's; fp16 output runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ImportCancelled, importModel } from '../src-core/import/importer.ts';
import { openSafetensors } from '../src-core/import/safetensors.ts';
import { ImportError } from '../src-core/import/weights.ts';
import { loadModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { writeSafetensors, type TestTensor } from './helpers/safetensors-writer.ts';
import { mountTmpfs } from './helpers/scratch-mount.ts';
import { REFERENCE_REQUEST } from './helpers/reference-request.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'import');
const SD1 = join(FIXTURES, 'sd1', 'sd1-ldm-fp32.safetensors');
const SD1_CONFIG = join(FIXTURES, 'sd1', 'diffusers');

/** Runs `run` in a new temporary folder, removed afterwards. */
async function inWorkDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'import-errors-'));
  try {
    await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The folder holds nothing but what the test put there: no output, no .partial leftovers. */
function assertNothingLeft(dir: string, expected: string[]): void {
  assert.deepEqual(readdirSync(dir).sort(), [...expected].sort());
}

/** The fixture's tensors, changed by `edit`, written as a new checkpoint. */
function editedCheckpoint(path: string, edit: (tensors: Record<string, TestTensor>) => void): string {
  const file = openSafetensors(SD1);
  const tensors: Record<string, TestTensor> = {};
  try {
    for (const name of file.names()) {
      const info = file.info(name);
      if (info.dtype === 'I64') continue;
      tensors[name] = { shape: [...info.shape], values: file.read(name) };
    }
  } finally {
    file.close();
  }
  edit(tensors);
  return writeSafetensors(path, tensors);
}

async function rejectsWith(dir: string, source: string, pattern: RegExp, extra: Record<string, unknown> = {}): Promise<void> {
  await assert.rejects(importModel(source, { out: join(dir, 'model'), config: SD1_CONFIG, ...extra }), (error: Error) => {
    assert.ok(error instanceof ImportError, `an ImportError, got ${error.name}: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

test('a truncated checkpoint is refused before anything is written', () =>
  inWorkDir(async (dir) => {
    const bytes = readFileSync(SD1);
    writeFileSync(join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 4096));
    await rejectsWith(dir, join(dir, 'cut.safetensors'), /cut\.safetensors.*(truncated|end of the file|beyond)/i);
    assertNothingLeft(dir, ['cut.safetensors']);
    writeFileSync(join(dir, 'header.safetensors'), Buffer.concat([Buffer.from([200, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a": ')]));
    await rejectsWith(dir, join(dir, 'header.safetensors'), /header\.safetensors/);
    assertNothingLeft(dir, ['cut.safetensors', 'header.safetensors']);
  }));

test('architectures not supported yet are named: the SDXL refiner, inpainting UNets', () =>
  inWorkDir(async (dir) => {
    const sdxl = writeSafetensors(join(dir, 'xl.safetensors'), {
      'conditioner.embedders.0.model.ln_final.weight': { shape: [4] },
      'model.diffusion_model.input_blocks.0.0.weight': { shape: [8, 4, 3, 3] },
      'model.diffusion_model.label_emb.0.0.weight': { shape: [8, 16] },
    });
    await rejectsWith(dir, sdxl, /Stable Diffusion XL refiner \(it refines SDXL base images; import the base model\): not supported yet/);
    const inpainting = editedCheckpoint(join(dir, 'inpaint.safetensors'), (t) => {
      const conv = t['model.diffusion_model.input_blocks.0.0.weight']!;
      conv.shape = [conv.shape[0]!, 9, 3, 3];
      conv.values = new Float32Array(conv.shape.reduce((a, b) => a * b, 1));
    });
    await rejectsWith(dir, inpainting, /inpaint/i);
    assertNothingLeft(dir, ['xl.safetensors', 'inpaint.safetensors']);
  }));

test('a missing or mis-shaped tensor is named', () =>
  inWorkDir(async (dir) => {
    const missing = editedCheckpoint(join(dir, 'missing.safetensors'), (t) => {
      delete t['model.diffusion_model.out.2.weight'];
    });
    await rejectsWith(dir, missing, /out\.2\.weight|conv_out\.weight/);
    const misShaped = editedCheckpoint(join(dir, 'shape.safetensors'), (t) => {
      const bias = t['model.diffusion_model.out.2.bias']!;
      bias.shape = [bias.shape[0]! + 1];
      bias.values = new Float32Array(bias.shape[0]!);
    });
    await rejectsWith(dir, misShaped, /out\.2\.bias|conv_out\.bias/);
    assertNothingLeft(dir, ['missing.safetensors', 'shape.safetensors']);
  }));

test('an existing output folder is refused', () =>
  inWorkDir(async (dir) => {
    mkdirSync(join(dir, 'model'));
    writeFileSync(join(dir, 'model', 'keep.txt'), 'mine');
    await rejectsWith(dir, SD1, /already exists/);
    assert.equal(readFileSync(join(dir, 'model', 'keep.txt'), 'utf8'), 'mine');
  }));

test('cancelling an import leaves nothing behind', () =>
  inWorkDir(async (dir) => {
    const controller = new AbortController();
    const stages: string[] = [];
    const run = importModel(SD1, {
      out: join(dir, 'model'),
      config: SD1_CONFIG,
      signal: controller.signal,
      onProgress: (p) => {
        stages.push(p.stage);
        if (p.stage === 'unet') controller.abort();
      },
    });
    await assert.rejects(run, ImportCancelled);
    assert.ok(stages.includes('text_encoder'), 'the text encoder was written before the cancel');
    assertNothingLeft(dir, []);
  }));

test('a full disk gives a specific error and leaves nothing behind', async (t) => {
  const mount = mountTmpfs(1024 * 1024);
  if ('skipReason' in mount) return t.skip(mount.skipReason);
  try {
    await assert.rejects(importModel(SD1, { out: join(mount.dir, 'model'), config: SD1_CONFIG }), /disk is full/);
    assertNothingLeft(mount.dir, []);
  } finally {
    mount.unmount();
  }
});

test('a separate VAE file replaces the checkpoint VAE; fp16 output runs', (t) =>
  inWorkDir(async (dir) => {
    // The fp16 file's VAE holds fp16-rounded weights: the decoder must then match the fp16-rounded reference.
    const out = join(dir, 'model');
    copyFileSync(SD1, join(dir, 'base.safetensors'));
    await importModel(join(dir, 'base.safetensors'), { out, config: SD1_CONFIG, vae: join(FIXTURES, 'sd1', 'sd1-ldm-fp16.safetensors') });
    const reference = (name: string) => JSON.parse(readFileSync(join(FIXTURES, 'references', `${name}.json`), 'utf8')).tensors;
    const decode = async () => {
      const session = await ort.InferenceSession.create(join(out, 'vae_decoder', 'model.onnx'));
      const latent = reference('sd1').vae_decoder_latent_sample;
      const result = await session.run({ latent_sample: new ort.Tensor('float32', Float32Array.from(latent.data), latent.shape) });
      await session.release();
      return result.sample!.data as Float32Array;
    };
    const decoded = await decode();
    const error = (expected: number[]) => decoded.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i]!)), 0);
    const rounded = error(reference('sd1-fp16').vae_decoder_sample.data);
    const original = error(reference('sd1').vae_decoder_sample.data);
    t.diagnostic(
      `VAE decode max difference: ${rounded.toExponential(2)} from the fp16-rounded VAE, ` +
        `${original.toExponential(2)} from the checkpoint's own`,
    );
    assert.ok(rounded < 1e-4 && original > 10 * rounded, "the decoder is the separate file's");

    const half = join(dir, 'half');
    await importModel(SD1, { out: half, config: SD1_CONFIG, precision: 'fp16' });
    const model = await loadModel(half);
    try {
      assert.equal(model.info.unetFloat, 'float16');
      assert.equal(model.info.vaeFloat, 'float32', 'the VAE config asks for force_upcast');
      const image = await generate(model, REFERENCE_REQUEST);
      assert.equal(image.images.length, 1);
    } finally {
      await model.dispose();
    }
    assert.ok(existsSync(join(half, 'import_info.json')));
  }));
