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
