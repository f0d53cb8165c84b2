// Reading parsed command-line values (node:util parseArgs gives strings): a number, or one of a set of choices.
// Unset options are undefined; a bad value is refused with a message naming the option.
import type { z } from 'zod';

type Values = Record<string, unknown>;

export function numberOption(values: Values, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n))
    throw new Error(`--${name} needs a number (got "${String(raw)}")`);
  return n;
}

/**
 * A number checked against the request field it would set: for options that may be left out of the request as
 * unused, which must be refused when wrong all the same (the request's own check never sees them).
 */
export function checkedNumberOption(values: Values, name: string, field: z.ZodType): number | undefined {
  const n = numberOption(values, name);
  if (n === undefined) return undefined;
  const result = field.safeParse(n);
  if (!result.success) throw new Error(`--${name} ${n}: ${result.error.issues[0]?.message ?? 'out of range'}`);
  return n;
}

export function choiceOption<T extends string>(values: Values, name: string, choices: readonly T[]): T | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (!(choices as readonly unknown[]).includes(raw))
    throw new Error(`--${name} must be one of ${choices.join(', ')} (got "${String(raw)}")`);
  return raw as T;
}

/** "--a applies to X only; why, so it was ignored" (or "--a, --b apply ..., so they were ignored"). */
export function ignoredNote(names: string[], where: string, why: string): string {
  const many = names.length > 1;
  const options = names.map((n) => `--${n}`).join(', ');
  return `${options} ${many ? 'apply' : 'applies'} to ${where} only; ${why}, so ${many ? 'they were' : 'it was'} ignored`;
}
