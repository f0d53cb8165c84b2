// The kernels' WebAssembly text to bytes, with wabt (a development dependency: the product ships the bytes). The
// module's three source files hold its fields; compiled together, wrapped in one module.
import wabt from 'wabt';

export const KERNEL_SOURCES = ['latent-kernels.wat', 'half-kernels.wat', 'noise-kernels.wat'].map(
  (name) => new URL(`../src-core/kernels/${name}`, import.meta.url),
);
export const KERNELS_TS = new URL('../src-core/kernels/kernels-wasm.ts', import.meta.url);

/** The module's bytes as base64, from its sources' texts. Throws with wabt's message when they do not parse or validate. */
export async function compileKernels(sources: string[]): Promise<string> {
  const compiler = await wabt();
  const module = compiler.parseWat('kernels.wat', `(module\n${sources.join('\n')})\n`, { simd: true });
  try {
    module.validate();
    return Buffer.from(module.toBinary({}).buffer).toString('base64');
  } finally {
    module.destroy();
  }
}
