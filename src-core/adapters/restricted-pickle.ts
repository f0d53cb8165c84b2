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
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) fail('SETITEMS on a value that is not a dict');
    for (let k = 0; k + 1 < items.length; k += 2) (target as Map<unknown, unknown>).set(items[k], items[k + 1]);
  };
  for (let ops = 0; ops < MAX_OPS; ops++) {
    need(1);
    const op = data[i++];
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
        stack.push(text(u32()));
        break; // BINUNICODE
      case 0x8c:
        stack.push(text(u8()));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(text(u64()));
        break; // BINUNICODE8
      case 0x54:
      case 0x42:
        stack.push(bytes(u32()));
        break; // BINSTRING, BINBYTES
      case 0x55:
      case 0x43:
        stack.push(bytes(u8()));
        break; // SHORT_BINSTRING, SHORT_BINBYTES
      case 0x4a:
        stack.push(take(4, (at) => data.readInt32LE(at)));
        break; // BININT
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x8a: {
        // Two's complement, little-endian, in as many bytes as the first one says.
        const b = bytes(u8());
        let v = 0n;
        for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]);
        if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
        stack.push(Number(v));
        break;
      } // LONG1
      case 0x47:
        stack.push(take(8, (at) => data.readDoubleBE(at)));
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
        memo.set(u8(), stack.at(-1));
        break; // BINPUT
      case 0x72:
        memo.set(u32(), stack.at(-1));
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, stack.at(-1));
        break; // MEMOIZE
      case 0x68:
        stack.push(take(1, (at) => memoized(data[at])));
        break; // BINGET
      case 0x6a:
        stack.push(take(4, (at) => memoized(data.readUInt32LE(at))));
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
