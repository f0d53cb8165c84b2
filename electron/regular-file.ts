// Reading a file the app stores (a gallery image, an uploaded img2img source) without following links.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/** A regular file's bytes, opened without following links; undefined for anything else (absent, a link, a folder). */
export function readRegularFile(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    // O_NOFOLLOW closes the gap between a caller's lstat and the open (absent on Windows: 0).
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    if (!fstatSync(fd).isFile()) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
