// Keys a safetensors header repeats, which JSON.parse drops silently (it keeps the last of each).
// The reference reader (Hugging Face's safetensors, Rust) deserializes the header with serde_json into
//   struct HashMetadata { #[serde(rename = "__metadata__")] metadata: Option<HashMap<String, String>>,
//                         #[serde(flatten)] tensors: HashMap<String, TensorInfo> }
// which gives, for keys that repeat (after JSON unescaping: "\u0061" is "a"):
// - a tensor name listed twice: no error by itself; each entry must still be a valid TensorInfo, and the last one
//   is kept. The file is then refused unless the kept tensors' data_offsets tile the data exactly (validate():
//   each starts where the previous ends, from 0 to the end of the file), which a dropped entry's bytes break
//   unless it was empty or had the same offsets;
// - "__metadata__" twice, or "dtype", "shape" or "data_offsets" twice in one tensor's entry: "duplicate field";
// - anything else twice (a metadata name, an unknown field of an entry): the last one, no error.
// JSON.parse keeps the last of each silently, so the repeats are found by one pass over the text's keys
// (strings skipped with indexOf, no values built), and only a header that has some is looked at further.
// The scanner's pieces are exported for safetensors-literals.ts, which checks the numbers' text the same way.

const QUOTE = 0x22,
  BACKSLASH = 0x5c;

/** JSON's insignificant whitespace. */
export function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/** The index after the JSON string that starts at i (text is valid JSON: JSON.parse read it). */
export function stringEnd(text: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    let before = quote - 1;
    while (text.charCodeAt(before) === BACKSLASH) before--;
    if ((quote - 1 - before) % 2 === 0) return quote + 1; // an even run of backslashes: the quote closes
    from = quote + 1;
  }
}

/** The index after the JSON value that starts at i. */
export function valueEnd(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return stringEnd(text, i);
  if (c !== 0x7b && c !== 0x5b) {
    // A number, true, false or null: up to the next delimiter.
    let j = i + 1;
    for (;;) {
      const d = text.charCodeAt(j);
      if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09 || Number.isNaN(d)) return j;
      j++;
    }
  }
  let depth = 0;
  for (let j = i; ;) {
    const d = text.charCodeAt(j);
    if (d === QUOTE) {
      j = stringEnd(text, j);
      continue;
    }
    if (d === 0x7b || d === 0x5b) depth++;
    else if ((d === 0x7d || d === 0x5d) && --depth === 0) return j + 1;
    j++;
  }
}

/** The unescaped key of the JSON string text[start, end). */
export function keyText(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end - 1);
  return raw.includes('\\') ? (JSON.parse(text.slice(start, end)) as string) : raw;
}

/**
 * Calls each(keyStart, keyEnd, valueStart) for every member of the object at i, which returns the index after the
 * value; returns the index after the object.
 */
export function eachMember(text: string, i: number, each: (keyStart: number, keyEnd: number, valueStart: number) => number): number {
  let j = skipSpace(text, i + 1);
  if (text.charCodeAt(j) === 0x7d) return j + 1;
  for (;;) {
    const keyEnd = stringEnd(text, j);
    const valueStart = skipSpace(text, skipSpace(text, keyEnd) + 1); // past the colon
    j = skipSpace(text, each(j, keyEnd, valueStart));
    if (text.charCodeAt(j) === 0x7d) return j + 1;
    j = skipSpace(text, j + 1); // past the comma
  }
}

/** Whether the key text[start, end) is `name` once unescaped (the text is only sliced where it may be). */
export function keyIs(text: string, start: number, end: number, name: string): boolean {
  const length = end - start - 2;
  if (length === name.length) return text.startsWith(name, start + 1);
  return length > name.length && keyText(text, start, end) === name; // longer: escapes, e.g. "\u0061"
}

/** The reference's TensorInfo fields. */
const INFO_FIELDS = ['dtype', 'shape', 'data_offsets'];

/**
 * What the reference refuses among repeated keys, as an error message, and the tensor names listed more than
 * once with the ranges of all their entries' texts (empty when none is).
 */
export function repeatedKeys(text: string, entryCount: number): { refused?: string; repeated: Map<string, Array<[number, number]>> } {
  let members = 0,
    metadataSeen = false,
    refused: string | undefined;
  const start = skipSpace(text, 0);
  eachMember(text, start, (keyStart, keyEnd, at) => {
    members++;
    if (keyIs(text, keyStart, keyEnd, '__metadata__')) {
      if (metadataSeen) refused ??= '__metadata__ appears twice';
      metadataSeen = true;
      return valueEnd(text, at);
    }
    if (text.charCodeAt(at) !== 0x7b) return valueEnd(text, at);
    let seen = 0;
    return eachMember(text, at, (fieldStart, fieldEnd, fieldAt) => {
      for (let f = 0; f < INFO_FIELDS.length; f++) {
        if (!keyIs(text, fieldStart, fieldEnd, INFO_FIELDS[f])) continue;
        if (seen & (1 << f)) refused ??= `tensor ${keyText(text, keyStart, keyEnd)} has "${INFO_FIELDS[f]}" twice`;
        seen |= 1 << f;
      }
      return valueEnd(text, fieldAt);
    });
  });
  const repeated = new Map<string, Array<[number, number]>>();
  if (refused !== undefined || members === entryCount) return { refused, repeated };
  // Some name is listed more than once: a second pass over the (rare) header that has one.
  const ranges = new Map<string, Array<[number, number]>>();
  eachMember(text, start, (keyStart, keyEnd, at) => {
    const name = keyText(text, keyStart, keyEnd),
      end = valueEnd(text, at);
    const list = ranges.get(name);
    if (list) list.push([at, end]);
    else ranges.set(name, [[at, end]]);
    return end;
  });
  for (const [name, list] of ranges) if (list.length > 1) repeated.set(name, list);
  return { refused, repeated };
}
