// The kernels' WebAssembly text to bytes, with wabt (a development dependency: the product ships the bytes).
import wabt from 'wabt';

export const KERNELS_WAT = new URL('../src-core/kernels/latent-kernels.wat', import.meta.url);
export const KERNELS_TS = new URL('../src-core/kernels/latent-kernels-wasm.ts', import.meta.url);

/** The module's bytes as base64. Throws with wabt's message when the text does not parse or validate. */
export async function compileKernels(wat: string): Promise<string> {
  const compiler = await wabt();
  const module = compiler.parseWat('latent-kernels.wat', wat, { simd: true });
  try {
    module.validate();
    return Buffer.from(module.toBinary({}).buffer).toString('base64');
  } finally {
    module.destroy();
  }
}
