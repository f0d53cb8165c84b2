// SDXL folders in the engine beyond parity (tests/sdxl-pipeline.test.ts): recognised from their files, half
// folders refused, the fp16 VAE upcast (or not, when marked fixed), emphasis and 75-token chunks on both
// encoders, guidance batching of text_embeds and time_ids, force_zeros_for_empty_prompt false, and the fixture
// through the Compare grid, the Explore sweep and the command line. Real onnxruntime sessions throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { GridRequestSchema, SweepRequestSchema } from '../src-core/contract/experiments.ts';
import { runGrid } from '../src-core/experiments/grid.ts';
import { runSweep } from '../src-core/experiments/sweep.ts';
import { guidedDenoiser } from '../src-core/guidance/denoiser.ts';
import type { UNetBatch } from '../src-core/guidance/unet.ts';
import { loadModel } from '../src-core/model/model.ts';
import { newTimings, runTextEncoderPart, unetCall } from '../src-core/pipeline/components.ts';
import { pngToRequest } from '../src-core/pipeline/png-import.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { chunkPrompt } from '../src-core/prompt/chunks.ts';
import { promptConditioning } from '../src-core/prompt/conditioning.ts';
import { readTextChunks } from '../src-core/png/text-chunks.ts';
import { modelFolder } from './helpers/model-folders.ts';
import { writeFp16VaeDecoder } from './helpers/sdxl-folders.ts';

const ROOT = join(import.meta.dirname, '..');
const MODEL = join(import.meta.dirname, 'fixtures', 'sdxl', 'onnx');
const PROMPT = 'a red circle on a blue background';
const refTensors = (
  JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'sdxl', 'references', 'sdxl.json'), 'utf8')) as {
    tensors: Record<string, { data: number[] }>;
  }
).tensors;

/** A copy of the fixture under another name, changed by `edit`; removed by the caller. */
async function copyOf(edit: (dir: string) => void | Promise<void> = () => undefined, name = 'stable-diffusion-v1-5'): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'sdxl-engine-')), name);
  cpSync(MODEL, dir, { recursive: true });
  await edit(dir);
  return dir;
}
const removeCopy = (dir: string) => rmSync(join(dir, '..'), { recursive: true, force: true });
const editJson = (path: string, change: (json: Record<string, unknown>) => void) => {
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  change(json);
  writeFileSync(path, JSON.stringify(json));
};

test('an SDXL folder is recognised from its files whatever its name; SD folders stay SD', async () => {
  const dir = await copyOf();
  const sdxl = await loadModel(dir);
  const sd = await loadModel(modelFolder('tiny-sd-eps-int64'));
  try {
    const { info } = sdxl;
    assert.deepEqual(
      {
        family: info.family,
        sdxl: info.sdxl,
        hidden: info.textHidden,
        native: info.latentSize * info.vaeFactor,
        vae: info.vaeDecode,
        scaling: info.scalingFactor,
      },
      {
        family: 'sdxl',
        sdxl: { pooledWidth: 40, forceZerosForEmptyPrompt: true, textEmbedsFloat: 'float32', timeIdsFloat: 'float32' },
        hidden: 80,
        native: 64,
        vae: 'as-is',
        scaling: 0.13025,
      },
    );
    assert.deepEqual(
      sdxl.textEncoders.map((p) => [p.component, p.statesOutput, p.hidden, p.tokenizer.padId, p.pooled?.output]),
      [
        ['text_encoder', 'hidden_states.2', 32, 1001, undefined],
        ['text_encoder_2', 'hidden_states.3', 48, 0, 'text_embeds'],
      ],
    );
    assert.deepEqual(
      { family: sd.info.family, parts: sd.textEncoders.map((p) => p.statesOutput), sdxl: sd.info.sdxl },
      { family: 'sd', parts: ['last_hidden_state'], sdxl: undefined },
    );
    const image = (await generate(sdxl, { prompt: PROMPT, seed: 1, steps: 2 })).images[0];
    assert.deepEqual([image.width, image.height], [64, 64], 'the native size is the default size');
    // optimum's traced UNet upsamples by exactly 2: a side that does not halve evenly is refused in sizes.
    await assert.rejects(
      generate(sdxl, { prompt: PROMPT, seed: 1, steps: 1, width: 72, height: 56 }),
      /takes sizes in multiples of 32 pixels.*72x56 is not one/,
    );
  } finally {
    await sdxl.dispose();
    await sd.dispose();
    removeCopy(dir);
  }
});

