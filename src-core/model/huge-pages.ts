// glibc malloc settings for onnxruntime's large buffers on Linux. A session's weights that onnxruntime computes or
// repacks while it creates the session (a LoRA set's merged weights, the prepacked matrices: about 2 GB for an SD 1.5
// UNet) are fresh memory, and on a VM the kernel's page faults and zeroing are most of that cost. Three settings:
// - glibc.malloc.hugetlb=1: glibc asks the kernel for 2 MB pages for its large blocks (4 KB page faults were half
//   of a LoRA set's cost);
// - glibc.malloc.mmap_max=0: large blocks come from malloc's heap instead of one mmap each, so a block onnxruntime
//   frees (temporary copies while a session is made, a released session) is reused by the next allocation instead of
//   going back to the kernel and being faulted and zeroed again (SD 1.5 UNet: loading it faults 3.5 GB instead of
//   8.5, the first LoRA set 1.4 GB instead of 2.0; CPU 4.4 -> 3.1 s and 4.9 -> 4.5 s). Setting mmap_max also fixes
//   glibc's mmap threshold; with mmap_max=0 nothing is mmapped, so that does not matter.
// - glibc.malloc.trim_threshold=16 GiB: the free top of the heap is kept for the next session too, instead of being
//   given back at once (a freed block in the middle of the heap is kept anyway). The base UNet opened again after a
//   LoRA set (adapters/model-adapters.ts) needs more memory while it is made than the set's session gave back: the
//   first time 3.6-3.7 s instead of 4.9-5.4, later 2.0 s instead of 2.5 (bench:lora, two alternating pairs of runs).
//   Memory that a session gives back stays the process's; the next model's sessions reuse it.
// glibc reads the settings only when a process starts, so the engine's process is started with them. Other systems
// and C libraries ignore the variable.
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';

const TUNABLES = ['glibc.malloc.hugetlb=1', 'glibc.malloc.mmap_max=0', `glibc.malloc.trim_threshold=${16 * 2 ** 30}`];

/** `env` with glibc's malloc tunables added to any tunables it already sets (a tunable it sets itself is kept). */
export function withHugePages(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const present = (env.GLIBC_TUNABLES ?? '').split(':').filter((t) => t !== '');
  const names = new Set(present.map((t) => t.split('=')[0]));
  const missing = TUNABLES.filter((t) => !names.has(t.split('=')[0]));
  if (missing.length === 0) return env;
  return { ...env, GLIBC_TUNABLES: [...present, ...missing].join(':') };
}

/**
 * For command-line tools that create large sessions themselves: on Linux, runs this same command again in a child
 * process started with the tunables and exits with its status; resolves at once where that is already so (or not
 * Linux). Ctrl-C reaches the child from the terminal (this process only waits for it); a SIGTERM or SIGHUP sent to
 * this process is passed on.
 */
export async function rerunWithHugePages(): Promise<void> {
  if (process.platform !== 'linux' || withHugePages() === process.env) return;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: withHugePages() });
  process.on('SIGINT', () => undefined);
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((done) => {
    child.on('error', (error) => {
      console.error(`error: could not start ${process.execPath}: ${error.message}`);
      done(1);
    });
    child.on('exit', (status, signal) => done(status ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0)));
  });
  process.exit(code);
}
