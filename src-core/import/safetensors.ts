// Reads .safetensors files (8-byte little-endian header length, a JSON header, then raw tensor bytes)
// without reading the whole file: the header is checked strictly when the file is opened, and each
// tensor is read with positioned reads only when asked for, converted to float32.
import { closeSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { fromHalfBits } from '../model/half.ts';
import { NotRegularFileError, openRegularFile } from '../regular-file.ts';
import { ImportError, elementCount, type Scratch, type WeightRef, type WeightSource } from './weights.ts';
import { repeatedKeys } from './safetensors-repeats.ts';
import { firstLiteralIssue } from './safetensors-literals.ts';
import { DTYPE_BITS, FLOAT_DTYPES, isSafetensorsDtype, tensorBytes, unreadableDtype } from './safetensors-dtypes.ts';

/** Real headers are a few hundred KB; a bigger length means a corrupt file or not a safetensors file at all. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export { FLOAT_DTYPES };

export interface TensorInfo {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Absolute byte range in the file. */
  readonly begin: number;
  readonly end: number;
}

/** What precedes a file's data: the header's length (u64 little-endian), then its JSON padded with spaces to 8 bytes. */
export function safetensorsHeader(header: Record<string, unknown>): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const padded = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(padded.length));
  return Buffer.concat([length, padded]);
}

/** A WeightRef that knows the file tensor behind it (derived refs keep the dtype so it can be checked early). */
export interface TensorRef extends WeightRef {
  readonly dtype?: string;
}

/** A view of a stored tensor (reshaped, transposed, one third of it) that keeps its dtype for that check. */
export function viewOf(stored: TensorRef, view: WeightRef): TensorRef {
  return stored.dtype === undefined ? view : { ...view, dtype: stored.dtype };
}

/** Values converted per read call: bounds the scratch buffer of fp16/bf16/f64 tensors to a few MB. */
const CHUNK_VALUES = 1 << 20;
/** readSync cannot read more than 2 GB at once. */
const MAX_READ = 1 << 30;

function fail(path: string, what: string): ImportError {
  return new ImportError(`${basename(path)}: ${what}`);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Why an entry is not what the reference's TensorInfo takes (dtype, shape, data_offsets), or undefined. */
function tensorInfoIssue(entry: unknown): string | undefined {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return 'it is not an object';
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (!isSafetensorsDtype(dtype)) return `its dtype ${JSON.stringify(dtype)} is unknown`;
  if (!Array.isArray(shape) || !shape.every(isCount)) return `its shape is ${JSON.stringify(shape)}`;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) return `its data_offsets are ${JSON.stringify(offsets)}`;
  return undefined;
}

