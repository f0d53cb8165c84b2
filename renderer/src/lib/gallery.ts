// The gallery list: newest first, new images from job.done merged in without duplicates; names that tell
// images apart (seed, time, sampler) and the filter (source, sampler, text in the prompt).
import { GALLERY_PAGE_MAX, type GalleryEntry, type GallerySource, type StudioApi } from '../../../src-core/contract/api.ts';

function time(entry: GalleryEntry): number {
  const t = Date.parse(entry.createdAt);
  return Number.isNaN(t) ? 0 : t;
}

/** The whole gallery, a page at a time: one reply for all of a large gallery would be over the size a reply may have. */
export async function listGallery(client: Pick<StudioApi, 'call'>, pageSize = GALLERY_PAGE_MAX): Promise<GalleryEntry[]> {
  const entries: GalleryEntry[] = [];
  for (;;) {
    const page = await client.call('gallery.list', { offset: entries.length, limit: pageSize });
    entries.push(...page);
    if (page.length < pageSize) return entries;
  }
}

/** Newest first; entries with the same time keep their relative order. */
export function sortNewest(entries: readonly GalleryEntry[]): GalleryEntry[] {
  return entries
    .map((entry, index) => ({ entry, index, time: time(entry) }))
    .sort((a, b) => b.time - a.time || a.index - b.index)
    .map((x) => x.entry);
}

/** Adds entries (replacing ones with the same id) and keeps the list newest first. */
export function mergeEntries(list: readonly GalleryEntry[], added: readonly GalleryEntry[]): GalleryEntry[] {
  const ids = new Set(added.map((e) => e.id));
  // A job's new images, newer than any listed (the usual case): in front, without sorting the whole gallery again.
  const newest = list.length > 0 ? time(list[0]) : -Infinity;
  if (added.every((e) => time(e) >= newest) && !list.some((e) => ids.has(e.id))) return [...sortNewest(added), ...list];
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

/** The "Key: value, ..." line of A1111 parameters text (the last line that starts with "Steps:"). */
function settingsLine(parameters: string): string {
  const lines = parameters.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i].startsWith('Steps: ')) return lines[i];
  return '';
}

// Entries are never changed in place (a changed one is a new object), so what is read from their parameters is
// kept: every change to a gallery of 20,000 images named and sorted them all again (80 ms a deletion).
const samplers = new WeakMap<object, string | null>();
const names = new WeakMap<object, string>();

/** The sampler's label as the parameters text names it ("Euler a"), or null. */
export function entrySampler(entry: Pick<GalleryEntry, 'parameters'>): string | null {
  const known = samplers.get(entry);
  if (known !== undefined) return known;
  const m = /(?:^|, )Sampler: ([^,]+)/.exec(settingsLine(entry.parameters));
  const sampler = m ? m[1].trim() : null;
  samplers.set(entry, sampler);
  return sampler;
}

/** The prompt: the text before "Negative prompt:" or the settings line. */
export function entryPrompt(entry: Pick<GalleryEntry, 'parameters'>): string {
  const lines = entry.parameters.split('\n');
  const end = lines.findIndex((l) => l.startsWith('Negative prompt: ') || l.startsWith('Steps: '));
  return (end === -1 ? lines : lines.slice(0, end)).join('\n');
}

const two = (n: number) => String(n).padStart(2, '0');

/** "seed 42, 10:14, Euler": the seed, the local time it was made and the sampler. */
export function entryName(entry: GalleryEntry): string {
  const known = names.get(entry);
  if (known !== undefined) return known;
  const parts = [`seed ${entry.seed}`];
  const t = new Date(entry.createdAt);
  if (!Number.isNaN(t.getTime())) parts.push(`${two(t.getHours())}:${two(t.getMinutes())}`);
  const sampler = entrySampler(entry);
  if (sampler) parts.push(sampler);
  const name = parts.join(', ');
  names.set(entry, name);
  return name;
}

/** Every entry's name; names shared by several entries get the gallery's running number ("#12"). */
export function galleryNames(list: readonly GalleryEntry[]): Map<string, string> {
  const names = list.map((e) => [e.id, entryName(e)] as const);
  const uses = new Map<string, number>();
  for (const [, name] of names) uses.set(name, (uses.get(name) ?? 0) + 1);
  return new Map(
    names.map(([id, name]) => {
      if ((uses.get(name) ?? 0) < 2) return [id, name];
      const number = /^(\d+)-/.exec(id)?.[1];
      return [id, number ? `${name}, #${Number(number)}` : `${name}, ${id}`];
    }),
  );
}

export interface GalleryFilter {
  source?: GallerySource | 'all';
  /** A sampler label ("Euler a"); empty for any. */
  sampler?: string;
  /** Searched in the prompt, ignoring case. */
  text?: string;
}

export function filterEntries(list: readonly GalleryEntry[], filter: GalleryFilter): GalleryEntry[] {
  const text = (filter.text ?? '').trim().toLowerCase();
  return list.filter(
    (e) =>
      (!filter.source || filter.source === 'all' || e.source === filter.source) &&
      (!filter.sampler || entrySampler(e) === filter.sampler) &&
      (!text || entryPrompt(e).toLowerCase().includes(text)),
  );
}

/** The samplers the gallery's images were made with, sorted, for the filter's picker. */
export function samplersIn(list: readonly GalleryEntry[]): string[] {
  return [...new Set(list.map(entrySampler).filter((s): s is string => s !== null))].sort();
}
