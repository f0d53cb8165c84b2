// LoRAs on the importer's CUDA UNet graph (unet_cuda/): a model run with it takes a LoRA in that graph, its conv
// kernels channels-last and its attention projections packed, instead of falling back to the portable unet/. The
// importer's tiny SD 1 model is imported with the CUDA graph, whose CUDA-only ops are then expanded into standard
// ops (onnx/cuda-ops-reference.ts, same weights under the same names) so the CPU runs it; images must match
// diffusers' with load_lora_weights (tests/fixtures/lora) to 1/255, as the portable graph's do in lora-parity.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachAdapters, prepareAdapters } from '../src-core/adapters/apply.ts';
import { readModelProto } from '../src-core/adapters/onnx-patch.ts';
import { importModel } from '../src-core/import/importer.ts';
import { openImportSource } from '../src-core/import/source.ts';
import { buildUNet, type UNetConfig } from '../src-core/import/unet-graph.ts';
import { loadModel, type StableDiffusionModel } from '../src-core/model/model.ts';
import { expandCudaOps } from '../src-core/onnx/cuda-ops-reference.ts';
import { writeModel } from '../src-core/onnx/write-model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { loadTensors, maxPixelDifference, relativeDifference, tensor } from './helpers/references.ts';
import { externalWeights, readModel } from './helpers/external-data.ts';
import { REFERENCE_PROMPT as PROMPT, REFERENCE_REQUEST } from './helpers/reference-request.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const SD1 = join(FIXTURES, 'import', 'sd1', 'diffusers');
const LORA = join(FIXTURES, 'lora');
const FOLDERS = { loraDirs: [join(LORA, 'loras')], embeddingDirs: [] };
const PACKED_QKV = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_qkv';
/** unet_cuda/'s link to unet/'s data file. */
const SHARED = 'unet.onnx_data';

let work: string;
let out: string;
let model: StableDiffusionModel;

/**
 * Imports a diffusers folder with the CUDA graph, then gives unet_cuda/ its graph with the CUDA-only ops expanded. The
 * weights the importer's graph takes from unet/'s data file (linked into unet_cuda/) are taken from there again.
 */
async function importExpandedCudaGraph(diffusersDir: string, out: string): Promise<void> {
  const imported = await importModel(diffusersDir, { out, cudaGraph: true });
  assert.equal(imported.cudaGraph, true);
  const source = await openImportSource(diffusersDir);
  try {
    const graph = buildUNet(source.weights.unet, source.configs.unet as unknown as UNetConfig, { float: 'float32', target: 'cuda' });
    // The fused graph as the importer wrote it, kept for the fallback test.
    cpSync(join(out, 'unet_cuda'), join(out, 'unet_cuda_fused'), { recursive: true });
    const fused = externalWeights(readModel(join(out, 'unet_cuda', 'model.onnx')));
    const shared = new Map([...fused].filter(([, w]) => w.location === SHARED));
    assert.ok(shared.size > 0);
    expandCudaOps(graph);
    const written = await writeModel(graph, join(out, 'unet_cuda'), { shared: { location: SHARED, weights: shared } });
    assert.equal(
      written.sharedBytes,
      [...shared.values()].reduce((sum, w) => sum + w.length, 0),
    );
  } finally {
    source.close();
  }
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'lora-cuda-'));
  out = join(work, 'sd1');
  await importExpandedCudaGraph(SD1, out);
  model = await loadModel(out, { provider: 'cpu', unetGraph: 'cuda' });
  attachAdapters(model, { ...FOLDERS, cacheRoot: join(work, 'cache') });
});