function parseHeader(
  path: string,
  text: string,
  dataStart: number,
  fileSize: number,
): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  if (!text.startsWith('{')) throw fail(path, 'corrupt safetensors header (it does not start with "{"); not a safetensors file?');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw fail(path, `corrupt safetensors header: not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw fail(path, 'corrupt safetensors header: not a JSON object');
  const { refused, repeated } = repeatedKeys(text, Object.keys(parsed).length);
  if (refused !== undefined) throw fail(path, `corrupt safetensors header: ${refused}`);
  for (const [name, ranges] of repeated) {
    for (const [at, end] of ranges.slice(0, -1)) {
      const issue = tensorInfoIssue(JSON.parse(text.slice(at, end)));
      if (issue !== undefined)
        throw fail(path, `corrupt safetensors header: tensor ${name} is listed ${ranges.length} times, and ${issue} in one`);
    }
  }
  const literal = firstLiteralIssue(text);
  if (literal !== undefined)
    throw fail(path, `corrupt safetensors header: tensor ${literal.tensor} has ${literal.field} ${literal.written}: ${literal.problem}`);
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  const dataBytes = fileSize - dataStart;
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (
        entry === null ||
        typeof entry !== 'object' ||
        Array.isArray(entry) ||
        !Object.values(entry).every((v) => typeof v === 'string')
      ) {
        throw fail(path, 'corrupt safetensors header: __metadata__ must map names to strings');
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw fail(path, `corrupt safetensors header: entry of tensor ${name} is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isSafetensorsDtype(dtype)) throw fail(path, `tensor ${name} has unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every(isCount))
      throw fail(path, `corrupt safetensors header: tensor ${name} has shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      throw fail(path, `corrupt safetensors header: tensor ${name} has data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const size = tensorBytes(elementCount(shape), dtype);
    if ('problem' in size)
      throw fail(path, `corrupt safetensors header: tensor ${name} (${dtype} [${shape.join(', ')}]) cannot be stored: ${size.problem}`);
    const expected = size.bytes;
    if (end - begin !== expected) {
      throw fail(
        path,
        `corrupt safetensors header: tensor ${name} (${dtype} [${shape.join(', ')}]) ` +
          `needs ${expected} bytes but data_offsets span ${end - begin}`,
      );
    }
    if (end > dataBytes) {
      throw fail(path, `truncated file: tensor ${name} ends at byte ${dataStart + end} but the file has ${fileSize} bytes`);
    }
    tensors.set(name, { name, dtype, shape: [...shape], begin: dataStart + begin, end: dataStart + end });
  }
  const ordered = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i].begin < ordered[i - 1].end)
      throw fail(path, `corrupt safetensors header: tensors ${ordered[i - 1].name} and ${ordered[i].name} overlap`);
  }
  // As the reference's validate(): sorted by offsets, each tensor (empty ones too) starts where the one before ends,
  // from 0, and the last ends where the file does.
  const all = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = dataStart;
  const untiled = (what: string) => {
    const names = [...repeated.keys()];
    if (names.length === 0) return fail(path, `corrupt safetensors header: ${what} (the safetensors library refuses such a file)`);
    const listed =
      names.length === 1
        ? `tensor ${names[0]} is listed ${repeated.get(names[0])!.length} times`
        : `tensors ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''} are listed more than once`;
    return fail(
      path,
      `corrupt safetensors header: ${listed}; only the last entry of a name counts, as in the safetensors library, ` +
        `which then refuses the file, as here: ${what}`,
    );
  };
  let previous: TensorInfo | undefined;
  for (const t of all) {
    if (t.begin > covered)
      throw untiled(`data bytes ${covered - dataStart} to ${t.begin - dataStart} belong to no tensor (tensor ${t.name} starts after them)`);
    if (t.begin < covered) throw untiled(`tensor ${t.name} (empty) is placed inside tensor ${previous!.name}'s data`);
    covered = t.end;
    previous = t;
  }
  if (covered !== fileSize) throw untiled(`the file's last ${fileSize - covered} bytes belong to no tensor`);
  return { tensors, metadata };
}

function readExactly(fd: number, target: Uint8Array, position: number, path: string, name: string): void {
  let done = 0;
  while (done < target.length) {
    const count = readSync(fd, target, done, Math.min(target.length - done, MAX_READ), position + done);
    if (count === 0) throw fail(path, `the file ended while reading tensor ${name} (truncated after it was opened?)`);
    done += count;
  }
}

/** An open .safetensors file: its validated header, and tensors read on demand. */
export class SafetensorsFile {
  readonly path: string;
  readonly size: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  private fd: number | undefined;

