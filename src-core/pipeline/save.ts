// Writing generated PNGs: numbered like A1111 (00012-<seed>.png), written to a temporary name and
// renamed, so an interrupted or failed write (full disk) never leaves a half file under a real name.
// The writes are asynchronous (libuv's thread pool), so saving an image overlaps making the next one;
// callers save one file after the other (each number is the folder's next free one).
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
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

export async function savePng(dir: string, seed: number, png: Buffer): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new SaveError(`cannot create output folder ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const path = join(dir, `${String(await nextNumber(dir)).padStart(5, '0')}-${seed}.png`);
  const partial = `${path}.partial`;
  try {
    await writeFile(partial, png);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (error as Error).message;
    throw new SaveError(`could not write ${path}: ${reason}`);
  }
  return path;
}
