// The written files: model.onnx decoded back with onnx-proto, every weight external and 64-byte aligned in
// model.onnx_data, float16 graphs running on CPU, weights read once each in order, abort, a full disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { fromHalfBits } from '../model/half.ts';
import { arrayWeight, ImportError, reshapedRef, weightMap, type WeightRef } from '../import/weights.ts';
import { Graph } from './graph.ts';
import { writeModel } from './write-model.ts';
import { attention, gelu, groupNorm, layerNorm, linear, transposedWeight } from './layers.ts';
import { randomValues, randomWeight, relativeError, runGraph } from './testing.ts';

const { onnx } = onnxProto;

async function withDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'onnx-graph-test-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** x [batch, n] + w1[n] + w2[n] + w3[n] with n = 17 floats, so that every offset needs padding. */
function sumGraph(float: 'float32' | 'float16', refs: WeightRef[]): Graph {
  const g = new Graph('sum', float);
  let y = g.input('x', float, ['batch', 17]);
  refs.forEach((ref, i) => {
    y = g.op('Add', [y, g.weight(`block.${i}.weight`, ref)], undefined, { name: `add${i}` });
  });
  g.output('y', y, float, ['batch', 17]);
  return g;
}

test('model.onnx decodes back; every weight is external, 64-byte aligned, with its bytes in model.onnx_data', async () => {
  for (const float of ['float32', 'float16'] as const) {
    const values = [0, 1, 2].map((i) => randomValues(17, 100 + i));
    const g = sumGraph(
      float,
      values.map((v) => arrayWeight([17], v)),
    );
    await withDir(async (dir) => {
      const progress: number[] = [];
      const { bytes } = await writeModel(g, dir, { onWeight: (done) => progress.push(done) });
      const model = onnx.ModelProto.decode(await readFile(join(dir, 'model.onnx')));
      const data = await readFile(join(dir, 'model.onnx_data'));
      assert.equal(Number(model.irVersion), 8);
      assert.deepEqual(
        model.opsetImport.map((o) => [o.domain, Number(o.version)]),
        [['', 17]],
      );
      const graph = model.graph as InstanceType<typeof onnx.GraphProto>; // decoded messages are class instances
      const inputDims = graph.input[0].type?.tensorType?.shape?.dim ?? [];
      assert.deepEqual(
        inputDims.map((d) => d.dimParam || Number(d.dimValue)),
        ['batch', 17],
      );
      assert.deepEqual(
        graph.node.map((n) => n.name),
        ['add0', 'add1', 'add2', 'output/y'],
      );
      const size = float === 'float16' ? 2 : 4;
      assert.equal(graph.initializer.length, 3);
      (graph.initializer as InstanceType<typeof onnx.TensorProto>[]).forEach((tensor, i) => {
        assert.equal(tensor.name, `block.${i}.weight`);
        assert.equal(tensor.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL);
        assert.equal(tensor.rawData.length, 0);
        const entry = Object.fromEntries(tensor.externalData.map((e) => [e.key, e.value]));
        assert.equal(entry.location, 'model.onnx_data');
        const offset = Number(entry.offset),
          length = Number(entry.length);
        assert.equal(offset % 64, 0, `offset ${offset}`);
        assert.equal(length, 17 * size);
        const stored = data.subarray(offset, offset + length);
        const decoded =
          float === 'float16'
            ? fromHalfBits(new Uint16Array(stored.buffer.slice(stored.byteOffset, stored.byteOffset + length)))
            : new Float32Array(stored.buffer.slice(stored.byteOffset, stored.byteOffset + length));
        assert.ok(relativeError(decoded, values[i]) <= (float === 'float16' ? 1e-3 : 0), `weight ${i}`);
      });
      assert.equal(progress.at(-1), data.length);
      assert.equal(g.weightBytes(), data.length);
      assert.equal(bytes, data.length + (await readFile(join(dir, 'model.onnx'))).length);
    });
    const x = randomValues(34, 5);
    const y = (await runGraph(g, { x: { data: x, dims: [2, 17] } })).y as Float32Array;
    const expected = x.map((v, i) => v + values[0][i % 17] + values[1][i % 17] + values[2][i % 17]);
    assert.ok(relativeError(y, expected) < (float === 'float16' ? 2e-3 : 1e-6), `${float} run`);
  }
});

