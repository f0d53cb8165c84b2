// A1111 .pt embeddings without running any of their code. torch.save writes a zip: <name>/data.pkl (a pickle of
// the saved object, whose tensors point at storages by key) and <name>/data/<key> (raw little-endian values).
// The pickle is read by restricted-pickle.ts, a small stack machine for the opcodes torch writes that builds plain
// values (a global is only a name, a call only a record); nothing in the file can make this code run anything.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { halfToFloat } from '../model/half.ts';
import { asVectors, EmbeddingFileError, type Embedding } from './embedding-file.ts';
import { unpickle, type Call, type Global, type Storage, type TensorValue } from './restricted-pickle.ts';

const MAX_FILE = 64 * 1024 * 1024;

const STORAGE_DTYPES: Record<string, string> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
};

/** The zip's entries by name (stored or deflated; zip64 is not needed for embeddings and is refused). */
function zipEntries(bytes: Buffer, name: string): Map<string, Buffer> {
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (bytes.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0)
    throw new EmbeddingFileError(
      `${name}: not a zip file (an old-style torch file from before torch 1.6?); save it again or convert it to .safetensors`,
    );
  const count = bytes.readUInt16LE(end + 10);
  let at = bytes.readUInt32LE(end + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || bytes.readUInt32LE(at) !== 0x02014b50) throw new EmbeddingFileError(`${name}: corrupt zip directory`);
    const method = bytes.readUInt16LE(at + 10),
      size = bytes.readUInt32LE(at + 20),
      stored = bytes.readUInt32LE(at + 24);
    const nameLength = bytes.readUInt16LE(at + 28),
      extra = bytes.readUInt16LE(at + 30),
      comment = bytes.readUInt16LE(at + 32);
    const local = bytes.readUInt32LE(at + 42);
    const entryName = bytes.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extra + comment;
    if (size === 0xffffffff || local === 0xffffffff)
      throw new EmbeddingFileError(`${name}: zip64 entries are not read (an embedding is small)`);
    if (local + 30 > bytes.length || bytes.readUInt32LE(local) !== 0x04034b50)
      throw new EmbeddingFileError(`${name}: corrupt zip entry ${entryName}`);
    const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    if (start + size > bytes.length) throw new EmbeddingFileError(`${name}: truncated file (entry ${entryName})`);
    const data = bytes.subarray(start, start + size);
    if (method === 0) entries.set(entryName, data);
    else if (method === 8) entries.set(entryName, inflateRawSync(data, { maxOutputLength: MAX_FILE }));
    else throw new EmbeddingFileError(`${name}: zip entry ${entryName} uses compression method ${method}`);
    if (method === 0 && stored !== size) throw new EmbeddingFileError(`${name}: corrupt zip entry ${entryName}`);
  }
  return entries;
}

function tensorValues(t: TensorValue, entries: Map<string, Buffer>, prefix: string, name: string): Float32Array {
  const count = t.size.reduce((a, b) => a * b, 1);
  let expected = 1;
  for (let d = t.size.length - 1; d >= 0; d--) {
    if (t.size[d] !== 1 && t.stride[d] !== expected) throw new EmbeddingFileError(`${name}: the embedding tensor is not contiguous`);
    expected *= t.size[d];
  }
  const bytes = entries.get(`${prefix}data/${t.storage.storage}`);
  if (!bytes) throw new EmbeddingFileError(`${name}: storage ${t.storage.storage} is missing from the file`);
  const itemSize = t.storage.dtype === 'float64' ? 8 : t.storage.dtype === 'float32' ? 4 : 2;
  if ((t.offset + count) * itemSize > bytes.length) throw new EmbeddingFileError(`${name}: the tensor reaches past its storage`);
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + t.offset * itemSize, count * itemSize);
  for (let k = 0; k < count; k++) {
    if (t.storage.dtype === 'float32') out[k] = view.getFloat32(4 * k, true);
    else if (t.storage.dtype === 'float64') out[k] = view.getFloat64(8 * k, true);
    else if (t.storage.dtype === 'bfloat16') out[k] = new Float32Array(Uint32Array.of(view.getUint16(2 * k, true) << 16).buffer)[0];
    else out[k] = halfToFloat(view.getUint16(2 * k, true));
  }
  return out;
}

const isTensor = (v: unknown): v is TensorValue => typeof v === 'object' && v !== null && (v as TensorValue).tensor === true;

/** The one tensor of a string_to_param value: a dict, or a ParameterDict (its _parameters). */
function onlyTensor(value: unknown): TensorValue | undefined {
  let dict = value;
  if (dict && typeof dict === 'object' && 'call' in dict)
    dict = (dict as Call).state instanceof Map ? ((dict as Call).state as Map<unknown, unknown>).get('_parameters') : undefined;
  if (!(dict instanceof Map)) return undefined;
  const tensors = [...dict.values()].filter(isTensor);
  return tensors.length === 1 ? tensors[0] : undefined;
}

/** An A1111 .pt embedding's vectors (string_to_param, emb_params, one tensor, or SDXL's clip_l / clip_g). */
export function readTorchEmbedding(path: string): Embedding['parts'] {
  const name = basename(path);
  const bytes = readFileSync(path);
  if (bytes.length > MAX_FILE) throw new EmbeddingFileError(`${name}: ${bytes.length} bytes is too large for an embedding`);
  const entries = zipEntries(bytes, name);
  const pickle = [...entries.keys()].find((k) => k.endsWith('data.pkl'));
  if (!pickle) throw new EmbeddingFileError(`${name}: no data.pkl in the zip; not a torch file`);
  const prefix = pickle.slice(0, -'data.pkl'.length);
  const data = unpickle(entries.get(pickle)!, name, (pid) => {
    const [kind, type, key] = Array.isArray(pid) ? pid : [];
    const dtype = STORAGE_DTYPES[String((type as Global)?.global ?? '').replace(/^torch\./, '')];
    if (kind !== 'storage' || dtype === undefined)
      throw new EmbeddingFileError(
        `${name}: a storage of type ${(type as Global)?.global ?? '?'} (float32, float16, bfloat16 and float64 are read)`,
      );
    return { storage: String(key), dtype } satisfies Storage;
  });
  if (!(data instanceof Map)) throw new EmbeddingFileError(`${name}: not an embedding (the file holds no dict)`);
  const vectors = (t: TensorValue, what: string) => asVectors(tensorValues(t, entries, prefix, name), t.size, `${name} ${what}`);
  if (isTensor(data.get('clip_l')) && isTensor(data.get('clip_g'))) {
    return { clip_l: vectors(data.get('clip_l') as TensorValue, 'clip_l'), clip_g: vectors(data.get('clip_g') as TensorValue, 'clip_g') };
  }
  const single = data.has('string_to_param')
    ? onlyTensor(data.get('string_to_param'))
    : isTensor(data.get('emb_params'))
      ? (data.get('emb_params') as TensorValue)
      : [...data.values()].filter(isTensor).length === 1
        ? [...data.values()].find(isTensor)
        : undefined;
  if (!single) throw new EmbeddingFileError(`${name}: not an embedding (no string_to_param with one tensor, emb_params, or single tensor)`);
  return { default: vectors(single, 'string_to_param') };
}
