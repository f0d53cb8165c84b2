// Prompt editing in a Compare grid and an Explore sweep, queued through the local server on the embedded model: each
// cell or point is compared, pixel for pixel, with the same job run on plain prompts. Expected values from A1111's
// rules (prompt_parser.get_learned_conditioning_prompt_schedules, CFGDenoiser counting evaluations from 0):
// `[A:B:3]` of 4 Euler steps is A at evaluations 0..3, all of them (A's image exactly); of 8 steps it switches after
// evaluation 3 (neither image); `[A:B:0]` is B throughout. The grid's cells share one encoding cache across steps
// and prompts (grid.ts), which must not hand one cell's schedule to another.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { decodeInputImage } from '../src-core/image/decode.ts';
import { withStudio, type Studio } from './helpers/studio.ts';

const EMBEDDED = fileURLToPath(new URL('../models/restart-shapes-64/', import.meta.url));
const RED = 'a red circle on a blue background';
const SQUARE = 'a yellow square on a green background';

async function pixels(studio: Studio, url: string): Promise<Buffer> {
  const png = new Uint8Array(await (await fetch(new URL(url, studio.server.url))).arrayBuffer());
  return Buffer.from((await decodeInputImage(png)).data);
}

test('a Compare grid (prompt S/R x steps) and an Explore sweep whose prompt has an edit', async () => {
  await withStudio(EMBEDDED, async (studio, client) => {
    const grid = async (prompt: string, srValues: string[]) => {
      const done = client.waitFor('grid.done');
      await client.call('job.grid', {
        base: { prompt, negativePrompt: 'blurry', seed: 3, steps: 4, cfgScale: 6 },
        x: { kind: 'promptSR', values: srValues },
        y: { kind: 'steps', values: [4, 8] },
      });
      const cells = (await done).cells;
      const out = new Map<string, Buffer>();
      for (const c of cells) out.set(`${c.x},${c.y}`, await pixels(studio, c.entry.url));
      return out;
    };
    // Plain prompts: x 0 is RED, x 1 SQUARE; y 0 is 4 steps, y 1 is 8.
    const plain = await grid(RED, [RED, SQUARE]);
    const edited = await grid(`[${RED}:${SQUARE}:3]`, [':3]', ':0]']);
    assert.ok(edited.get('0,0')!.equals(plain.get('0,0')!), '[A:B:3] of 4 steps is A');
    assert.ok(!edited.get('0,1')!.equals(plain.get('0,1')!) && !edited.get('0,1')!.equals(plain.get('1,1')!), '[A:B:3] of 8 steps');
    assert.ok(edited.get('1,0')!.equals(plain.get('1,0')!), '[A:B:0] of 4 steps is B');
    assert.ok(edited.get('1,1')!.equals(plain.get('1,1')!), '[A:B:0] of 8 steps is B');

    const sweep = async (prompt: string, negativePrompt = 'blurry') => {
      const done = client.waitFor('sweep.done');
      await client.call('job.sweep', { prompt, negativePrompt, samplers: ['euler'], cfgScales: [1, 6], seeds: 2, steps: 4 });
      const images: Buffer[] = [];
      for (const point of (await done).points) for (const entry of point.entries) images.push(await pixels(studio, entry.url));
      return images;
    };
    const plainSweep = await sweep(RED);
    assert.equal(plainSweep.length, 4);
    const late = await sweep(`[${RED}:${SQUARE}:3]`, `[blurry:${SQUARE}:3]`);
    assert.ok(
      late.every((image, i) => image.equals(plainSweep[i])),
      'an edit past the last evaluation: the plain sweep exactly',
    );
    const early = await sweep(`[${RED}:${SQUARE}:1]`);
    assert.ok(
      early.every((image, i) => !image.equals(plainSweep[i])),
      'an edit after evaluation 1 changes every image',
    );
    // CFG 1 is unguided (the negative prompt unused): an edit there alone leaves those images as they were.
    const negativeOnly = await sweep(RED, `[blurry:${SQUARE}:1]`);
    assert.deepEqual(
      negativeOnly.map((image, i) => image.equals(plainSweep[i])),
      [true, true, false, false],
    );
  });
});
