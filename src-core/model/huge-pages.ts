// Transparent huge pages for onnxruntime's large buffers on Linux. A session's weights that onnxruntime computes or
// repacks while it creates the session (a LoRA set's merged weights, the prepacked matrices: about 2 GB for an SD 1.5
// UNet) are fresh memory, and on a VM each 4 KB page fault is costly. With GLIBC_TUNABLES=glibc.malloc.hugetlb=1,
// glibc's malloc asks the kernel for 2 MB pages for its large blocks: an SD 1.5 UNet's LoRA session is made in about
// 5 CPU s instead of 9 (bench:lora). glibc reads the setting only when a process starts, so the engine's process is
// started with it. Other systems and C libraries ignore the variable.
import { spawnSync } from 'node:child_process';

const HUGE_PAGES = 'glibc.malloc.hugetlb=1';

/** `env` with glibc's huge-page tunable added to any tunables it already sets. */
export function withHugePages(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const tunables = env.GLIBC_TUNABLES ?? '';
  if (tunables.split(':').some((t) => t.startsWith('glibc.malloc.hugetlb='))) return env;
  return { ...env, GLIBC_TUNABLES: tunables ? `${tunables}:${HUGE_PAGES}` : HUGE_PAGES };
}

/**
 * For command-line tools that create large sessions themselves: on Linux, runs this same command again in a child
 * process started with huge pages and exits with its status; returns at once where that is already so (or not Linux).
 */
export function rerunWithHugePages(): void {
  if (process.platform !== 'linux' || withHugePages() === process.env) return;
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: withHugePages() });
  process.exit(child.status ?? 1);
}
