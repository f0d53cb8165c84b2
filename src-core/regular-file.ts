// One check, in one wording, for paths that must be regular files before they are read: a folder, a named pipe (whose
// first read waits until something writes to it), a device such as /dev/zero (which never ends) or a socket is refused
// with what it is. Callers with an error class of their own pass `as`, which builds it from this error.
import { closeSync, constants, fstatSync, openSync, statSync, type Stats } from 'node:fs';

/** What the path is instead, as the message says it. */
export type NonRegularKind = 'a folder' | 'a named pipe (FIFO)' | 'a device' | 'a socket' | 'a special file';

/** "`label` is a folder / a named pipe (FIFO) / ..., not a regular file": the one error (and wording) for such paths. */
export class NotRegularFileError extends Error {
  constructor(
    readonly label: string,
    readonly kind: NonRegularKind,
    folderAllowed = false,
  ) {
    super(`${label} is ${kind}, not a regular file${folderAllowed ? ' or folder' : ''}`);
    this.name = 'NotRegularFileError';
  }

  get isFolder(): boolean {
    return this.kind === 'a folder';
  }
}

export interface RegularFileOptions {
  /** How the message names the path (default: the path itself). */
  label?: string;
  /** Whether a folder is accepted too (the message then says "not a regular file or folder"). */
  folderOk?: boolean;
  /** Builds the caller's own error from this one (its message is this one's, with or without more words). */
  as?: (error: NotRegularFileError) => Error;
}

function kindOf(stat: Stats): NonRegularKind {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return stat.isSocket() ? 'a socket' : 'a special file';
}

function refusal(path: string, kind: NonRegularKind, options: RegularFileOptions): Error {
  const error = new NotRegularFileError(options.label ?? path, kind, options.folderOk);
  return options.as ? options.as(error) : error;
}

/** Throws unless `stat` (of `path`) is a regular file, or a folder where that is allowed. */
export function requireRegularFile(path: string, stat: Stats, options: RegularFileOptions = {}): void {
  if (stat.isFile() || (options.folderOk && stat.isDirectory())) return;
  throw refusal(path, kindOf(stat), options);
}

/** The path's stat (links followed), after requireRegularFile; fs errors (ENOENT...) are thrown as they are. */
export function statRegularFile(path: string, options: RegularFileOptions = {}): Stats {
  const stat = statSync(path);
  requireRegularFile(path, stat, options);
  return stat;
}

/**
 * Opens a regular file for reading: the descriptor and its stat. The open does not wait on a named pipe
 * (O_NONBLOCK; absent on Windows, where it is 0), and what it opened is checked, so no check-then-open gap.
 * Anything else is closed again and refused; fs errors (ENOENT, EACCES...) are thrown as they are.
 */
export function openRegularFile(path: string, options: Omit<RegularFileOptions, 'folderOk'> = {}): { fd: number; stat: Stats } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    // Linux opens a folder and fails only at the first read; other systems refuse the open.
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw refusal(path, 'a folder', options);
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    requireRegularFile(path, stat, options);
    return { fd, stat };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}
