// The gallery list: newest first, new images from job.done merged in without duplicates.
import type { GalleryEntry } from '../../../src-core/contract/api.ts';

function time(entry: GalleryEntry): number {
  const t = Date.parse(entry.createdAt);
  return Number.isNaN(t) ? 0 : t;
}

/** Newest first; entries with the same time keep their relative order. */
export function sortNewest(entries: readonly GalleryEntry[]): GalleryEntry[] {
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => time(b.entry) - time(a.entry) || a.index - b.index)
    .map((x) => x.entry);
}

/** Adds entries (replacing ones with the same id) and keeps the list newest first. */
export function mergeEntries(list: readonly GalleryEntry[], added: readonly GalleryEntry[]): GalleryEntry[] {
  const ids = new Set(added.map((e) => e.id));
  return sortNewest([...added, ...list.filter((e) => !ids.has(e.id))]);
}

export function removeEntry(list: readonly GalleryEntry[], id: string): GalleryEntry[] {
  return list.filter((e) => e.id !== id);
}

/** Absolute address of an entry's file, for the "reveal file" fallback in the browser. */
export function entryHref(entry: GalleryEntry, base: string): string {
  try {
    return new URL(entry.url, base).href;
  } catch {
    return entry.url;
  }
}
