// About what a component's session holds: its folder's files. A data file linked from another component's folder
// (the importer's unet_cuda/ shares unet/'s, model/unet-folder.ts) counts only for the weights this graph reads from it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { externalDataOf } from '../onnx/write-model.ts';

const { onnx } = onnxProto;

export function componentBytes(folder: string): number {
  let bytes = 0;
  const linked = new Set<string>();
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const stat = statSync(join(folder, entry.name));
    if (stat.nlink > 1 && entry.name !== 'model.onnx') linked.add(entry.name);
    else bytes += stat.size;
  }
  if (linked.size === 0) return bytes;
  const model = onnx.ModelProto.decode(readFileSync(join(folder, 'model.onnx')));
  for (const t of model.graph?.initializer ?? []) {
    const external = externalDataOf(t);
    if (external?.location && linked.has(external.location)) bytes += external.length ?? 0;
  }
  return bytes;
}
