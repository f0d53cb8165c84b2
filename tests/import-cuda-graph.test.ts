// The importer's CUDA UNet graph (unet_cuda/): against diffusers' own UNet output for the tiny SD 1 and SD 2 test
// models (tests/fixtures/import) and the SDXL one (tests/fixtures/sdxl), with its CUDA-only ops rewritten into
// standard ops for the CPU as onnxruntime documents them; and the folder the importer writes: unet_cuda/ beside
// unet/, run only by the CUDA provider.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importModel } from '../src-core/import/importer.ts';
import { openImportSource } from '../src-core/import/source.ts';
import { buildUNet, type UNetConfig } from '../src-core/import/unet-graph.ts';
import { runUNetGraph } from '../src-core/import/unet-testing.ts';
import { expandCudaOps } from '../src-core/onnx/cuda-ops-reference.ts';
import { loadModel, openUNet } from '../src-core/model/model.ts';
import type { ComponentSession } from '../src-core/model/session.ts';
import { unetGraphFor } from '../src-core/model/unet-folder.ts';
import { writeModel } from '../src-core/onnx/write-model.ts';
import { loadTensors, relativeDifference, relativeError, runComponent, tensor, type RefTensor } from './helpers/references.ts';
import { externalWeights, readModel, weightBytes } from './helpers/external-data.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'import');

const feed = (ref: RefTensor) => ({ data: Float32Array.from(ref.data), dims: ref.shape });

for (const [name, folder, reference] of [
  ['SD 1', 'sd1/diffusers', 'sd1'],
  ['SD 2 (linear projections, v)', 'sd2/diffusers', 'sd2'],
] as const) {
  test(`the CUDA UNet graph of the ${name} test model matches diffusers' UNet to 1e-4 (CUDA-only ops expanded)`, async () => {
    const source = await openImportSource(join(FIXTURES, folder));
    try {
      const graph = buildUNet(source.weights.unet, source.configs.unet as unknown as UNetConfig, { float: 'float32', target: 'cuda' });
      const { expanded } = expandCudaOps(graph);
      assert.ok((expanded.NhwcConv ?? 0) > 0 && (expanded.MultiHeadAttention ?? 0) > 0, JSON.stringify(expanded));
      const ref = loadTensors(FIXTURES, reference);
      const out = await runUNetGraph(graph, {
        sample: feed(ref.unet_sample!),
        timestep: feed(ref.unet_timestep!),
        encoder_hidden_states: feed(ref.unet_encoder_hidden_states!),
      });
      const error = relativeDifference(out, ref.unet_out_sample!);
      assert.ok(error < 1e-4, `relative error ${error}`);
    } finally {
      source.close();
    }
  });
}

const SDXL_FIXTURES = join(import.meta.dirname, 'fixtures', 'sdxl');

test(
  "the CUDA UNet graph of the SDXL test model (text-time embedding, two transformer layers) matches diffusers' UNet to 1e-4",
  { skip: existsSync(join(SDXL_FIXTURES, 'references', 'sdxl.json')) ? false : 'tests/fixtures/sdxl/references is absent' },
  async () => {
    const work = mkdtempSync(join(tmpdir(), 'cuda-sdxl-'));
    const source = await openImportSource(join(SDXL_FIXTURES, 'diffusers'));
    try {
      const graph = buildUNet(source.weights.unet, source.configs.unet as unknown as UNetConfig, { float: 'float32', target: 'cuda' });
      const { expanded } = expandCudaOps(graph);
      assert.ok((expanded.SkipGroupNorm ?? 0) > 0 && (expanded.MultiHeadAttention ?? 0) > 0, JSON.stringify(expanded));
      await writeModel(graph, join(work, 'unet'));
      const ref = loadTensors(SDXL_FIXTURES, 'sdxl');
      const out = await runComponent(work, 'unet', {
        sample: tensor(ref.unet_sample!),
        timestep: tensor(ref.unet_timestep!),
        encoder_hidden_states: tensor(ref.unet_encoder_hidden_states!),
        text_embeds: tensor(ref.unet_text_embeds!),
        time_ids: tensor(ref.unet_time_ids!),
      });
      const error = relativeError(out.out_sample, ref.unet_out_sample!);
      assert.ok(error < 1e-4, `relative error ${error}`);
    } finally {
      source.close();
      rmSync(work, { recursive: true, force: true });
    }
  },
);

