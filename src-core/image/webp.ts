// WebP decoding with libwebp compiled to WebAssembly (@jsquash/webp). Its WebAssembly module is read from
// the package's own file and compiled once, so nothing is fetched at run time.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import decode, { init } from '@jsquash/webp/decode.js';
import { ImageInputError } from './header.ts';

let ready: Promise<void> | undefined;

function initOnce(): Promise<void> {
  ready ??= (async () => {
    // The Electron build bundles this file as CommonJS, where import.meta.url is empty but require exists.
    const resolver = typeof require === 'function' ? require : createRequire(import.meta.url);
    const wasmPath = resolver.resolve('@jsquash/webp/codec/dec/webp_dec.wasm');
    // init() also takes a compiled module (its typings list only the options form); this project's type
    // libraries leave WebAssembly out, so it is reached through globalThis.
    const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<unknown> } }).WebAssembly;
    await (init as unknown as (module: unknown) => Promise<void>)(await wasm.compile(readFileSync(wasmPath)));
  })();
  return ready;
}

export async function decodeWebp(bytes: Uint8Array): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  await initOnce();
  try {
    // The decoder takes an ArrayBuffer of exactly the file.
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const image = await decode(buffer);
    return { width: image.width, height: image.height, data: image.data };
  } catch (error) {
    throw new ImageInputError(`this WebP file cannot be decoded (${(error as Error).message})`);
  }
}
