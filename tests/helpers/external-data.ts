// Reading an ONNX model's external weights as the files hold them: where each initializer lies (location, offset,
// length) and its bytes, for tests that compare the importer's folders byte for byte.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { externalDataOf, type WrittenWeight } from '../../src-core/onnx/write-model.ts';

const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;

export interface ExternalWeight extends WrittenWeight {
  location: string;
}

export function readModel(path: string): ModelProto {
  return onnx.ModelProto.decode(readFileSync(path));
}

/** The model's external initializers by name. */
export function externalWeights(model: ModelProto): Map<string, ExternalWeight> {
  const weights = new Map<string, ExternalWeight>();
  for (const t of model.graph?.initializer ?? []) {
    const external = externalDataOf(t);
    if (!external?.location) continue;
    weights.set(t.name!, {
      location: external.location,
      dims: (t.dims ?? []).map(Number),
      dataType: t.dataType ?? 0,
      offset: external.offset,
      length: Number(external.length),
    });
  }
  return weights;
}

/** One external weight's bytes, read from its file in `dir`. */
export function weightBytes(dir: string, weight: ExternalWeight): Buffer {
  const bytes = Buffer.alloc(weight.length);
  const fd = openSync(join(dir, weight.location), 'r');
  try {
    readSync(fd, bytes, 0, weight.length, weight.offset);
  } finally {
    closeSync(fd);
  }
  return bytes;
}
