// Putting a LoRA tag or an embedding's name into a prompt where the cursor is (the LoRA browser), with one space
// between it and the words around it, as A1111's extra-network cards add them.

/** `text` with `insert` placed over the selection [start, end); `caret`: just after the inserted text. */
export function insertAtCursor(text: string, start: number, end: number, insert: string): { text: string; caret: number } {
  const from = Math.max(0, Math.min(start, text.length));
  const to = Math.max(from, Math.min(end, text.length));
  const before = text.slice(0, from),
    after = text.slice(to);
  const lead = before === '' || /\s$/.test(before) ? '' : ' ';
  const trail = after === '' || /^[\s,]/.test(after) ? '' : ' ';
  const placed = lead + insert + trail;
  return { text: before + placed + after, caret: before.length + lead.length + insert.length };
}

/** The tag a LoRA is used by: <lora:NAME:1> (A1111's default multiplier). */
export function loraTag(name: string): string {
  return `<lora:${name}:1>`;
}
