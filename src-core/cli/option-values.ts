// Reading parsed command-line values (node:util parseArgs gives strings): a number, or one of a set of choices.
// Unset options are undefined; a bad value is refused with a message naming the option.
type Values = Record<string, unknown>;

export function numberOption(values: Values, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n))
    throw new Error(`--${name} needs a number (got "${String(raw)}")`);
  return n;
}

export function choiceOption<T extends string>(values: Values, name: string, choices: readonly T[]): T | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (!(choices as readonly unknown[]).includes(raw))
    throw new Error(`--${name} must be one of ${choices.join(', ')} (got "${String(raw)}")`);
  return raw as T;
}