test('half an SDXL folder is refused with what is missing', async () => {
  const cases: Array<[string, (dir: string) => void, RegExp]> = [
    ['no text_encoder_2', (d) => rmSync(join(d, 'text_encoder_2'), { recursive: true }), /text_encoder_2\/ is missing/],
    ['no tokenizer_2', (d) => rmSync(join(d, 'tokenizer_2'), { recursive: true }), /tokenizer_2\/ is missing/],
    ['a refiner (no text_encoder)', (d) => rmSync(join(d, 'text_encoder'), { recursive: true }), /refiner/],
    [
      'a bad force_zeros_for_empty_prompt',
      (d) =>
        editJson(join(d, 'model_index.json'), (j) => {
          j.force_zeros_for_empty_prompt = 'yes';
        }),
      /force_zeros_for_empty_prompt must be true or false/,
    ],
  ];
  for (const [what, edit, message] of cases) {
    const dir = await copyOf(edit);
    try {
      await assert.rejects(loadModel(dir), message, what);
    } finally {
      removeCopy(dir);
    }
  }
});

test('force_zeros_for_empty_prompt false: an empty negative prompt is encoded, as diffusers encodes ""', async () => {
  const dir = await copyOf((d) =>
    editJson(join(d, 'model_index.json'), (j) => {
      j.force_zeros_for_empty_prompt = false;
    }),
  );
  const model = await loadModel(dir);
  try {
    const { uncond } = await promptConditioning(
      model,
      { prompt: PROMPT, negativePrompt: '', emphasis: 'original', guided: true },
      newTimings(),
    );
    const expected = refTensors.negative_prompt_embeds_empty.data;
    const error = Math.max(...expected.map((v, i) => Math.abs(v - uncond!.states[i]))) / Math.max(...expected.map(Math.abs));
    assert.ok(error < 1e-4, `negative_prompt_embeds of "": ${error}`);
    assert.ok(uncond!.pooled!.some((v) => v !== 0));
  } finally {
    await model.dispose();
    removeCopy(dir);
  }
});

test('an fp16 VAE runs in fp32 when its config asks for force_upcast, in fp16 when marked fixed; the notes say which', async (t) => {
  const reference = await loadModel(MODEL);
  const request = { prompt: PROMPT, seed: 7, steps: 4, noiseSource: 'torch-cpu' };
  const fp32 = decode((await generate(reference, request)).images[0].png);
  await reference.dispose();
  for (const [forceUpcast, mode, float, note] of [
    [true, 'upcast', 'float32', /runs in float32/],
    [false, 'fp16-fixed', 'float16', /runs in float16/],
  ] as const) {
    const dir = await copyOf(async (d) => {
      await writeFp16VaeDecoder(d);
      editJson(join(d, 'vae_decoder', 'config.json'), (j) => {
        j.force_upcast = forceUpcast;
      });
    });
    const model = await loadModel(dir);
    try {
      assert.deepEqual([model.info.vaeDecode, model.info.vaeFloat], [mode, float]);
      const result = await generate(model, request);
      assert.match(result.notes.join('\n'), note);
      const image = decode(result.images[0].png);
      const difference = Math.max(...Array.from(image.data, (v, i) => Math.abs(v - fp32.data[i])));
      // fp16-rounded weights (and, when fixed, fp16 activations) against the fp32 decoder.
      t.diagnostic(`${mode}: ${difference}/255 from the fp32 decoder's image`);
      assert.ok(difference <= (forceUpcast ? 2 : 8), `${mode}: ${difference}/255 from the fp32 image`);
    } finally {
      await model.dispose();
      removeCopy(dir);
    }
  }
});

