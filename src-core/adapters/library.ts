// The LoRA and embedding files the user has: every .safetensors under the LoRA folders (subfolders too, as A1111
// scans them), every .safetensors / .pt under the embedding folders, by file name without extension (the name a
// prompt uses). A LoRA is also found by the output name kohya stored in it (ss_output_name), as A1111 does.
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { openSafetensors } from '../import/safetensors.ts';
import { loraBaseModel } from './lora-file.ts';
import { embeddingBaseModel } from './embedding-file.ts';

export interface AdapterFile {
  kind: 'lora' | 'embedding';
  name: string;
  path: string;
  size: number;
  /** kohya's ss_output_name where it differs from the file name. */
  alias?: string;
  /** The base model family: a LoRA's metadata names it, an embedding's widths tell it (SD 1, SD 2, SDXL). */
  baseModel?: string;
}

/** A name the prompt uses that no file has; the message lists close matches. */
export class UnknownAdapterError extends Error {
  override name = 'UnknownAdapterError';
  constructor(
    kind: string,
    requested: string,
    readonly suggestions: string[],
    folders: string[],
  ) {
    const where = folders.length > 0 ? ` in ${folders.join(', ')}` : ' (no LoRA folder is set: --lora-dir on the command line)';
    const close = suggestions.length > 0 ? `; close matches: ${suggestions.join(', ')}` : '';
    super(`unknown ${kind} "${requested}"${where}${close}`);
  }
}

const LORA_EXTENSIONS = new Set(['.safetensors']);
const EMBEDDING_EXTENSIONS = new Set(['.safetensors', '.pt']);
const headerFacts = new Map<string, { size: number; mtimeMs: number; alias?: string; baseModel?: string }>();

function walk(dir: string, extensions: Set<string>, out: string[], depth = 0): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // a folder that does not exist (yet) holds nothing
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory() && depth < 8) walk(path, extensions, out, depth + 1);
    else if (entry.isFile() && extensions.has(extname(entry.name).toLowerCase())) out.push(path);
  }
}

/** What a LoRA's header says (read once per file version). */
function loraFacts(path: string, size: number, mtimeMs: number, name: string): { alias?: string; baseModel?: string } {
  const known = headerFacts.get(path);
  if (known && known.size === size && known.mtimeMs === mtimeMs) return known;
  let facts: { alias?: string; baseModel?: string } = {};
  try {
    const file = openSafetensors(path);
    const alias = file.metadata.ss_output_name;
    facts = {
      ...(alias && alias !== name ? { alias } : {}),
      ...(loraBaseModel(file.metadata) ? { baseModel: loraBaseModel(file.metadata) } : {}),
    };
    file.close();
  } catch {
    // An unreadable file is listed; applying it says what is wrong.
  }
  headerFacts.set(path, { size, mtimeMs, ...facts });
  return facts;
}

/** Embeddings larger than this are listed without a family (a .pt is read whole to find its widths). */
const EMBEDDING_FACTS_MAX_BYTES = 16 * 1024 * 1024;

/** The family an embedding's widths say (read once per file version). */
function embeddingFacts(path: string, size: number, mtimeMs: number): { baseModel?: string } {
  const known = headerFacts.get(path);
  if (known && known.size === size && known.mtimeMs === mtimeMs) return known;
  const baseModel = size <= EMBEDDING_FACTS_MAX_BYTES ? embeddingBaseModel(path) : undefined;
  const facts = baseModel ? { baseModel } : {};
  headerFacts.set(path, { size, mtimeMs, ...facts });
  return facts;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** Up to five names close to `name`: a small edit away, or containing it (case ignored), closest first. */
export function closeMatches(name: string, names: string[]): string[] {
  const wanted = name.toLowerCase();
  return [...new Set(names)]
    .map((candidate) => {
      const lower = candidate.toLowerCase();
      const distance = levenshtein(wanted, lower);
      const contains = wanted.length >= 3 && (lower.includes(wanted) || wanted.includes(lower));
      return { candidate, score: contains ? Math.min(distance, 1) : distance };
    })
    .filter(({ score }) => score <= Math.max(2, Math.floor(wanted.length / 3)))
    .sort((a, b) => a.score - b.score || a.candidate.localeCompare(b.candidate))
    .slice(0, 5)
    .map(({ candidate }) => candidate);
}

export class AdapterLibrary {
  constructor(
    readonly loraDirs: readonly string[],
    readonly embeddingDirs: readonly string[] = [],
  ) {}

  loras(): AdapterFile[] {
    return this.scan('lora', this.loraDirs, LORA_EXTENSIONS);
  }

  embeddings(): AdapterFile[] {
    return this.scan('embedding', this.embeddingDirs, EMBEDDING_EXTENSIONS);
  }

  /** The LoRA a prompt names, by file name or kohya output name (case-sensitive first, then ignoring case). */
  findLora(name: string): AdapterFile {
    const all = this.loras();
    const found =
      all.find((f) => f.name === name) ?? all.find((f) => f.alias === name) ?? all.find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (found) return found;
    const names = all.flatMap((f) => (f.alias ? [f.name, f.alias] : [f.name]));
    throw new UnknownAdapterError('LoRA', name, closeMatches(name, names), [...this.loraDirs]);
  }

  private scan(kind: AdapterFile['kind'], dirs: readonly string[], extensions: Set<string>): AdapterFile[] {
    const paths: string[] = [];
    for (const dir of dirs) walk(dir, extensions, paths);
    const seen = new Set<string>();
    const files: AdapterFile[] = [];
    for (const path of paths) {
      const name = basename(path, extname(path));
      if (seen.has(name)) continue; // the first folder's file wins, as in A1111
      seen.add(name);
      const stat = statSync(path);
      const facts = kind === 'lora' ? loraFacts(path, stat.size, stat.mtimeMs, name) : embeddingFacts(path, stat.size, stat.mtimeMs);
      files.push({ kind, name, path, size: stat.size, ...facts });
    }
    return files;
  }
}
