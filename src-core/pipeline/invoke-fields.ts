// Typed, never-throwing access to the JSON InvokeAI writes into its PNGs, and its prompt syntax note.

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const shown = (value: unknown) => {
  const text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};

/** Parses the JSON of a chunk; a note (never a throw) when it is not an object. */
export function jsonObject(text: string, chunk: string): Record<string, unknown> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `its "${chunk}" text is not valid JSON (${(error as Error).message.slice(0, 80)})`;
  }
  return isRecord(parsed) ? parsed : `its "${chunk}" text is not a JSON object`;
}

/** Typed access to the metadata's fields, with a note for a value of the wrong type. */
export class Fields {
  constructor(
    private readonly values: Record<string, unknown>,
    readonly notes: string[],
  ) {}

  number(key: string): number | undefined {
    const value = this.values[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    this.notes.push(`${key} ${shown(value)} in the file is not a number; keeping the current value`);
    return undefined;
  }

  text(key: string): string | undefined {
    const value = this.values[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    this.notes.push(`${key} ${shown(value)} in the file is not text; keeping the current value`);
    return undefined;
  }

  has(key: string): boolean {
    const value = this.values[key];
    return value !== undefined && value !== null && value !== false && !(Array.isArray(value) && value.length === 0);
  }

  raw(key: string): unknown {
    return this.values[key];
  }
}

/** Compel, InvokeAI's prompt syntax: "word+", "(words)1.2", "(a, b).and()" weigh differently from A1111's "(word:1.2)". */
export function compelNote(texts: Array<string | undefined>, notes: string[]): void {
  if (texts.some((t) => t && /[+-](?=[\s,)]|$)|\)[\d.]+|\)\.(and|blend|swap)\(|[()]/.test(t)))
    notes.push("the prompt uses InvokeAI's syntax (Compel: word+, (words)1.2), which this app reads as A1111's; the image will differ");
}
