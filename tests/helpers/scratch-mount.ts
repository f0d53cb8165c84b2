// A small tmpfs of its own for tests that need a real full or read-only file system (a full disk
// gives real short writes; a read-only remount gives real EROFS). Mounting needs root (or
// CAP_SYS_ADMIN); where that is missing, `skipReason` says so and the caller skips.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ScratchMount {
  dir: string;
  readOnly(): void;
  unmount(): void;
}

export function mountTmpfs(sizeBytes = 4 * 1024 * 1024): ScratchMount | { skipReason: string } {
  const dir = mkdtempSync(join(tmpdir(), 'scratch-mount-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return {
      skipReason: `cannot mount a tmpfs here (needs root): ${String((error as { stderr?: Buffer }).stderr ?? error)
        .trim()
        .slice(0, 120)}`,
    };
  }
  return {
    dir,
    readOnly: () => execFileSync('mount', ['-o', 'remount,ro', dir], { stdio: 'pipe' }),
    unmount: () => {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
