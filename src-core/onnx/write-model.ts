// Writing a Graph to disk: model.onnx, and every float weight as external data in model.onnx_data (64-byte
// aligned), streamed one weight at a time so that a UNet's gigabytes never sit in memory together.
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { endianness } from 'node:os';
import onnxProto from 'onnx-proto';
import { toHalfBits } from '../model/half.ts';
import { elementCount, ImportError, Scratch, type WeightRef } from '../import/weights.ts';
import { align, TYPE_CODE, weightEnd, type Graph } from './graph.ts';

const { onnx } = onnxProto;

export const DATA_FILE = 'model.onnx_data';
/** Where a weight written by writeModel lies in its data file. */
export interface WrittenWeight {
  dims: readonly number[];
  dataType: number;
  offset: number;
  length: number;
}

/**
 * Weights another model wrote, for writeModel to refer to instead of writing them again: `location` names their data
 * file in the new model's folder (a hard link to the other's), `weights` is what that model's writeModel returned.
 */
export interface SharedWeights {
  location: string;
  weights: ReadonlyMap<string, WrittenWeight>;
}

/**
 * Writes dir/model.onnx and dir/model.onnx_data (every weight external, 64-byte aligned), one weight in memory at a
 * time. A weight of `shared` with the same name, shape and type is referred to there, and not read or written; the
 * progress counts it as written.
 */
export async function writeModel(
  graph: Graph,
  dir: string,
  options: { onWeight?: (bytesDone: number) => void; signal?: AbortSignal; shared?: SharedWeights } = {},
): Promise<{ bytes: number; weights: Map<string, WrittenWeight>; sharedBytes: number }> {
  if (endianness() !== 'LE') throw new Error('writing ONNX weights needs a little-endian machine');
  await mkdir(dir, { recursive: true });
  const records: InstanceType<typeof onnx.TensorProto>[] = [];
  const weights = new Map<string, WrittenWeight>();
  const file = await open(join(dir, DATA_FILE), 'w');
  let offset = 0,
    progress = 0,
    sharedBytes = 0;
  const scratch = new Scratch();
  const record = (name: string, weight: WrittenWeight, location: string) =>
    onnx.TensorProto.create({
      name,
      dims: [...weight.dims],
      dataType: weight.dataType,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: location },
        { key: 'offset', value: String(weight.offset) },
        { key: 'length', value: String(weight.length) },
      ],
    });
  try {
    for (const { name, ref, float } of graph.weights) {
      options.signal?.throwIfAborted();
      // Counted as weightBytes() counts, so that the progress ends at the graph's total.
      progress = weightEnd(progress, { ref, float });
      const other = options.shared?.weights.get(name);
      if (other && other.dataType === TYPE_CODE[float] && other.dims.join() === ref.shape.join()) {
        records.push(record(name, other, options.shared!.location));
        sharedBytes += other.length;
        options.onWeight?.(progress);
        continue;
      }
      scratch.reset();
      const bytes = weightBytes(name, ref, float, scratch);
      offset = align(offset);
      await writeAll(file, bytes, offset);
      const written = { dims: [...ref.shape], dataType: TYPE_CODE[float], offset, length: bytes.length };
      weights.set(name, written);
      records.push(record(name, written, DATA_FILE));
      offset += bytes.length;
      options.onWeight?.(progress);
    }
    await file.sync();
  } finally {
    await file.close();
  }
  options.signal?.throwIfAborted();
  const model = onnx.ModelProto.encode(graph.toModel(records)).finish();
  await writeFile(join(dir, 'model.onnx'), model);
  return { bytes: offset + model.length, weights, sharedBytes };
}

/**
 * Where an initializer stored outside the graph keeps its bytes (ONNX's external_data entries: the file, relative to
 * the graph's folder, the offset and the length); undefined for one stored in the graph.
 */
export function externalDataOf(
  t: onnxProto.onnx.ITensorProto,
): { location: string | undefined; offset: number; length: number | undefined } | undefined {
  if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return undefined;
  const entry = (key: string) => t.externalData?.find((e) => e.key === key)?.value ?? undefined;
  const length = entry('length');
  return {
    location: entry('location') || undefined,
    offset: Number(entry('offset') ?? 0),
    length: length === undefined ? undefined : Number(length),
  };
}

/** One weight's bytes in the graph's float type; the values are checked against the declared shape. */
function weightBytes(name: string, ref: WeightRef, float: 'float32' | 'float16', scratch: Scratch): Uint8Array {
  // A weight the file stores in float16 goes into a float16 graph as it is: through float32 it would be the same bits.
  const halves = float === 'float16' ? ref.readHalves?.(scratch) : undefined;
  const values = halves ?? ref.read(scratch);
  const expected = elementCount(ref.shape);
  if (values.length !== expected) throw new ImportError(`tensor ${name}: ${values.length} values for shape [${ref.shape.join(', ')}]`);
  const typed = halves ?? (float === 'float16' ? toHalfBits(values as Float32Array, scratch.halves(values.length)) : values);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

async function writeAll(file: Awaited<ReturnType<typeof open>>, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`could not write ${DATA_FILE} (no bytes written)`);
    done += bytesWritten;
  }
}
