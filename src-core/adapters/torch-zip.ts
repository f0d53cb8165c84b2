// A1111 .pt embeddings without running any of their code. torch.save writes a zip: <name>/data.pkl (a pickle of
// the saved object, whose tensors point at storages by key) and <name>/data/<key> (raw little-endian values).
// The pickle is read by a small stack machine that knows the opcodes torch writes and builds plain values: a
// global is only a name, a call only a record of what would have been called, except torch's tensor rebuild and
// OrderedDict, which are built here from their arguments. Nothing in the file can make this code run anything.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { asVectors, EmbeddingFileError, type Embedding } from './embedding-file.ts';

const MAX_FILE = 64 * 1024 * 1024;
const MAX_OPS = 1_000_000;

interface Global {
  global: string;
}
interface Call {
  call: string;
  args: unknown[];
  state?: unknown;
}
interface Storage {
  storage: string;
  dtype: string;
}
interface TensorValue {
  tensor: true;
  storage: Storage;
  offset: number;
  size: number[];
  stride: number[];
}

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

/** Runs the pickle opcodes torch writes (protocols 2 to 4) into plain values; see the file comment. */
function unpickle(data: Buffer, name: string, persistent: (pid: unknown) => unknown): unknown {
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let i = 0;
  const fail = (what: string): never => {
    throw new EmbeddingFileError(`${name}: ${what} in its pickle at byte ${i}`);
  };
  const need = (n: number) => {
    if (i + n > data.length) fail('unexpected end');
  };
  const pop = () => (stack.length > 0 ? stack.pop() : fail('stack underflow'));
  const popMark = () => {
    const mark = marks.pop() ?? fail('no mark');
    return stack.splice(mark);
  };
  const text = (n: number) => {
    need(n);
    const s = data.toString('utf8', i, i + n);
    i += n;
    return s;
  };
  const line = () => {
    const end = data.indexOf(10, i);
    if (end < 0) fail('unterminated line');
    const s = data.toString('latin1', i, end);
    i = end + 1;
    return s;
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) fail('SETITEMS on a value that is not a dict');
    for (let k = 0; k + 1 < items.length; k += 2) (target as Map<unknown, unknown>).set(items[k], items[k + 1]);
  };
  for (let ops = 0; ops < MAX_OPS; ops++) {
    need(1);
    const op = data[i++];
    switch (op) {
      case 0x80:
        need(1);
        i += 1;
        break; // PROTO
      case 0x95:
        need(8);
        i += 8;
        break; // FRAME
      case 0x2e:
        return pop(); // STOP
      case 0x28:
        marks.push(stack.length);
        break; // MARK
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x8f:
        stack.push(new Set());
        break; // EMPTY_SET
      case 0x64: {
        const items = popMark();
        const m = new Map();
        setItems(m, items);
        stack.push(m);
        break;
      } // DICT
      case 0x6c:
      case 0x74:
        stack.push(popMark());
        break; // LIST, TUPLE
      case 0x85:
        stack.push([pop()]);
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        stack.push([pop(), b]);
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop(),
          b = pop();
        stack.push([pop(), b, c]);
        break;
      } // TUPLE3
      case 0x58:
        need(4);
        stack.push(text(data.readUInt32LE((i += 4) - 4)));
        break; // BINUNICODE
      case 0x8c:
        need(1);
        stack.push(text(data[i++]));
        break; // SHORT_BINUNICODE
      case 0x8d: {
        need(8);
        const n = Number(data.readBigUInt64LE(i));
        i += 8;
        stack.push(text(n));
        break;
      } // BINUNICODE8
      case 0x54:
      case 0x42: {
        need(4);
        const n = data.readUInt32LE(i);
        i += 4;
        need(n);
        stack.push(data.subarray(i, i + n));
        i += n;
        break;
      } // BINSTRING, BINBYTES
      case 0x55:
      case 0x43: {
        need(1);
        const n = data[i++];
        need(n);
        stack.push(data.subarray(i, i + n));
        i += n;
        break;
      } // SHORT_BINSTRING, SHORT_BINBYTES
      case 0x4a:
        need(4);
        stack.push(data.readInt32LE(i));
        i += 4;
        break; // BININT
      case 0x4b:
        need(1);
        stack.push(data[i++]);
        break; // BININT1
      case 0x4d:
        need(2);
        stack.push(data.readUInt16LE(i));
        i += 2;
        break; // BININT2
      case 0x8a: {
        need(1);
        const n = data[i++];
        need(n);
        let v = 0n;
        for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(data[i + k]);
        if (n > 0 && data[i + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        i += n;
        stack.push(Number(v));
        break;
      } // LONG1
      case 0x47:
        need(8);
        stack.push(data.readDoubleBE(i));
        i += 8;
        break; // BINFLOAT
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x71:
        need(1);
        memo.set(data[i++], stack.at(-1));
        break; // BINPUT
      case 0x72:
        need(4);
        memo.set(data.readUInt32LE(i), stack.at(-1));
        i += 4;
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, stack.at(-1));
        break; // MEMOIZE
      case 0x68:
        need(1);
        stack.push(memo.has(data[i]) ? memo.get(data[i++]) : fail('unknown memo'));
        break; // BINGET
      case 0x6a:
        need(4);
        stack.push(memo.has(data.readUInt32LE(i)) ? memo.get(data.readUInt32LE((i += 4) - 4)) : fail('unknown memo'));
        break; // LONG_BINGET
      case 0x73: {
        const v = pop(),
          k = pop();
        setItems(stack.at(-1), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const items = popMark();
        setItems(stack.at(-1), items);
        break;
      } // SETITEMS
      case 0x61: {
        const v = pop();
        const list = stack.at(-1);
        if (!Array.isArray(list)) fail('APPEND to a non-list');
        (list as unknown[]).push(v);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        const list = stack.at(-1);
        if (!Array.isArray(list)) fail('APPENDS to a non-list');
        (list as unknown[]).push(...items);
        break;
      } // APPENDS
      case 0x90: {
        const items = popMark();
        const set = stack.at(-1);
        if (!(set instanceof Set)) fail('ADDITEMS to a non-set');
        for (const v of items) (set as Set<unknown>).add(v);
        break;
      } // ADDITEMS
      case 0x91:
        stack.push(new Set(popMark()));
        break; // FROZENSET
      case 0x63: {
        const module = line();
        stack.push({ global: `${module}.${line()}` } satisfies Global);
        break;
      } // GLOBAL
      case 0x93: {
        const n = pop(),
          m = pop();
        stack.push({ global: `${String(m)}.${String(n)}` } satisfies Global);
        break;
      } // STACK_GLOBAL
      case 0x52: {
        const args = pop(),
          callable = pop();
        stack.push(call(callable, args, fail));
        break;
      } // REDUCE
      case 0x81: {
        const args = pop(),
          cls = pop();
        stack.push({ call: (cls as Global).global ?? '?', args: Array.isArray(args) ? args : [] } satisfies Call);
        break;
      } // NEWOBJ
      case 0x62: {
        const state = pop();
        const target = stack.at(-1);
        if (target && typeof target === 'object' && 'call' in target) (target as Call).state = state;
        break;
      } // BUILD
      case 0x51:
        stack.push(persistent(pop()));
        break; // BINPERSID
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(stack.at(-1));
        break; // DUP
      default:
        fail(`opcode 0x${op.toString(16)} (not one torch.save writes)`);
    }
  }
  return fail('too many operations');
}

/** A call the file asks for: only torch's tensor rebuilds and OrderedDict are built; anything else is a record. */
function call(callable: unknown, args: unknown, fail: (what: string) => never): unknown {
  const name = (callable as Global)?.global;
  const list = Array.isArray(args) ? args : [];
  if (name === 'torch._utils._rebuild_tensor_v2' || name === 'torch._utils._rebuild_tensor') {
    const [storage, offset, size, stride] = list as [Storage, number, number[], number[]];
    if (!storage || typeof storage !== 'object' || !('storage' in storage)) fail('a tensor without its storage');
    return { tensor: true, storage, offset, size, stride } satisfies TensorValue;
  }
  if (name === 'torch._utils._rebuild_parameter' || name === 'torch._utils._rebuild_parameter_with_state') return list[0];
  if (name === 'collections.OrderedDict') return new Map();
  return { call: name ?? '?', args: list } satisfies Call;
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

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1,
    exponent = (h >>> 10) & 0x1f,
    mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
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
