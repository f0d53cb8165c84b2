// Which execution providers this onnxruntime build and this machine can use, told before any session
// is opened: a provider whose libraries are missing is not tried at all, so a machine without a GPU
// starts without onnxruntime's red CUDA error and Dawn's Vulkan warning on the terminal.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProvider } from './session.ts';

export interface ProviderAvailability {
  name: ExecutionProvider;
  available: boolean;
  /** Why it cannot be used here, in words a user can act on (absent when available). */
  reason?: string;
  /** Usable when chosen by name, but 'auto' passes it over, and why (WebGPU with no GPU: a software renderer). */
  notForAuto?: string;
}

/** Preference order for 'auto'; the CPU is the last resort. */
export const AUTO_ORDER: readonly ExecutionProvider[] = ['cuda', 'dml', 'coreml', 'webgpu'];

/** Every file under onnxruntime-node's bin folder (where its provider libraries are installed). */
function ortBinFiles(): Set<string> {
  const names = new Set<string>();
  try {
    const root = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin');
    const walk = (dir: string, depth: number) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory() && depth < 4) walk(join(dir, entry.name), depth + 1);
        else names.add(entry.name);
      }
    };
    walk(root, 0);
  } catch {
    // Unknown layout (a packaged app): let the session try and say why it failed.
    names.add('?');
  }
  return names;
}

/** Linux only: WebGPU (Dawn) needs the Vulkan loader; without it Dawn prints a warning and finds no adapter. */
function hasVulkanLoader(): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib/x86_64-linux-gnu',
    '/lib64',
    '/lib',
  ];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

/**
 * Linux only: whether the kernel shows a GPU (a DRM device, NVIDIA's device nodes, WSL's GPU). Without one, Vulkan can
 * only offer a software renderer (Mesa's lavapipe, installed with Mesa's Vulkan drivers on desktop distributions),
 * which Dawn accepts (Mesa 25's; it refuses Mesa 22's): the embedded model's UNet call then takes about 500 ms there
 * against 10 ms on the CPU provider. `root`: where the file system starts (tests).
 */
export function seesGpu(root = '/'): boolean {
  const listed = (dir: string, pattern: RegExp) => {
    try {
      return readdirSync(join(root, dir)).some((name) => pattern.test(name));
    } catch {
      return false;
    }
  };
  return listed('dev/dri', /^renderD\d+$/) || listed('sys/class/drm', /^card\d+$/) || listed('dev', /^(nvidia\d+|dxg)$/);
}

let cached: ProviderAvailability[] | undefined;

/** Each provider with whether it can be tried here and, if not, why. */
export function providerAvailability(): ProviderAvailability[] {
  if (cached) return cached;
  const backends = new Set(ort.listSupportedBackends().map((b) => b.name));
  const bin = ortBinFiles();
  const unknownLayout = bin.has('?');
  // A provider that works but that 'auto' should not pick, and why.
  const notForAuto = (name: ExecutionProvider): string | undefined =>
    name === 'webgpu' && process.platform === 'linux' && !seesGpu()
      ? 'no GPU is visible (no /dev/dri render node, no NVIDIA device): WebGPU would run on a software renderer, slower than the CPU'
      : undefined;
  const check = (name: ExecutionProvider): string | undefined => {
    switch (name) {
      case 'cpu':
        return undefined;
      case 'dml':
        return process.platform !== 'win32'
          ? 'DirectML is only available on Windows'
          : backends.has('dml')
            ? undefined
            : 'this onnxruntime build has no DirectML provider';
      case 'coreml':
        return process.platform !== 'darwin'
          ? 'Core ML is only available on macOS'
          : backends.has('coreml')
            ? undefined
            : 'this onnxruntime build has no Core ML provider';
      case 'cuda':
        if (process.platform === 'darwin') return 'CUDA is not available on macOS';
        if (!backends.has('cuda')) return 'this onnxruntime build has no CUDA provider';
        if (!unknownLayout && ![...bin].some((f) => /onnxruntime_providers_cuda\.(so|dll)$/.test(f))) {
          return "onnxruntime's CUDA provider library is not installed (it needs an NVIDIA GPU with the CUDA 12 runtime and cuDNN 9)";
        }
        return undefined;
      case 'webgpu':
        if (!backends.has('webgpu')) return 'this onnxruntime build has no WebGPU provider';
        if (process.platform === 'linux' && !hasVulkanLoader())
          return 'no Vulkan loader (libvulkan.so.1) is installed, so WebGPU finds no GPU';
        return undefined;
    }
  };
  cached = (['cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const).map((name) => {
    const reason = check(name);
    if (reason !== undefined) return { name, available: false, reason };
    const note = notForAuto(name);
    return note === undefined ? { name, available: true } : { name, available: true, notForAuto: note };
  });
  return cached;
}

/** One line for the terminal: the provider in use and why (said once per load by the engine host). */
export function providerLine(choice: string, provider: string, fallbacks: Array<{ provider: string; reason: string }>): string {
  const skipped =
    choice === 'auto'
      ? providerAvailability()
          .filter((p) => (!p.available || p.notForAuto) && AUTO_ORDER.includes(p.name))
          .map((p) => `${p.name}: ${p.reason ?? p.notForAuto}`)
      : [];
  const why = [...fallbacks.map((f) => `${f.provider}: ${f.reason}`), ...skipped];
  const how = choice === 'auto' ? 'auto' : `asked for ${choice}`;
  return `execution provider: ${provider} (${how}${why.length ? `; not used: ${why.join('; ')}` : ''})`;
}
