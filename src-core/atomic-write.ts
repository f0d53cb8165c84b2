// Durable file writes: write everything to a temporary name, flush, check, then rename into place.
// A crash at any moment leaves either the old or the new complete file; a full disk leaves the old
// file and a clear error, never a truncated new one (writeSync may write fewer bytes than asked).
import { closeSync, fstatSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';

export interface WriteOps {
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number;
}

const nodeOps: WriteOps = { writeSync: (fd, data, offset, length) => writeSync(fd, data, offset, length) };

/** Writes all of `data` or throws; a write that makes no progress is a full disk. */
export function writeAll(fd: number, data: Uint8Array, ops: WriteOps = nodeOps): void {
  let offset = 0;
  while (offset < data.length) {
    const written = ops.writeSync(fd, data, offset, data.length - offset);
    if (written <= 0) throw Object.assign(new Error('no space left on device (a write made no progress)'), { code: 'ENOSPC' });
    offset += written;
  }
}

/** Temp file, write all, fsync, size check, rename, fsync of the folder. */
export function writeFileAtomic(path: string, content: Uint8Array | string, ops: WriteOps = nodeOps): void {
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w');
  try {
    writeAll(fd, data, ops);
    fsyncSync(fd);
    const size = fstatSync(fd).size;
    if (size !== data.length) throw new Error(`the file ${temp} holds ${size} bytes after writing ${data.length}`);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  try {
    const dirFd = openSync(resolve(path, '..'), 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  }
}

/** A file-system error in words a user can act on. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOSPC':
      return 'the disk is full';
    case 'EROFS':
      return 'the data folder is on a read-only file system';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (the data folder is not writable)';
    case 'EISDIR':
      return 'a folder stands where a file was expected';
    case 'EDQUOT':
      return 'the disk quota is exceeded';
    default:
      return (error as Error).message;
  }
}