test("emphasis and 75-token chunks apply to both encoders; the pooled vector is the first chunk's, unweighted", async () => {
  const model = await loadModel(MODEL);
  try {
    const encode = async (prompt: string, negativePrompt = 'x') =>
      promptConditioning(model, { prompt, negativePrompt, emphasis: 'original', guided: true }, newTimings());
    const plain = (await encode(PROMPT)).cond,
      weighted = (await encode(`(${PROMPT}:1.4)`)).cond;
    assert.deepEqual(weighted.pooled, plain.pooled, 'emphasis leaves the pooled vector alone (A1111 keeps the unweighted one)');
    // "original" restores each encoder's mean on its own, as A1111 does per embedder.
    const mean = (s: Float32Array, from: number, to: number) => {
      let sum = 0;
      for (let t = 0; t < 77; t++) for (let c = from; c < to; c++) sum += s[t * 80 + c];
      return sum / (77 * (to - from));
    };
    for (const [from, to] of [
      [0, 32],
      [32, 80],
    ]) {
      assert.ok(Math.abs(mean(weighted.states, from, to) - mean(plain.states, from, to)) < 1e-5, `channels ${from}-${to}: mean restored`);
      assert.ok(
        weighted.states.subarray(0, 77 * 80).some((v, i) => i % 80 >= from && i % 80 < to && v !== plain.states[i]),
        `channels ${from}-${to}: weighted`,
      );
    }
    const long = Array.from({ length: 20 }, (_, i) => `${['red', 'blue', 'green'][i % 3]} circle`).join(' ');
    const { cond, uncond } = await encode(long);
    assert.equal(cond.tokens, 154, 'two chunks');
    assert.equal(uncond!.tokens, 154, 'the negative prompt is padded with the empty chunk of both encoders');
    const [first, second] = model.textEncoders.map((p) => chunkPrompt(p.tokenizer, long).chunks[0].ids);
    const firstChunk = await runTextEncoderPart(model.textEncoders[1], second, newTimings());
    assert.deepEqual(cond.pooled, firstChunk.pooled, 'pooled from the first chunk');
    const ownStates = (await runTextEncoderPart(model.textEncoders[0], first, newTimings())).states;
    assert.deepEqual(
      Array.from({ length: 77 * 32 }, (_, i) => cond.states[Math.floor(i / 32) * 80 + (i % 32)]),
      Array.from(ownStates),
    );
  } finally {
    await model.dispose();
  }
});

test('guidance batches text_embeds and time_ids for both halves, [uncond x batch, cond x batch]', async () => {
  const model = await loadModel(MODEL);
  try {
    const { cond, uncond } = await promptConditioning(
      model,
      { prompt: PROMPT, negativePrompt: 'a blurry green square', emphasis: 'original', guided: true },
      newTimings(),
    );
    const real = unetCall(model, 8, 8, newTimings());
    const seen: UNetBatch[] = [];
    const timeIds = Float32Array.of(96, 128, 8, 4, 64, 64);
    const D = guidedDenoiser({
      unet: (b) => {
        seen.push(b);
        return real(b);
      },
      schedule: model.schedule,
      prediction: 'epsilon',
      batch: 2,
      cond,
      uncond,
      scale: 5,
      timeIds,
    });
    const out = await D(new Float64Array(2 * 4 * 8 * 8).fill(0.5), 3);
    assert.ok(out.every(Number.isFinite));
    const { batch, textEmbeds, timeIds: ids } = seen[0];
    assert.equal(batch, 4);
    const row = (values: Float32Array, width: number, r: number) => [...values.subarray(r * width, (r + 1) * width)];
    assert.deepEqual(
      [0, 1, 2, 3].map((r) => row(textEmbeds!, 40, r)),
      [uncond!.pooled!, uncond!.pooled!, cond.pooled!, cond.pooled!].map((p) => [...p]),
    );
    assert.deepEqual(
      [0, 1, 2, 3].map((r) => row(ids!, 6, r)),
      new Array(4).fill([...timeIds]),
    );
  } finally {
    await model.dispose();
  }
});