after(async () => {
  await model?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function image(target: StableDiffusionModel, prompt: string): Promise<{ png: Buffer; notes: string[] }> {
  const result = await generate(target, { ...REFERENCE_REQUEST, prompt });
  return { png: result.images[0]!.png, notes: result.notes };
}

/** The patched graphs written under a cache root, with the names their nodes read. */
function patchedGraphs(cacheRoot: string): Array<{ file: string; reads: Set<string> }> {
  return readdirSync(cacheRoot, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.onnx') && !f.endsWith('model.onnx'))
    .map((f) => ({ file: f, reads: new Set(readModelProto(join(cacheRoot, f)).graph!.node!.flatMap((n) => n.input ?? [])) }));
}

test("the CUDA graph's memory counts the weights it reads from unet/'s data file, not the whole file", async () => {
  const portable = await loadModel(out, { provider: 'cpu' });
  try {
    assert.equal(portable.info.unetGraph, 'portable');
    const size = (file: string) => statSync(join(out, file)).size;
    const sharedRead = [...externalWeights(readModel(join(out, 'unet_cuda', 'model.onnx'))).values()]
      .filter((w) => w.location === SHARED)
      .reduce((sum, w) => sum + w.length, 0);
    const unetRead = [...externalWeights(readModel(join(out, 'unet', 'model.onnx'))).values()].reduce((sum, w) => sum + w.length, 0);
    const cudaBytes = size('unet_cuda/model.onnx') + size('unet_cuda/model.onnx_data') + size('unet_cuda/config.json') + sharedRead;
    const portableBytes = size('unet/model.onnx') + unetRead + size('unet/config.json');
    assert.ok(sharedRead > 0 && sharedRead < size('unet/model.onnx_data'));
    assert.equal(model.info.weightBytes - portable.info.weightBytes, cudaBytes - portableBytes);
  } finally {
    await portable.dispose();
  }
});

test("a LoRA on the CUDA graph gives diffusers' LoRA images to 1/255, in each file layout and at weight 0.5", async () => {
  assert.equal(model.info.unetGraph, 'cuda');
  const plain = await image(model, PROMPT);
  for (const [prompt, reference] of [
    [`${PROMPT} <lora:sd1-kohya:1>`, 'sd1-lora-w1.0.png'],
    [`${PROMPT} <lora:sd1-kohya-ldm:1>`, 'sd1-lora-w1.0.png'],
    [`${PROMPT} <lora:sd1-peft:1>`, 'sd1-lora-w1.0.png'],
    [`${PROMPT} <lora:sd1-kohya:0.5>`, 'sd1-lora-w0.5.png'],
  ] as const) {
    const { png, notes } = await image(model, prompt);
    assert.deepEqual(notes, [], prompt);
    const difference = maxPixelDifference(png, join(LORA, 'references', reference));
    assert.ok(difference <= 1, `${prompt}: ${difference}/255 from ${reference}`);
  }
  // The LoRA changes the image, and the CUDA graph's own UNet comes back without it.
  assert.ok(maxPixelDifference(plain.png, join(LORA, 'references', 'sd1-lora-w1.0.png')) > 20);
  assert.deepEqual((await image(model, PROMPT)).png, plain.png);
});

test('the adapted UNet is made from unet_cuda/: its packed attention and channels-last kernels change', async () => {
  await prepareAdapters(model, { prompt: `${PROMPT} <lora:sd1-kohya:1>`, negativePrompt: '' });
  const graphs = patchedGraphs(join(work, 'cache'));
  const cuda = graphs.filter((g) => g.reads.has(PACKED_QKV));
  assert.ok(cuda.length > 0, graphs.map((g) => g.file).join(', '));
  for (const { reads } of cuda) {
    assert.ok(reads.has('down_blocks.0.resnets.0.conv1.weight.nhwc'));
    assert.ok(reads.has('down_blocks.0.downsamplers.0.conv.weight.nhwc'));
    assert.ok(!reads.has('down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight.T'), 'no portable weight names');
  }
});

test("the CUDA graph's LoRA UNet call matches diffusers' to 1e-4 relative", async () => {
  const t = loadTensors(LORA, 'lora');
  const { model: adapted } = await prepareAdapters(model, { prompt: `${PROMPT} <lora:sd1-kohya:1>`, negativePrompt: '' });
  assert.notEqual(adapted.unet, model.unet);
  const result = await adapted.unet.session.run({
    sample: tensor(t.unet_sample!),
    timestep: tensor(t.unet_timestep!),
    encoder_hidden_states: tensor(t.unet_encoder_hidden_states!),
  });
  const error = relativeDifference(result.out_sample!.data as Float32Array, t.unet_out_sample!);
  assert.ok(error < 1e-4, `relative error ${error}`);
});

test('where the LoRA cannot be made into a CUDA graph that opens, the portable UNet takes it, with a note', async () => {
  const copy = join(work, 'sd1-copy');
  cpSync(out, copy, { recursive: true });
  const other = await loadModel(copy, { provider: 'cpu', unetGraph: 'cuda' });
  const swapped = join(work, 'swap');
  mkdirSync(swapped);
  try {
    assert.equal(other.info.unetGraph, 'cuda');
    // The folder now holds the fused graph, whose CUDA-only kernels the CPU provider lacks; the open session keeps the
    // expanded one (the files are replaced, not overwritten).
    for (const file of ['model.onnx', 'model.onnx_data']) {
      cpSync(join(copy, 'unet_cuda_fused', file), join(swapped, file));
      renameSync(join(swapped, file), join(copy, 'unet_cuda', file));
    }
    attachAdapters(other, { ...FOLDERS, cacheRoot: join(work, 'cache-fallback') });
    const { png, notes } = await image(other, `${PROMPT} <lora:sd1-kohya:1>`);
    assert.equal(notes.length, 1, notes.join('\n'));
    assert.match(notes[0]!, /^the LoRA set could not be applied to unet_cuda\/, so the portable UNet runs it: .*(NhwcConv|GroupNorm)/);
    assert.ok(maxPixelDifference(png, join(LORA, 'references', 'sd1-lora-w1.0.png')) <= 1);
  } finally {
    await other.dispose();
  }
});

test("SDXL (LDM names, linear projections, two transformer layers): the CUDA graph's LoRA image is diffusers' to 1/255", async () => {
  const sdxl = join(work, 'sdxl');
  await importExpandedCudaGraph(join(FIXTURES, 'sdxl', 'diffusers'), sdxl);
  const xl = await loadModel(sdxl, { provider: 'cpu', unetGraph: 'cuda' });
  try {
    assert.equal(xl.info.unetGraph, 'cuda');
    attachAdapters(xl, { loraDirs: [join(LORA, 'loras-sdxl')], embeddingDirs: [], cacheRoot: join(work, 'cache-sdxl') });
    const result = await generate(xl, { ...REFERENCE_REQUEST, cfgScale: 5, prompt: `${PROMPT} <lora:sdxl-kohya:1>` });
    assert.deepEqual(result.notes, []);
    const difference = maxPixelDifference(result.images[0]!.png, join(LORA, 'references', 'sdxl-lora-w1.0.png'));
    assert.ok(difference <= 1, `${difference}/255`);
    assert.ok(patchedGraphs(join(work, 'cache-sdxl')).some((g) => [...g.reads].some((name) => name.endsWith('.attn2.to_kv'))));
  } finally {
    await xl.dispose();
  }
});
