// float32 <-> half bit patterns in the kernels' module (to_half, from_half in half-kernels.wat), four lanes at a
// time, in an instance of its own, for model/half.ts (which keeps its loops for short arrays and as the reference):
// fp16 text encoders and VAEs, a UNet call given float32, and the importer's fp16 weights. At 2 x 4x64x64 values the
// loops took 166 + 46 us each way; an fp16 UNet's steps now skip float32 altogether (scaleInput and combineGuidance
// write and read its half bit patterns, kernels/latent-kernels.ts).
import { kernelInstance, reserveBytes } from './instance.ts';

/** Values per call into the module: longer arrays (a checkpoint's weights) go through in chunks of this many. */
const CHUNK = 65536;
/** Two regions of CHUNK float32 each: the input at 0, the output after it (halves use the first half of theirs). */
const OUTPUT = 4 * CHUNK;

const kernels = kernelInstance();
reserveBytes(kernels, 2 * OUTPUT); // fixed from here on: the views below never detach
const memory = kernels.memory.buffer;
const floatsIn = new Float32Array(memory, 0, CHUNK),
  halvesIn = new Uint16Array(memory, 0, CHUNK),
  floatsOut = new Float32Array(memory, OUTPUT, CHUNK),
  halvesOut = new Uint16Array(memory, OUTPUT, CHUNK);

// Views of one length, kept while calls pass that length (a run converts the same size at every step): a typed array
// made per call costs microseconds once the CPU has been idle.
let viewLength = CHUNK,
  floatsOutView = floatsOut,
  halvesOutView = halvesOut;
function viewsOf(length: number): void {
  if (length === viewLength) return;
  viewLength = length;
  floatsOutView = floatsOut.subarray(0, length);
  halvesOutView = halvesOut.subarray(0, length);
}

/** `input` through a conversion into `out`, a chunk at a time: in at offset 0, `convert`, out from OUTPUT. */
function inChunks<I extends Float32Array | Uint16Array, O extends Float32Array | Uint16Array>(
  input: I,
  out: O,
  into: I,
  convert: (out: number, input: number, count: number) => void,
  result: () => O,
): void {
  const n = input.length;
  for (let start = 0; start < n; start += CHUNK) {
    const length = Math.min(CHUNK, n - start);
    into.set(length === n ? input : input.subarray(start, start + length));
    convert(OUTPUT, 0, length);
    viewsOf(length);
    out.set(result(), start);
  }
}

/** out = the half bit patterns of `values` (same length). */
export function toHalfKernel(values: Float32Array, out: Uint16Array): void {
  inChunks(values, out, floatsIn, kernels.to_half, () => halvesOutView);
}

/** out = the float32 values of the half bit patterns `bits` (same length). */
export function fromHalfKernel(bits: Uint16Array, out: Float32Array): void {
  inChunks(bits, out, halvesIn, kernels.from_half, () => floatsOutView);
}
