// Reading a model folder's JSON configs, with errors that name the file.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelError } from './errors.ts';

export type Json = Record<string, unknown>;

export function readJson(dir: string, file: string, component: string, required = true): Json | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) {
    if (!required) return undefined;
    throw new ModelError(component, `${file} is missing`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ModelError(component, `${file} is not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ModelError(component, `${file} must hold a JSON object`);
  return parsed as Json;
}

/** A positive whole number from a config, or the default when absent. */
export function configInteger(config: Json | undefined, key: string, fallback: number, component: string, max = 1_000_000): number {
  const value = config?.[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ModelError(component, `config value ${key} = ${JSON.stringify(value)} is not a whole number from 1 to ${max}`);
  }
  return value;
}

export function configNumber(config: Json | undefined, key: string, fallback: number, component: string): number {
  const value = config?.[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ModelError(component, `config value ${key} = ${JSON.stringify(value)} must be a positive number`);
  return value;
}
