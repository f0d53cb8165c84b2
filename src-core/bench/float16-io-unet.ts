// For the benchmark: a copy of a model folder whose UNet takes and returns float16 (sample, encoder_hidden_states,
// out_sample), with Casts to and from the float32 graph inside. That is how an fp16 export (SD 1.5 on a GPU) meets the
// engine, which then hands it the latent as half bit patterns and reads its output so at every step; the embedded model
// is float32, and an fp16 graph proper would be slow on a CPU. The weights and the arithmetic stay float32.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT,
  FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
const HALF_IO = ['sample', 'encoder_hidden_states', 'out_sample'];

/** Writes the copy into a fresh folder under the system's temporary one and returns its path (the caller removes it). */
export function float16IoCopy(modelDir: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'restart-fp16-io-')), basename(modelDir)); // the model's name in results
  cpSync(modelDir, dir, { recursive: true });
  const path = join(dir, 'unet', 'model.onnx');
  writeFileSync(path, float16Io(readFileSync(path)));
  return dir;
}

/** An ONNX UNet's bytes with its float32 sample, encoder_hidden_states and out_sample turned float16 at the edges. */
export function float16Io(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  if (!model.graph) throw new Error('the UNet file holds no graph');
  const graph = model.graph as InstanceType<typeof onnx.GraphProto>;
  const inside = (name: string) => `${name}_float32`;
  for (const node of graph.node) {
    node.input = (node.input ?? []).map((name) => (HALF_IO.includes(name) ? inside(name) : name));
    node.output = (node.output ?? []).map((name) => (HALF_IO.includes(name) ? inside(name) : name));
  }
  const cast = (from: string, to: string, type: number) =>
    onnx.NodeProto.create({
      opType: 'Cast',
      name: `cast_${to}`,
      input: [from],
      output: [to],
      attribute: [onnx.AttributeProto.create({ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: type })],
    });
  for (const value of [...graph.input, ...graph.output]) {
    if (!HALF_IO.includes(value.name ?? '')) continue;
    const tensorType = value.type?.tensorType;
    if (tensorType?.elemType !== FLOAT) throw new Error(`unet ${value.name} is not float32`);
    tensorType.elemType = FLOAT16;
  }
  const inputs = graph.input.filter((v) => HALF_IO.includes(v.name ?? '')).map((v) => cast(v.name!, inside(v.name!), FLOAT));
  const outputs = graph.output.filter((v) => HALF_IO.includes(v.name ?? '')).map((v) => cast(inside(v.name!), v.name!, FLOAT16));
  graph.node = [...inputs, ...graph.node, ...outputs];
  return onnx.ModelProto.encode(model).finish();
}
