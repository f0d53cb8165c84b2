// Reading a model folder's JSON configs, with errors that name the file.
import { closeSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelError } from './errors.ts';
import { openRegularFile } from '../regular-file.ts';

export type Json = Record<string, unknown>;

/** Real diffusers configs are a few KB (SD's trained_betas, 1000 numbers, about 20 KB); refuse giants before parsing. */
export const CONFIG_MAX_BYTES = 1_000_000;

/**
 * The largest JSON file readJsonObjectFile reads (a tokenizer's vocab.json is about 1 MB, a sharded checkpoint's index
 * well under one): a bigger one is refused before it is read whole into memory.
 */
export const JSON_FILE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A regular file's text, at most `maxBytes`. Anything else is refused before it is read, with why: a folder, a pipe
 * (opened without waiting for a writer, which would block), a device such as /dev/zero (which never ends).
 */
function readSmallTextFile(path: string, maxBytes: number): string {
  const { fd, stat } = openRegularFile(path, { label: 'it' });
  try {
    if (stat.size > maxBytes) throw new Error(`it is ${(stat.size / 1e6).toFixed(1)} MB, more than a file of this kind ever is`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Why readJsonObjectFile could not return an object: the file unreadable, not JSON, or JSON but not an object. */
export type JsonFileProblem = 'unreadable' | 'syntax' | 'not-object';

/**
 * The JSON object held by the file at `path`. Each failure is handed to `fail`, which returns the error to
 * throw, so callers keep their own error types and wording (`cause` is the fs or JSON.parse error).
 * Shared by the model configs here and the tokenizer files (tokenizer/tokenizer-files.ts).
 */
export function readJsonObjectFile(path: string, fail: (problem: JsonFileProblem, cause?: Error) => Error): Json {
  let text: string;
  try {
    text = readSmallTextFile(path, JSON_FILE_MAX_BYTES);
  } catch (error) {
    throw fail('unreadable', error as Error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw fail('syntax', error as Error);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw fail('not-object');
  return parsed as Json;
}

export function readJson(dir: string, file: string, component: string, required = true): Json | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) {
    if (!required) return undefined;
    throw new ModelError(component, `${file} is missing`);
  }
  const size = statSync(path).size;
  if (size > CONFIG_MAX_BYTES) {
    throw new ModelError(component, `${file} is ${(size / 1e6).toFixed(1)} MB; a model config is at most ${CONFIG_MAX_BYTES / 1e6} MB`);
  }
  return readJsonObjectFile(path, (problem, cause) => {
    if (problem === 'unreadable') return new ModelError(component, `${file} cannot be read: ${cause!.message}`);
    if (problem === 'syntax') return new ModelError(component, `${file} is not valid JSON (${cause!.message})`);
    return new ModelError(component, `${file} must hold a JSON object`);
  });
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
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new ModelError(component, `config value ${key} = ${JSON.stringify(value)} must be a positive number`);
  return value;
}

/** A list of positive whole numbers (e.g. block_out_channels), or the default when absent. */
export function configIntegerList(
  config: Json | undefined,
  key: string,
  fallback: number[],
  component: string,
  limits: { maxLength: number; max: number },
): number[] {
  const value = config?.[key];
  if (value === undefined || value === null) return fallback;
  const valid =
    Array.isArray(value) &&
    value.length >= 1 &&
    value.length <= limits.maxLength &&
    value.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= limits.max);
  if (!valid)
    throw new ModelError(component, `config value ${key} must be a list of 1 to ${limits.maxLength} whole numbers from 1 to ${limits.max}`);
  return value as number[];
}