test('an import with the CUDA graph writes unet_cuda/ beside unet/; other providers keep running unet/', async () => {
  const work = mkdtempSync(join(tmpdir(), 'import-cuda-'));
  try {
    const out = join(work, 'model');
    const result = await importModel(join(FIXTURES, 'sd1/diffusers'), { out, cudaGraph: true });
    assert.equal(result.cudaGraph, true);
    assert.ok(existsSync(join(out, 'unet_cuda', 'model.onnx')) && existsSync(join(out, 'unet_cuda', 'model.onnx_data')));
    assert.deepEqual(
      JSON.parse(readFileSync(join(out, 'unet_cuda', 'config.json'), 'utf8')),
      JSON.parse(readFileSync(join(out, 'unet', 'config.json'), 'utf8')),
    );
    assert.equal(JSON.parse(readFileSync(join(out, 'import_info.json'), 'utf8')).cudaGraph, true);
    const graph = readFileSync(join(out, 'unet_cuda', 'model.onnx')).toString('latin1');
    for (const op of ['NhwcConv', 'GroupNorm', 'MultiHeadAttention', 'SkipLayerNormalization']) assert.ok(graph.includes(op), op);
    assert.equal(unetGraphFor(out, 'cuda'), 'cuda');
    assert.equal(unetGraphFor(out, 'cpu'), 'portable');
    const model = await loadModel(out, { provider: 'cpu' });
    try {
      assert.equal(model.info.unetGraph, 'portable');
      assert.equal(model.info.unetGraphProblem, undefined);
    } finally {
      await model.dispose();
    }
    // Where unet_cuda/ does not open (its CUDA-only kernels are missing: here the CPU provider's), the portable UNet
    // runs and the reason is kept.
    const opened: ComponentSession[] = [];
    const fallback = await openUNet(out, 'cpu', opened, 'cuda');
    try {
      assert.equal(fallback.graph, 'portable');
      assert.match(
        fallback.problem ?? '',
        /^unet_cuda\/ did not open, so the portable UNet runs: unet: could not load unet_cuda\/model\.onnx: .*(NhwcConv|GroupNorm|BiasSplitGelu)/,
      );
      assert.deepEqual(
        opened.map((c) => c.component),
        ['unet'],
      );
      assert.equal(fallback.unet.inputs.get('sample')?.shape.length, 4);
    } finally {
      for (const c of opened) await c.session.release();
    }
    const plain = join(work, 'plain');
    assert.equal((await importModel(join(FIXTURES, 'sd1/diffusers'), { out: plain, cudaGraph: false })).cudaGraph, false);
    assert.equal(existsSync(join(plain, 'unet_cuda')), false);
    assert.equal(unetGraphFor(plain, 'cuda'), 'portable');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

for (const precision of ['fp32', 'fp16'] as const) {
  test(`unet_cuda/ (${precision}) refers to the weights it shares with unet/ in a link to unet/'s data file: the same bytes`, async () => {
    const work = mkdtempSync(join(tmpdir(), 'cuda-shared-'));
    const source = await openImportSource(join(FIXTURES, 'sd1/diffusers'));
    try {
      const out = join(work, 'model');
      await importModel(join(FIXTURES, 'sd1/diffusers'), { out, cudaGraph: true, precision });
      const cudaDir = join(out, 'unet_cuda');
      assert.equal(statSync(join(cudaDir, 'unet.onnx_data')).ino, statSync(join(out, 'unet', 'model.onnx_data')).ino);
      // The same graph written on its own, every weight in its own file.
      const float = precision === 'fp16' ? 'float16' : 'float32';
      const graph = buildUNet(source.weights.unet, source.configs.unet as unknown as UNetConfig, { float, target: 'cuda' });
      await writeModel(graph, join(work, 'alone'));
      const alone = externalWeights(readModel(join(work, 'alone', 'model.onnx')));
      const imported = externalWeights(readModel(join(cudaDir, 'model.onnx')));
      assert.deepEqual([...imported.keys()].sort(), [...alone.keys()].sort());
      let sharedBytes = 0,
        oneByOne = 0;
      for (const [name, weight] of imported) {
        const expected = alone.get(name)!;
        assert.deepEqual([weight.dims, weight.dataType], [expected.dims, expected.dataType], name);
        assert.ok(weightBytes(cudaDir, weight).equals(weightBytes(join(work, 'alone'), expected)), `${name}: other bytes`);
        if (weight.location === 'unet.onnx_data') {
          sharedBytes += weight.length;
          if (name.endsWith('.nhwc')) oneByOne++;
        }
      }
      // Its Linears (attention outputs, feed-forward, time embedding) and 1x1 convs are shared.
      assert.ok(imported.get('down_blocks.0.attentions.0.transformer_blocks.0.ff.net.2.weight.T')?.location === 'unet.onnx_data');
      assert.ok(oneByOne > 0);
      assert.equal(
        statSync(join(cudaDir, 'model.onnx_data')).size + sharedBytes <= statSync(join(work, 'alone', 'model.onnx_data')).size,
        true,
      );
    } finally {
      source.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
}

test('where the disk cannot link files, unet_cuda/ gets a whole copy of its weights', async () => {
  const work = mkdtempSync(join(tmpdir(), 'cuda-nolink-'));
  const linkSync = fs.linkSync;
  // As on a FAT or exFAT disk: the importer's named import of linkSync follows the module's export.
  fs.linkSync = () => {
    throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' });
  };
  syncBuiltinESMExports();
  try {
    const out = join(work, 'model');
    await importModel(join(FIXTURES, 'sd1/diffusers'), { out, cudaGraph: true });
    assert.equal(existsSync(join(out, 'unet_cuda', 'unet.onnx_data')), false);
    const weights = [...externalWeights(readModel(join(out, 'unet_cuda', 'model.onnx'))).values()];
    assert.ok(weights.length > 0 && weights.every((w) => w.location === 'model.onnx_data'));
  } finally {
    fs.linkSync = linkSync;
    syncBuiltinESMExports();
    rmSync(work, { recursive: true, force: true });
  }
});
