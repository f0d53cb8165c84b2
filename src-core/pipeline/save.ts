// Writing generated PNGs: numbered like A1111 (00012-<seed>.png), written to a temporary name and
// renamed, so an interrupted or failed write (full disk) never leaves a half file under a real name.
// The writes are asynchronous (libuv's thread pool), so saving an image overlaps making the next one;
// callers save one file after the other (each number is the folder's next free one).
// Several processes may save into one folder at once: each writes its own temporary file and claims
// the final name exclusively (taking the next number when another process got there first).
import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class SaveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaveError';
  }
}

async function nextNumber(dir: string): Promise<number> {
  let max = 0;
  for (const name of await readdir(dir)) {
    const m = /^(\d{5,})-/.exec(name);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

const numbered = (dir: string, n: number, seed: number) => join(dir, `${String(n).padStart(5, '0')}-${seed}.png`);
const code = (error: unknown) => (error as NodeJS.ErrnoException).code;

// Gives the complete temporary file its final name, never replacing a file: link() fails with EEXIST
// when the name is taken. File systems without hard links (FAT) claim the name with an empty file
// created exclusively, then rename over it.
async function claim(partial: string, dir: string, first: number, seed: number): Promise<string> {
  for (let n = first; ; n++) {
    const path = numbered(dir, n, seed);
    try {
      await link(partial, path);
      await rm(partial, { force: true });
      return path;
    } catch (error) {
      if (code(error) === 'EEXIST') continue;
      if (code(error) !== 'EPERM' && code(error) !== 'ENOTSUP' && code(error) !== 'ENOSYS') throw error;
    }
    try {
      await (await open(path, 'wx')).close();
    } catch (error) {
      if (code(error) === 'EEXIST') continue;
      throw error;
    }
    await rename(partial, path).catch(async (error: unknown) => {
      await rm(path, { force: true });
      throw error;
    });
    return path;
  }
}

export async function savePng(dir: string, seed: number, png: Buffer): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new SaveError(`cannot create output folder ${dir}: ${code(error) ?? (error as Error).message}`);
  }
  const first = await nextNumber(dir);
  const path = numbered(dir, first, seed);
  // Unique to this process and call, and not numbered, so nextNumber never counts it.
  const partial = join(dir, `.${process.pid}-${randomUUID()}.png.partial`);
  try {
    await writeFile(partial, png);
    return await claim(partial, dir, first, seed);
  } catch (error) {
    await rm(partial, { force: true });
    const reason =
      code(error) === 'ENOSPC'
        ? 'the disk is full'
        : code(error) === 'EACCES' || code(error) === 'EPERM'
          ? 'permission denied'
          : (error as Error).message;
    throw new SaveError(`could not write ${path}: ${reason}`);
  }
}
