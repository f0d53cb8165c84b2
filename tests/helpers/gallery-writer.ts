// Child process for the durability test: adds images to a gallery as fast as it can and prints
// each id once its add() returned. The parent kills it at a random moment.
import { encode } from 'fast-png';
import { Gallery } from '../../electron/gallery.ts';
import { addTextChunks } from '../../src-core/png/text-chunks.ts';

const gallery = new Gallery(process.argv[2]);
for (let seed = Number(process.argv[3]); ; seed++) {
  const pixels = new Uint8Array(64 * 64 * 4).fill(seed % 256);
  const parameters = `shape ${seed}\nSteps: 1, Sampler: Euler, Seed: ${seed}, Size: 64x64, NFE: 1`;
  const png = addTextChunks(Buffer.from(encode({ width: 64, height: 64, data: pixels, channels: 4 })), { parameters });
  const [entry] = gallery.add([{ seed, width: 64, height: 64, parameters, png }], { evaluations: 1, seconds: 0 });
  process.stdout.write(`written ${entry.id}\n`);
}
