// A tiny .safetensors writer for tests: well-formed files from float32 values (stored as F32, F16 or
// BF16), and the pieces to make broken ones (a raw header, raw tensor bytes, a cut-off file).
import { writeFileSync } from 'node:fs';
import { toHalfBits } from '../../src-core/model/half.ts';

export interface TestTensor {
  dtype?: 'F32' | 'F16' | 'BF16' | 'I64' | 'F64';
  shape: number[];
  /** float32 values (converted to dtype), or the stored bytes as they are. */
  values?: Float32Array | number[];
  bytes?: Uint8Array;
}

/** The stored bytes of float32 values in a dtype (BF16: the top half of each float32, truncated). */
export function encodeValues(dtype: NonNullable<TestTensor['dtype']>, values: Float32Array): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  if (dtype === 'F16') return new Uint8Array(toHalfBits(values).buffer);
  if (dtype === 'F64') return new Uint8Array(Float64Array.from(values).buffer);
  if (dtype === 'I64') return new Uint8Array(BigInt64Array.from(values, (v) => BigInt(Math.round(v))).buffer);
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  return new Uint8Array(Uint16Array.from(words, (w) => w >>> 16).buffer);
}

/** The whole file's bytes: length, JSON header (space-padded to 8 bytes, as the format's writers do), data. */
export function safetensorsBytes(tensors: Record<string, TestTensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    const dtype = tensor.dtype ?? 'F32';
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    const bytes = tensor.bytes ?? encodeValues(dtype, Float32Array.from(tensor.values ?? new Float32Array(count)));
    header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  return rawSafetensors(JSON.stringify(header), parts);
}

/** A file from a header text as given (may be broken on purpose) and data bytes. */
export function rawSafetensors(headerText: string, data: Uint8Array[] = []): Uint8Array {
  let text = headerText;
  while ((Buffer.byteLength(text) + 8) % 8 !== 0) text += ' ';
  const header = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([length, header, ...data]);
}

export function writeSafetensors(path: string, tensors: Record<string, TestTensor>, metadata?: Record<string, string>): string {
  writeFileSync(path, safetensorsBytes(tensors, metadata));
  return path;
}