  private constructor(path: string, fd: number, size: number, tensors: Map<string, TensorInfo>, metadata: Record<string, string>) {
    this.path = path;
    this.fd = fd;
    this.size = size;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Opens and validates the file; throws ImportError naming the file and what is wrong with it. */
  static open(path: string): SafetensorsFile {
    let fd: number, size: number;
    try {
      // A folder: often a diffusers VAE folder given for its file.
      const as = (e: NotRegularFileError) => new ImportError(`${e.message}; give ${e.isFolder ? 'its' : 'a'} .safetensors file`);
      const opened = openRegularFile(path, { label: basename(path), as });
      fd = opened.fd;
      size = opened.stat.size;
    } catch (error) {
      if (error instanceof ImportError) throw error;
      throw fail(path, `cannot open (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    try {
      if (size < 8) throw fail(path, `truncated file: ${size} bytes, too short for a safetensors header`);
      const lengthBytes = Buffer.alloc(8);
      readExactly(fd, lengthBytes, 0, path, '(header length)');
      const length = lengthBytes.readBigUInt64LE(0);
      if (length > BigInt(MAX_HEADER_BYTES))
        throw fail(
          path,
          `corrupt safetensors header: its length field says ${length} bytes (at most ${MAX_HEADER_BYTES}); not a safetensors file?`,
        );
      const headerBytes = Number(length);
      if (8 + headerBytes > size)
        throw fail(path, `truncated file: the header needs ${headerBytes} bytes but only ${size - 8} follow the length field`);
      const header = Buffer.alloc(headerBytes);
      readExactly(fd, header, 8, path, '(header)');
      const { tensors, metadata } = parseHeader(path, header.toString('utf8'), 8 + headerBytes, size);
      return new SafetensorsFile(path, fd, size, tensors, metadata);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  get name(): string {
    return basename(this.path);
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new ImportError(`missing tensor ${name} in ${this.name}`);
    return info;
  }

  /** The tensor's values as float32 (F16, BF16 and F64 converted); other dtypes are an ImportError naming it. */
  read(name: string, scratch?: Scratch): Float32Array {
    const info = this.info(name);
    const fd = this.openFd(name);
    if (!FLOAT_DTYPES.has(info.dtype)) throw fail(this.path, `tensor ${name} has ${unreadableDtype(info.dtype)}`);
    const count = elementCount(info.shape);
    const out = scratch?.floats(count) ?? new Float32Array(count);
    if (info.dtype === 'F32') {
      readExactly(fd, new Uint8Array(out.buffer, out.byteOffset, out.byteLength), info.begin, this.path, name);
      return out;
    }
    const itemSize = DTYPE_BITS[info.dtype] / 8; // 2 or 8: the float dtypes are whole bytes
    const chunk = scratch?.bytes(Math.min(count, CHUNK_VALUES) * itemSize) ?? new Uint8Array(Math.min(count, CHUNK_VALUES) * itemSize);
    for (let first = 0; first < count; first += CHUNK_VALUES) {
      const n = Math.min(CHUNK_VALUES, count - first);
      const bytes = chunk.subarray(0, n * itemSize);
      readExactly(fd, bytes, info.begin + first * itemSize, this.path, name);
      convertChunk(info.dtype, bytes, out.subarray(first, first + n));
    }
    return out;
  }

  /** The file's descriptor for a read of tensor `name`: refused once the file is closed. */
  private openFd(name: string): number {
    if (this.fd === undefined) throw fail(this.path, `read of tensor ${name} after the file was closed`);
    return this.fd;
  }

  /** A float16 tensor's bit patterns as the file stores them. */
  readHalves(name: string, scratch?: Scratch): Uint16Array {
    const info = this.info(name);
    const fd = this.openFd(name);
    if (info.dtype !== 'F16') throw fail(this.path, `tensor ${name} has dtype ${info.dtype}, not F16`);
    const count = elementCount(info.shape);
    const out = scratch?.halves(count) ?? new Uint16Array(count);
    readExactly(fd, new Uint8Array(out.buffer, out.byteOffset, out.byteLength), info.begin, this.path, name);
    return out;
  }

  /** A lazy reference to one tensor (with its bit patterns where it is F16). */
  weight(name: string): TensorRef {
    const info = this.info(name);
    const ref: TensorRef = { shape: info.shape, dtype: info.dtype, read: (scratch) => this.read(name, scratch) };
    return info.dtype === 'F16' ? { ...ref, readHalves: (scratch) => this.readHalves(name, scratch) } : ref;
  }

  /** Every tensor under its name in the file. */
  source(): WeightSource {
    return {
      has: (name) => this.tensors.has(name),
      get: (name) => this.weight(name),
      names: () => this.names(),
    };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Little-endian bytes of one dtype -> float32 (safetensors data is little-endian, as are the hosts Node runs on). */
function convertChunk(dtype: string, bytes: Uint8Array, out: Float32Array<ArrayBuffer>): void {
  if (dtype === 'F16') {
    fromHalfBits(new Uint16Array(bytes.buffer, bytes.byteOffset, out.length), out);
  } else if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32: shift the bits into place.
    const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, out.length);
    const words = new Uint32Array(out.buffer, out.byteOffset, out.length);
    for (let i = 0; i < halves.length; i++) words[i] = halves[i] << 16;
  } else {
    out.set(new Float64Array(bytes.buffer, bytes.byteOffset, out.length));
  }
}

/** Fails early (before any graph is written) when a weight the model needs has a dtype read() cannot convert. */
export function requireFloatWeights(weights: WeightSource, component: string): void {
  for (const name of weights.names()) {
    const dtype = (weights.get(name) as TensorRef).dtype;
    if (dtype !== undefined && !FLOAT_DTYPES.has(dtype)) {
      throw new ImportError(`tensor ${name} of the ${component} has ${unreadableDtype(dtype)}`);
    }
  }
}

/** Opens a safetensors file (see SafetensorsFile.open). */
export function openSafetensors(path: string): SafetensorsFile {
  return SafetensorsFile.open(path);
}