test('weights are read one at a time, in order, each exactly once, and a wrong length is an ImportError', async () => {
  const reads: number[] = [];
  const refs = [0, 1, 2].map((i): WeightRef => ({
    shape: [17],
    read: () => {
      reads.push(i);
      return randomValues(17, i);
    },
  }));
  await withDir((dir) => writeModel(sumGraph('float32', refs), dir));
  assert.deepEqual(reads, [0, 1, 2]);
  const short: WeightRef = { shape: [17], read: () => new Float32Array(16) };
  await withDir(async (dir) => {
    await assert.rejects(
      writeModel(sumGraph('float32', [short]), dir),
      (e: unknown) => e instanceof ImportError && /block\.0\.weight/.test(e.message),
    );
  });
});

test("a float16 graph copies a weight's stored float16 bit patterns as they are; a float32 graph reads the values", async () => {
  const bits = Uint16Array.from({ length: 17 }, (_, i) => 0x3c00 + i * 37); // 1.0 and up, exact in both types
  let floatReads = 0;
  const ref: WeightRef = {
    shape: [17],
    read: () => (floatReads++, fromHalfBits(bits)),
    readHalves: () => bits,
  };
  await withDir(async (dir) => {
    await writeModel(sumGraph('float16', [ref]), dir);
    assert.equal(floatReads, 0);
    const data = await readFile(join(dir, 'model.onnx_data'));
    assert.deepEqual(new Uint16Array(data.buffer, data.byteOffset, 17), bits);
    await writeModel(sumGraph('float32', [ref]), dir);
    assert.equal(floatReads, 1);
  });
  // Reshaped, the same bit patterns; transposed, the bit patterns moved as the values are.
  assert.equal(reshapedRef(ref, [1, 17]).readHalves?.(), bits);
  const matrix: WeightRef = { shape: [2, 3], read: () => fromHalfBits(bits.subarray(0, 6)), readHalves: () => bits.subarray(0, 6) };
  const transposed = transposedWeight(matrix);
  assert.deepEqual(
    [...transposed.readHalves!()],
    [0, 3, 1, 4, 2, 5].map((i) => bits[i]),
  );
  assert.deepEqual([...fromHalfBits(transposed.readHalves!())], [...transposed.read()]);
  assert.equal(transposedWeight({ shape: [2, 3], read: matrix.read }).readHalves, undefined);
  // A source that gives too few values is refused, not rearranged.
  const cut = transposedWeight({ shape: [2, 3], read: () => new Float32Array(5), readHalves: () => bits.subarray(0, 5) });
  assert.throws(
    () => cut.read(),
    (e: unknown) => e instanceof ImportError && /shape \[2, 3\] gave 5 values/.test(e.message),
  );
  assert.throws(() => cut.readHalves!(), ImportError);
  const short: WeightRef = { shape: [17], read: () => new Float32Array(17), readHalves: () => new Uint16Array(16) };
  await withDir(async (dir) => {
    await assert.rejects(
      writeModel(sumGraph('float16', [short]), dir),
      (e: unknown) => e instanceof ImportError && /16 values/.test(e.message),
    );
  });
});

test('an abort between weights stops the write with the signal reason, and no model.onnx is written', async () => {
  const controller = new AbortController();
  const refs = [0, 1, 2].map((i) => arrayWeight([17], randomValues(17, i)));
  await withDir(async (dir) => {
    let written = 0;
    await assert.rejects(
      writeModel(sumGraph('float32', refs), dir, {
        signal: controller.signal,
        onWeight: () => {
          if (++written === 1) controller.abort(new Error('cancelled by the user'));
        },
      }),
      /cancelled by the user/,
    );
    assert.equal(written, 1);
    assert.equal(existsSync(join(dir, 'model.onnx')), false);
  });
});