test('original size and crop reach the PNG and come back; SD models ignore them with a note', async () => {
  const sdxl = await loadModel(MODEL);
  const sd = await loadModel(modelFolder('tiny-sd-eps-int64'));
  try {
    const base = { prompt: PROMPT, seed: 3, steps: 2, originalWidth: 128, originalHeight: 96, cropTop: 8, cropLeft: 4 };
    const sized = (await generate(sdxl, base)).images[0];
    assert.match(sized.parameters, /Size: 64x64, .*Original size: 128x96, Crop top: 8, Crop left: 4/);
    const back = pngToRequest(sized.png);
    assert.deepEqual(
      [back.request.originalWidth, back.request.originalHeight, back.request.cropTop, back.request.cropLeft, back.notes],
      [128, 96, 8, 4, []],
    );
    const plain = (await generate(sdxl, { prompt: PROMPT, seed: 3, steps: 2 })).images[0];
    assert.doesNotMatch(plain.parameters, /Original size|Crop/);
    assert.notDeepEqual(sized.png, plain.png, 'the size conditioning changes the image');
    const onSd = await generate(sd, base);
    assert.match(onSd.notes.join('\n'), /condition SDXL models only.*ignored/);
    assert.doesNotMatch(onSd.images[0].parameters, /Original size|Crop/);
    await assert.rejects(generate(sdxl, { ...base, cropTop: -1 }), /cropTop/);
  } finally {
    await sdxl.dispose();
    await sd.dispose();
  }
});

test('the Compare grid and the Explore sweep run on an SDXL model', async () => {
  const model = await loadModel(MODEL);
  try {
    const grid = GridRequestSchema.parse({
      base: { prompt: PROMPT, seed: 5, steps: 2, cfgScale: 5, originalWidth: 128 },
      x: { kind: 'sampler', values: ['euler', 'heun'] },
      y: { kind: 'cfgScale', values: [3, 6] },
    });
    const cells = await runGrid(model, grid);
    assert.equal(cells.length, 4);
    for (const cell of cells) assert.match(cell.parameters, /Size: 64x64.*Original size: 128x64/);
    const points = await runSweep(model, null, SweepRequestSchema.parse({ prompt: PROMPT, cfgScales: [2, 6], seeds: 2, steps: 2 }));
    assert.equal(points.length, 2);
    for (const p of points) {
      assert.equal(p.images.length, 2);
      assert.ok(Number.isFinite(p.diversity) && p.diversity > 0);
    }
  } finally {
    await model.dispose();
  }
});

test('npm run generate works on the SDXL folder with --original-size and --crop-top', () => {
  const out = mkdtempSync(join(tmpdir(), 'sdxl-cli-'));
  try {
    const args = [
      '--import',
      'tsx',
      'src-core/cli/generate.ts',
      '--model',
      MODEL,
      '--prompt',
      PROMPT,
      '--width',
      '64',
      '--height',
      '64',
      '--steps',
      '3',
      '--seed',
      '11',
      '--provider',
      'cpu',
      '--original-size',
      '128x96',
      '--crop-top',
      '8',
      '--out',
      out,
    ];
    const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const [file] = readdirSync(out);
    assert.match(readTextChunks(readFileSync(join(out, file))).parameters, /Size: 64x64, Model: onnx.*Original size: 128x96, Crop top: 8/);
    const bad = spawnSync(process.execPath, [...args.slice(0, 11), '--original-size', '128'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--original-size must be WIDTHxHEIGHT/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
