// Writing generated PNGs: numbered like A1111 (00012-<seed>.png), written to a temporary name and
// renamed, so an interrupted or failed write (full disk) never leaves a half file under a real name.
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class SaveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaveError';
  }
}

function nextNumber(dir: string): number {
  let max = 0;
  for (const name of readdirSync(dir)) {
    const m = /^(\d{5,})-/.exec(name);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

export function savePng(dir: string, seed: number, png: Buffer): string {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new SaveError(`cannot create output folder ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const path = join(dir, `${String(nextNumber(dir)).padStart(5, '0')}-${seed}.png`);
  const partial = `${path}.partial`;
  try {
    writeFileSync(partial, png);
    renameSync(partial, path);
  } catch (error) {
    rmSync(partial, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (error as Error).message;
    throw new SaveError(`could not write ${path}: ${reason}`);
  }
  return path;
}