test('a full disk surfaces as the write error (model.onnx_data on /dev/full)', { skip: !existsSync('/dev/full') }, async () => {
  await withDir(async (dir) => {
    await symlink('/dev/full', join(dir, 'model.onnx_data'));
    await assert.rejects(writeModel(sumGraph('float32', [arrayWeight([17], randomValues(17, 1))]), dir), /ENOSPC/);
    assert.equal(existsSync(join(dir, 'model.onnx')), false);
  });
});

test('names: unknown inputs and reused names are refused; repeated labels get suffixes; constants are shared', () => {
  const g = new Graph('names', 'float32');
  const x = g.input('x', 'float32', [2]);
  assert.throws(() => g.op('Relu', ['nope']), /unknown value nope/);
  assert.throws(() => g.input('x', 'float32', [2]), /already used/);
  const a = g.scope('down_blocks.0', () => g.scope('resnets.0', () => g.op('Relu', [x])));
  const b = g.scope('down_blocks.0', () => g.scope('resnets.0', () => g.op('Relu', [x])));
  assert.equal(a, 'down_blocks.0/resnets.0/Relu');
  assert.equal(b, 'down_blocks.0/resnets.0/Relu_1');
  const c = g.scope('down_blocks.0.resnets.0', () => g.scope('down_blocks.0.resnets.0.conv1', () => g.op('Relu', [x])));
  assert.equal(c, 'down_blocks.0.resnets.0/conv1/Relu');
  assert.equal(g.constant([0, -1], 'int64'), g.constant([0, -1], 'int64'));
  assert.notEqual(g.constant([0, -1], 'int64'), g.constant([0, -1], 'int32'));
  const ref = arrayWeight([2], Float32Array.of(1, 2));
  assert.equal(g.weight('w', ref), g.weight('w', ref));
  assert.equal(g.weight('w', arrayWeight([2], Float32Array.of(1, 2))), 'w_1');
  g.output('y', b, 'float32', [2]);
  assert.throws(() => g.output('y', a, 'float32', [2]), /already used/);
});

test('a float16 graph of every layer runs on CPU and stays close to the float32 graph', async () => {
  const c = 16;
  const w = weightMap(
    new Map(
      Object.entries({
        'fc.weight': randomWeight([c, c], 1, 0.3),
        'fc.bias': randomWeight([c], 2),
        'ln.weight': randomWeight([c], 3),
        'ln.bias': randomWeight([c], 4),
        'gn.weight': randomWeight([c], 5),
        'gn.bias': randomWeight([c], 6),
      }),
    ),
  );
  const build = (float: 'float32' | 'float16', mode: 'plain' | 'mha') => {
    const g = new Graph('all', float);
    const x = g.input('x', float, ['batch', 'tokens', c]);
    let h = layerNorm(g, w, linear(g, w, x, 'fc'), 'ln', 1e-5);
    h = attention(g, h, h, h, 2, { mode, causal: true });
    const image = g.op('Reshape', [g.op('Transpose', [h], { perm: [0, 2, 1] }), g.constant([0, c, 2, -1], 'int64')]);
    g.output('y', gelu(g, groupNorm(g, w, image, 'gn', { groups: 4, eps: 1e-6 })), float, ['batch', c, 2, 'half_tokens']);
    return g;
  };
  const x = randomValues(2 * 6 * c, 7);
  for (const mode of ['plain', 'mha'] as const) {
    const reference = (await runGraph(build('float32', mode), { x: { data: x, dims: [2, 6, c] } })).y as Float32Array;
    const half = (await runGraph(build('float16', mode), { x: { data: x, dims: [2, 6, c] } })).y as Float32Array;
    assert.ok(relativeError(half, reference) < 1e-2, `${mode}: ${relativeError(half, reference)}`);
  }
});
