// The worker thread behind png.read (started by png-read.ts): reads one PNG per message.
import { parentPort } from 'node:worker_threads';
import { pngToRequest } from '../src-core/pipeline/png-import.ts';

export interface PngReadJob {
  id: number;
  bytes: Uint8Array;
}
export type PngReadReply = { id: number; result: ReturnType<typeof pngToRequest> } | { id: number; error: string } | { ready: true };

const port = parentPort;
if (!port) throw new Error('png-read-worker must run as a worker thread');
port.on('message', ({ id, bytes }: PngReadJob) => {
  let reply: PngReadReply;
  try {
    reply = { id, result: pngToRequest(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) };
  } catch (error) {
    reply = { id, error: (error as Error).message };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true } satisfies PngReadReply);
