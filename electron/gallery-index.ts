// The gallery's index.json entries, checked field by field: the file lives in a folder the user (or
// anything else on the machine) can edit, and its entries reach the UI and the server's file paths.
import { z } from 'zod';
import { LIMITS } from '../src-core/contract/generate.ts';
import { GALLERY_SOURCES, type GalleryEntry } from '../src-core/contract/api.ts';

export type StoredEntry = Omit<GalleryEntry, 'url'>;

/** The gallery's own file names: a running number and the seed. */
export const GALLERY_ID = /^\d{5,}-\d+\.png$/;

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// Unknown keys are dropped (zod strips them), every known one must have its type.
const StoredEntrySchema = z.object({
  id: z.string().regex(GALLERY_ID).max(64),
  createdAt: z.string().max(64),
  seed: count,
  width: z
    .number()
    .int()
    .min(0)
    .max(LIMITS.imageSide * 4),
  height: z
    .number()
    .int()
    .min(0)
    .max(LIMITS.imageSide * 4),
  parameters: z.string().max(256 * 1024),
  evaluations: count,
  seconds: z.number().finite().min(0),
  source: z.enum(GALLERY_SOURCES).optional().catch(undefined), // an unknown source drops only itself
});

/** The valid entries of a parsed index file; invalid ones are left out (their PNGs are then recovered). */
export function validEntries(parsed: unknown): StoredEntry[] {
  const list = (parsed as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(list)) return [];
  const out: StoredEntry[] = [];
  const seen = new Set<string>();
  for (const item of list) {
    const result = StoredEntrySchema.safeParse(item);
    if (result.success && !seen.has(result.data.id)) {
      seen.add(result.data.id);
      out.push(result.data);
    }
  }
  return out;
}
