// The engine's PNG encoder thread (src-core/png/encode-thread.ts): the same files as the main thread makes, none lost
// when the thread dies with images in flight, and the bundled worker (as the app ships it) starts and answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  encodeImagePng,
  encodeOnMainThread,
  pngThreadRunning,
  startPngThread,
  stopPngThreadForTest,
} from '../src-core/png/encode-thread.ts';
import { runBundled, sourceOf } from './helpers/bundled-worker.ts';

const ROOT = join(import.meta.dirname, '..');

/** A decoded image's floats: smooth bands with some values past [-1, 1], as a VAE gives. */
function pixels(width: number, height: number, seed: number): Float32Array {
  return Float32Array.from({ length: 3 * width * height }, (_, i) => 1.1 * Math.sin(i * 0.013 * seed + seed));
}
const SIZES = [
  [64, 64],
  [3, 2], // a file small enough to sit in Node's shared buffer pool
  [100, 37],
  [600, 400], // scanlines deflated in four pieces (png/encode.ts)
] as const;
const text = (k: number) => ({ parameters: `a red circle\nSteps: 20, Seed: ${k}` });

test('the thread makes the same files as the main thread, many at once', async () => {
  await startPngThread();
  assert.ok(pngThreadRunning(), 'the thread started');
  const jobs = SIZES.flatMap(([w, h], k) => [0, 1, 2].map((j) => ({ w, h, image: pixels(w, h, k * 3 + j + 1), text: text(k * 3 + j) })));
  const threaded = await Promise.all(jobs.map((j) => encodeImagePng(j.image, j.w, j.h, j.text)));
  for (const [i, j] of jobs.entries()) {
    assert.deepEqual(threaded[i], await encodeOnMainThread(j.image, j.w, j.h, j.text), `${j.w}x${j.h} image ${i}`);
  }
  assert.equal(jobs[0].image[0], pixels(64, 64, 1)[0], "the caller's pixels stay as they were");
  await assert.rejects(encodeImagePng(new Float32Array(5), 2, 2, {}), /5 values are not a 2x2 image's 3 planes/);
});

test('images in flight when the thread dies are finished on the main thread, and so are later ones', async () => {
  await startPngThread();
  const images = [1, 2, 3, 4, 5, 6].map((k) => pixels(256, 256, k)); // some ms each: still in flight at the end
  const inFlight = images.map((image, k) => encodeImagePng(image, 256, 256, text(k)));
  await stopPngThreadForTest();
  const files = await Promise.all(inFlight);
  for (const [k, png] of files.entries()) assert.deepEqual(png, await encodeOnMainThread(images[k], 256, 256, text(k)), `image ${k}`);
  assert.equal(pngThreadRunning(), false);
  assert.deepEqual(await encodeImagePng(images[0], 256, 256, text(0)), files[0]);
});

test('the bundled worker starts beside the bundle that uses it, and an idle thread lets the process end', async () => {
  const run = await runBundled(
    `import { startPngThread, encodeImagePng, pngThreadRunning } from ${sourceOf('src-core/png/encode-thread.ts')};\n` +
      `const image = Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => 1.1 * Math.sin(i * 0.013 + 1));\n` +
      `startPngThread().then(async () => {\n` +
      `  const png = await encodeImagePng(image, 64, 64, { parameters: 'bundled' });\n` +
      `  console.log(JSON.stringify({ running: pngThreadRunning(), png: png.toString('base64') }));\n` +
      `});\n`,
    { entry: 'src-core/png/encode-worker.ts', bundled: 'png-encode-worker.cjs' },
  );
  assert.equal(run.status, 0, `the process ended by itself: ${run.stderr} ${run.signal ?? ''}`);
  const out = JSON.parse(run.stdout) as { running: boolean; png: string };
  assert.equal(out.running, true, 'the bundled thread started');
  const image = Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => 1.1 * Math.sin(i * 0.013 + 1));
  const expected = await encodeOnMainThread(image, 64, 64, { parameters: 'bundled' });
  assert.equal(
    createHash('sha256').update(Buffer.from(out.png, 'base64')).digest('hex'),
    createHash('sha256').update(expected).digest('hex'),
  );
});

test('a process that starts the thread and has nothing else to do ends once the thread is up', () => {
  const code =
    `import { startPngThread, pngThreadRunning } from ${JSON.stringify(join(ROOT, 'src-core/png/encode-thread.ts'))};\n` +
    `void startPngThread().then(() => console.log(pngThreadRunning()));\n`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: ROOT,
  });
  assert.equal(run.status, 0, `${run.stderr} ${run.signal ?? ''}`);
  assert.equal(run.stdout.trim(), 'true', 'it waited for the thread to start');
});
