// A1111's short hashes, as its PNG parameters write them ("Lora hashes: name: 0123456789ab"): the first 12 hex
// digits of a SHA-256. For a LoRA .safetensors file it is kohya's "addnet" hash (the bytes after the header, so
// that editing the metadata keeps it), or the hash kohya stored in the metadata (sshs_model_hash); for other files
// (embeddings, .pt) the hash of the whole file. Hashes are kept per file path, size and modification time.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';

const known = new Map<string, { size: number; mtimeMs: number; hash: string }>();

function hashFrom(path: string, start: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (let position = start; ;) {
      const count = readSync(fd, chunk, 0, chunk.length, position);
      if (count === 0) break;
      hash.update(chunk.subarray(0, count));
      position += count;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

function cached(path: string, kind: string, compute: () => string): string {
  const stat = statSync(path);
  const key = `${kind}\u0000${path}`;
  const entry = known.get(key);
  if (entry && entry.size === stat.size && entry.mtimeMs === stat.mtimeMs) return entry.hash;
  const hash = compute();
  known.set(key, { size: stat.size, mtimeMs: stat.mtimeMs, hash });
  return hash;
}

/** SHA-256 of the tensor data of a .safetensors file (after the 8-byte length and the JSON header). */
export function addnetHash(path: string): string {
  return cached(path, 'addnet', () => {
    const fd = openSync(path, 'r');
    const length = Buffer.alloc(8);
    try {
      readSync(fd, length, 0, 8, 0);
    } finally {
      closeSync(fd);
    }
    return hashFrom(path, 8 + Number(length.readBigUInt64LE(0)));
  });
}

/** SHA-256 of the whole file. */
export function fileHash(path: string): string {
  return cached(path, 'file', () => hashFrom(path, 0));
}

/** A LoRA's short hash as A1111 writes it. */
export function loraShortHash(path: string, metadata: Readonly<Record<string, string>>): string {
  const stored = metadata.sshs_model_hash;
  if (typeof stored === 'string' && /^[0-9a-f]{12,}$/i.test(stored)) return stored.slice(0, 12).toLowerCase();
  return (path.toLowerCase().endsWith('.safetensors') ? addnetHash(path) : fileHash(path)).slice(0, 12);
}

/** An embedding's short hash as A1111 writes it (whole file). */
export function embeddingShortHash(path: string): string {
  return fileHash(path).slice(0, 12);
}

/** "name: hash, name: hash" with ":" and "," taken out of names, as A1111 joins them. */
export function formatHashList(entries: Array<{ name: string; hash: string }>): string | undefined {
  if (entries.length === 0) return undefined;
  // A1111 fills a dict keyed by the name without ':' and ',' (extra_networks_lora.py lora_hashes): a LoRA named
  // twice in a prompt is listed once, where it first appears, with the hash set last.
  const byName = new Map<string, string>();
  for (const e of entries) byName.set(e.name.replace(/[:,]/g, ''), e.hash);
  return [...byName].map(([name, hash]) => `${name}: ${hash}`).join(', ');
}

/** Parses "name: hash, name: hash" (quotes around the value already removed). */
export function parseHashList(text: string): Array<{ name: string; hash: string }> {
  const entries: Array<{ name: string; hash: string }> = [];
  for (const part of text.split(',')) {
    const colon = part.lastIndexOf(':');
    if (colon < 0) continue;
    const name = part.slice(0, colon).trim(),
      hash = part.slice(colon + 1).trim();
    if (name && hash) entries.push({ name, hash });
  }
  return entries;
}
