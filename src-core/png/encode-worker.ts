// The worker thread behind encode-thread.ts: one decoded image per message, to the PNG file's bytes.
import { parentPort } from 'node:worker_threads';
import { toPngRows } from '../image/pixels.ts';
import { encodePngRows } from './encode.ts';

export interface PngEncodeJob {
  id: number;
  /** [3, H, W] floats in [-1, 1]: the VAE's output for one image. */
  pixels: Float32Array;
  width: number;
  height: number;
  text: Record<string, string>;
}
export type PngEncodeReply = { id: number; png: Uint8Array } | { id: number; error: string } | { ready: true };

const port = parentPort;
if (!port) throw new Error('encode-worker must run as a worker thread');
// Images are encoded at once (their deflates share libuv's pool), each answered when its file is made.
port.on('message', async ({ id, pixels, width, height, text }: PngEncodeJob) => {
  try {
    const png = await encodePngRows(toPngRows(pixels, width, height), width, height, text);
    // A file that has its memory to itself is handed over; a small one may sit in Node's shared pool: copied.
    const own = png.byteOffset === 0 && png.byteLength === png.buffer.byteLength;
    port.postMessage({ id, png } satisfies PngEncodeReply, own ? [png.buffer as ArrayBuffer] : []);
  } catch (error) {
    port.postMessage({ id, error: (error as Error).message } satisfies PngEncodeReply);
  }
});
port.postMessage({ ready: true } satisfies PngEncodeReply);
