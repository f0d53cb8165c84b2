// The gallery's changes since index.json was last written whole: one JSON record per line, appended
// and flushed per batch or delete. Rewriting the whole index took 50 ms at 10,000 images and 160 ms at
// 50,000, on the server's thread, for every batch and every delete; an append costs the same at any size.
// On load the records are replayed over index.json in order, and the two are folded into a new
// index.json. Replaying is safe to repeat (a crash between the fold and the journal's truncation).
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { writeAll, type WriteOps } from './atomic-write.ts';
import { GALLERY_ID, validEntries, type StoredEntry } from './gallery-index.ts';

export type JournalRecord = { add: StoredEntry[] } | { delete: string };

/** Fold the journal into index.json once it is this big and a quarter of the index's size. */
const FOLD_AT_BYTES = 256 * 1024;

/** One record: its fields are checked as index.json's entries are; anything else (a torn last write) is skipped. */
function recordOf(line: string): JournalRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  const record = parsed as { add?: unknown; delete?: unknown } | null;
  if (typeof record?.delete === 'string' && GALLERY_ID.test(record.delete)) return { delete: record.delete };
  if (Array.isArray(record?.add)) return { add: validEntries({ entries: record.add }) };
  return undefined;
}

/** `entries` with the records applied in order: an add replaces an entry of the same id, a delete removes it. */
export function replay(entries: StoredEntry[], records: JournalRecord[]): StoredEntry[] {
  const byId = new Map(entries.map((e) => [e.id, e]));
  for (const record of records) {
    if ('delete' in record) byId.delete(record.delete);
    else for (const entry of record.add) byId.set(entry.id, entry);
  }
  return [...byId.values()];
}

export class GalleryJournal {
  constructor(
    readonly path: string,
    private readonly ops?: WriteOps,
  ) {}

  /** The records on disk; a journal that is not a file is set aside (its changes are recovered from the PNGs). */
  read(): JournalRecord[] {
    if (!existsSync(this.path)) return [];
    if (!statSync(this.path).isFile()) {
      const aside = `${this.path}.not-a-file-${Date.now()}`;
      renameSync(this.path, aside);
      console.warn(`gallery: ${this.path} was not a file; moved it to ${aside}`);
      return [];
    }
    const records: JournalRecord[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      const record = line.trim() ? recordOf(line) : undefined;
      if (record) records.push(record);
    }
    return records;
  }

  /**
   * Appends and flushes one record, or throws with the journal as it was. Each record starts on a new line
   * of its own, so a torn write that could not be taken back stays one unreadable line, skipped on load.
   */
  append(record: JournalRecord): void {
    const fd = openSync(this.path, 'a');
    try {
      const before = fstatSync(fd).size;
      try {
        writeAll(fd, Buffer.from(`\n${JSON.stringify(record)}`), this.ops);
        fsyncSync(fd);
      } catch (error) {
        try {
          ftruncateSync(fd, before);
        } catch {
          // The torn record is skipped on load.
        }
        throw error;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Whether the journal has grown enough, against an index of `indexBytes`, to be folded into it. */
  due(indexBytes: number): boolean {
    try {
      const size = statSync(this.path).size;
      return size >= FOLD_AT_BYTES && size >= indexBytes / 4;
    } catch {
      return false;
    }
  }

  /** Empties the journal once index.json holds everything in it. */
  clear(): void {
    if (existsSync(this.path)) truncateSync(this.path, 0);
  }
}
