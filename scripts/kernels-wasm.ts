// The kernels' WebAssembly text to bytes, with wabt, then binaryen's inlining pass (development dependencies: the
// product ships the bytes). The module's three source files hold its fields; compiled together, wrapped in one module.
// Inlined because V8 does not inline calls between WebAssembly functions: the fp16 combine called the half conversion
// twice per four values, and took 35 us at 4x64x64 with the calls against 26 us inlined.
import wabt from 'wabt';
import binaryen from 'binaryen';

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
    return Buffer.from(inlineCalls(module.toBinary({}).buffer)).toString('base64');
  } finally {
    module.destroy();
  }
}

/** The module with every call to its small helpers ($half_of, $float_of) replaced by the helper's body. */
function inlineCalls(bytes: Uint8Array): Uint8Array {
  const module = binaryen.readBinary(bytes);
  try {
    module.setFeatures(binaryen.Features.All);
    // Both helpers are under 200 instructions; the loops that call them are not inlined anywhere.
    binaryen.setAlwaysInlineMaxSize(200);
    binaryen.setFlexibleInlineMaxSize(200);
    binaryen.setAllowInliningFunctionsWithLoops(false);
    module.runPasses(['inlining']);
    if (!module.validate()) throw new Error('binaryen: the inlined kernels do not validate');
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}
