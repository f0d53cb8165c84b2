// One app instance per data folder: two instances would pick the same gallery ids, overwrite each
// other's images and index, and delete each other's unfinished writes. The lock is a file created with
// O_EXCL holding the owner's pid; a lock whose pid no longer runs (a crash, a power cut) is taken over.
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

export const LOCK_NAME = '.restart-studio.lock';

/** The folder is locked by a running instance; the message names the folder and its pid. */
export class DataFolderLocked extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `the data folder ${dir} is in use by another Restart Studio (pid ${pid}); ` +
        'close that one first, or choose another data folder with --data or RESTART_STUDIO_DATA.',
    );
    this.name = 'DataFolderLocked';
  }
}

/** Locks held by this process: a lock with our own pid that is not one of them is a previous process's (pid reused). */
const heldHere = new Set<string>();

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in a lock file; NaN when it is unreadable or half-written (then it is treated as stale). */
function ownerOf(text: string): number {
  return Number.parseInt(text.split('\n')[0], 10);
}

function readLock(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export interface DataFolderLock {
  /** Gives the folder up (only if the lock is still this one's). */
  release(): void;
}

/** Takes the folder's lock, or throws DataFolderLocked (other fs errors as they are). */
export function lockDataFolder(dir: string): DataFolderLock {
  const path = join(dir, LOCK_NAME);
  const content = `${process.pid}\n${randomUUID()}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      heldHere.add(path);
      return {
        release: () => {
          heldHere.delete(path);
          try {
            if (readLock(path) === content) rmSync(path, { force: true });
          } catch {
            // A folder that became read-only: the lock is stale once this process ends, and taken over then.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const found = readLock(path);
    if (found === null) continue; // released meanwhile: try again
    const pid = ownerOf(found);
    const alive = Number.isInteger(pid) && pid > 0 && (pid === process.pid ? heldHere.has(path) : running(pid));
    if (alive) throw new DataFolderLocked(dir, pid);
    takeOverStale(path, found);
  }
  throw new DataFolderLocked(dir, ownerOf(readLock(path) ?? '') || 0);
}

/**
 * Moves a stale lock aside. If another starting instance replaced it in the meantime, its lock is put
 * back (and the next attempt sees it as alive), so two instances never both think they hold the folder.
 */
function takeOverStale(path: string, stale: string): void {
  const aside = `${path}.stale-${process.pid}-${randomUUID()}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // gone already: the next attempt creates or reads it again
  }
  if (readLock(aside) !== stale) {
    try {
      linkSync(aside, path);
    } catch {
      /* yet another lock is in place: the next attempt reads it */
    }
  }
  rmSync(aside, { force: true });
}
