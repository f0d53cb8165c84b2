// Remembered source hashes, so `generate --model x.safetensors` finds its earlier import without reading
// gigabytes again (A1111's cache.json does the same by mtime). An entry is a file's (or a diffusers folder's
// files') size, mtime in ns, inode and device with the sha256 read then; any difference means hashing again.
// The memo is only a shortcut: an unreadable or corrupt file is ignored, and a failed write loses nothing.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../atomic-write.ts';

/** The memo's file name in the import cache root. */
export const HASH_MEMO_FILE = 'source-hashes.json';
/** Entries kept at most (the most recently hashed); each is well under a kilobyte. */
const MAX_ENTRIES = 256;
/**
 * A file changed less than this long before it was hashed is not remembered: a second write within the
 * same timestamp tick (2 s on FAT) could keep size and mtime while changing the bytes.
 */
const RACY_MS = 2000;

interface MemoEntry {
  stamp: string;
  sha256: string;
  /** When it was hashed (ms since the epoch): the oldest go first when the memo is full. */
  hashed: number;
}

/** What identifies a file's content without reading it, and its mtime in ms (for the racy check). */
export function fileStamp(path: string): { stamp: string; mtimeMs: number } {
  const s = statSync(path, { bigint: true });
  return { stamp: `${s.size}:${s.mtimeNs}:${s.ino}:${s.dev}`, mtimeMs: Number(s.mtimeNs / 1_000_000n) };
}

/** The stamp of a file or of a folder's hashed files (`files` as [relative path, absolute path]). */
export function sourceStamp(files: Array<[string, string]>): { stamp: string; mtimeMs: number } {
  const stamps = files.map(([rel, abs]) => ({ rel, ...fileStamp(abs) }));
  return {
    stamp: stamps.map(({ rel, stamp }) => (rel ? `${rel}=${stamp}` : stamp)).join('|'),
    mtimeMs: Math.max(0, ...stamps.map((s) => s.mtimeMs)),
  };
}

function readEntries(file: string): Map<string, MemoEntry> {
  const entries = new Map<string, MemoEntry>();
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown; entries?: unknown };
    if (parsed.version !== 1 || typeof parsed.entries !== 'object' || parsed.entries === null) return entries;
    for (const [path, value] of Object.entries(parsed.entries as Record<string, Partial<MemoEntry>>)) {
      if (typeof value?.stamp !== 'string' || typeof value.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(value.sha256)) continue;
      entries.set(path, { stamp: value.stamp, sha256: value.sha256, hashed: Number(value.hashed) || 0 });
    }
  } catch {
    // missing, unreadable or not JSON: hashed again
  }
  return entries;
}

/** The remembered sha256 of `path` (resolved) when its stamp is unchanged. */
export function rememberedHash(memoFile: string, path: string, stamp: string): string | undefined {
  const entry = readEntries(memoFile).get(path);
  return entry?.stamp === stamp ? entry.sha256 : undefined;
}

/**
 * Remembers `sha256` for `path` as it was at `startedMs` (wall clock before the first stat), unless it
 * changed too shortly before; drops entries whose file is gone and the oldest beyond the cap.
 */
export function rememberHash(
  memoFile: string,
  path: string,
  source: { stamp: string; mtimeMs: number },
  sha256: string,
  startedMs: number,
): void {
  if (source.mtimeMs > startedMs - RACY_MS) return;
  const entries = readEntries(memoFile);
  entries.set(path, { stamp: source.stamp, sha256, hashed: Date.now() });
  const kept = [...entries].filter(([p]) => existsSync(p)).sort(([, a], [, b]) => b.hashed - a.hashed);
  try {
    writeFileAtomic(memoFile, JSON.stringify({ version: 1, entries: Object.fromEntries(kept.slice(0, MAX_ENTRIES)) }));
  } catch {
    // a read-only or full cache root: the next run hashes again
  }
}
