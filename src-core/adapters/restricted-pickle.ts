// The pickle machine of torch-zip.ts: the opcodes torch.save writes (protocols 2 to 4), run into plain values. A global
// is only its name, a call only a record of what would have been called, except torch's tensor rebuilds and
// OrderedDict, which are built here from their arguments. Nothing in a file can make this code run anything.
import { EmbeddingFileError } from './embedding-file.ts';

const MAX_OPS = 1_000_000;

export interface Global {
  global: string;
}
export interface Call {
  call: string;
  args: unknown[];
  state?: unknown;
}
export interface Storage {
  storage: string;
  dtype: string;
}
export interface TensorValue {
  tensor: true;
  storage: Storage;
  offset: number;
  size: number[];
  stride: number[];
}

/** Runs the pickle opcodes torch writes (protocols 2 to 4) into plain values. */
export function unpickle(data: Buffer, name: string, persistent: (pid: unknown) => unknown): unknown {
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
  /** Reads the `width` bytes at the cursor with `read` and moves past them. */
  const take = <T>(width: number, read: (at: number) => T): T => {
    need(width);
    const value = read(i);
    i += width;
    return value;
  };
  const u8 = () => take(1, (at) => data[at]);
  const u16 = () => take(2, (at) => data.readUInt16LE(at));
  const u32 = () => take(4, (at) => data.readUInt32LE(at));
  const u64 = () => take(8, (at) => Number(data.readBigUInt64LE(at)));
  const bytes = (n: number) => take(n, (at) => data.subarray(at, at + n));
  const text = (n: number) => take(n, (at) => data.toString('utf8', at, at + n));
  const memoized = (key: number) => (memo.has(key) ? memo.get(key) : fail('unknown memo'));
  const line = () => {
    const end = data.indexOf(10, i);
    if (end < 0) fail('unterminated line');
    const s = data.toString('latin1', i, end);
    i = end + 1;
    return s;
  };
  const appendItems = (opcode: string, items: unknown[]) => {
    const list = stack.at(-1);
    if (!Array.isArray(list)) fail(`${opcode} to a non-list`);
    (list as unknown[]).push(...items);
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) fail('SETITEMS on a value that is not a dict');
    for (let k = 0; k + 1 < items.length; k += 2) (target as Map<unknown, unknown>).set(items[k], items[k + 1]);
  };
  // The opcodes that push one value, and the value each pushes (read from the bytes after it or popped).
  const pushes: Partial<Record<number, () => unknown>> = {
    0x4e: () => null, // NONE
    0x88: () => true, // NEWTRUE
    0x89: () => false, // NEWFALSE
    0x7d: () => new Map(), // EMPTY_DICT
    0x5d: () => [], // EMPTY_LIST
    0x29: () => [], // EMPTY_TUPLE
    0x8f: () => new Set(), // EMPTY_SET
    0x58: () => text(u32()), // BINUNICODE
    0x8c: () => text(u8()), // SHORT_BINUNICODE
    0x8d: () => text(u64()), // BINUNICODE8
    0x54: () => bytes(u32()), // BINSTRING
    0x42: () => bytes(u32()), // BINBYTES
    0x55: () => bytes(u8()), // SHORT_BINSTRING
    0x43: () => bytes(u8()), // SHORT_BINBYTES
    0x4a: () => take(4, (at) => data.readInt32LE(at)), // BININT
    0x4b: u8, // BININT1
    0x4d: u16, // BININT2
    0x8a: () => signedLittleEndian(bytes(u8())), // LONG1
    0x47: () => take(8, (at) => data.readDoubleBE(at)), // BINFLOAT
    0x68: () => take(1, (at) => memoized(data[at])), // BINGET
    0x6a: () => take(4, (at) => memoized(data.readUInt32LE(at))), // LONG_BINGET
    0x6c: popMark, // LIST
    0x74: popMark, // TUPLE
    0x85: () => [pop()], // TUPLE1
    0x86: () => {
      const b = pop();
      return [pop(), b];
    }, // TUPLE2
    0x87: () => {
      const c = pop(),
        b = pop();
      return [pop(), b, c];
    }, // TUPLE3
    0x64: () => {
      const m = new Map();
      setItems(m, popMark());
      return m;
    }, // DICT
    0x91: () => new Set(popMark()), // FROZENSET
    0x63: () => {
      const module = line();
      return { global: `${module}.${line()}` } satisfies Global;
    }, // GLOBAL
    0x93: () => {
      const n = pop(),
        m = pop();
      return { global: `${String(m)}.${String(n)}` } satisfies Global;
    }, // STACK_GLOBAL
    0x52: () => {
      const args = pop(),
        callable = pop();
      return call(callable, args, fail);
    }, // REDUCE
    0x81: () => {
      const args = pop(),
        cls = pop();
      return { call: (cls as Global).global ?? '?', args: Array.isArray(args) ? args : [] } satisfies Call;
    }, // NEWOBJ
    0x51: () => persistent(pop()), // BINPERSID
    0x32: () => stack.at(-1), // DUP
  };
  for (let ops = 0; ops < MAX_OPS; ops++) {
    need(1);
    const op = data[i++];
    const push = pushes[op];
    if (push) {
      stack.push(push());
      continue;
    }
    switch (op) {
      case 0x80:
        u8();
        break; // PROTO
      case 0x95:
        u64();
        break; // FRAME
      case 0x2e:
        return pop(); // STOP
      case 0x28:
        marks.push(stack.length);
        break; // MARK
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x71:
        memo.set(u8(), stack.at(-1));
        break; // BINPUT
      case 0x72:
        memo.set(u32(), stack.at(-1));
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, stack.at(-1));
        break; // MEMOIZE
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
      case 0x61:
        appendItems('APPEND', [pop()]);
        break; // APPEND
      case 0x65:
        appendItems('APPENDS', popMark());
        break; // APPENDS
      case 0x90: {
        const items = popMark();
        const set = stack.at(-1);
        if (!(set instanceof Set)) fail('ADDITEMS to a non-set');
        for (const v of items) (set as Set<unknown>).add(v);
        break;
      } // ADDITEMS
      case 0x62: {
        const state = pop();
        const target = stack.at(-1);
        if (target && typeof target === 'object' && 'call' in target) (target as Call).state = state;
        break;
      } // BUILD
      case 0x30:
        pop();
        break; // POP
      default:
        fail(`opcode 0x${op.toString(16)} (not one torch.save writes)`);
    }
  }
  return fail('too many operations');
}

/** LONG1's integer: two's complement, little-endian, in as many bytes as it has. */
function signedLittleEndian(b: Uint8Array): number {
  let v = 0n;
  for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]);
  if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return Number(v);
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
