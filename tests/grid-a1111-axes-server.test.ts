// A1111's Clip skip, Var. seed and Var. strength grid axes, queued through the local server on the importer's tiny
// SD 1 checkpoint (2 CLIP layers, every hidden state written). Each cell's pixels equal a plain job.generate with that
// cell's values, so the axis really reaches the engine; cells differ where their values do. Three cells are also held
// to diffusers' StableDiffusionPipeline images (tests/fixtures/import/make_import_references.py and
// make_clip_skip_references.py): clip skip 1 and 2 at strength 0, and strength 1 (A1111's slerp ends on the variation
// seed's noise, so the image is seed 42's). A clip skip axis on an SD 2 model (which ignores it) is refused; SDXL in
// src-core/experiments/grid.test.ts; the variation rules in src-core/contract/experiments-axes.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Params } from '../src-core/contract/api.ts';
import { decodeInputImage } from '../src-core/image/decode.ts';
import { importModel } from '../src-core/import/importer.ts';
import { IMPORT_FIXTURES } from './helpers/import-fixtures.ts';
import { maxPixelDifference } from './helpers/references.ts';
import { REFERENCE_REQUEST } from './helpers/reference-request.ts';
import { withStudio, type Studio, type TestClient } from './helpers/studio.ts';

const REFERENCES = join(IMPORT_FIXTURES, 'references');
// The reference images' request (make_import_references.py): Euler, diffusers' default (normal) spacing, torch's CPU noise.
const BASE = REFERENCE_REQUEST;

interface Cell {
  xLabel: string;
  yLabel: string;
  png: Buffer;
  pixels: Buffer;
}

async function fetchPng(studio: Studio, url: string): Promise<{ png: Buffer; pixels: Buffer }> {
  const png = Buffer.from(await (await fetch(new URL(url, studio.server.url))).arrayBuffer());
  return { png, pixels: Buffer.from((await decodeInputImage(new Uint8Array(png))).data) };
}

async function runGrid(studio: Studio, client: TestClient, request: Params<'job.grid'>): Promise<Map<string, Cell>> {
  const done = client.waitFor('grid.done');
  await client.call('job.grid', request);
  const cells = new Map<string, Cell>();
  for (const c of (await done).cells)
    cells.set(`${c.x},${c.y}`, { xLabel: c.xLabel, yLabel: c.yLabel, ...(await fetchPng(studio, c.entry.url)) });
  return cells;
}

async function plain(studio: Studio, client: TestClient, request: Params<'job.generate'>): Promise<Buffer> {
  const done = client.waitFor('job.done');
  await client.call('job.generate', request);
  const entries = (await done).entries;
  assert.equal(entries.length, 1);
  return (await fetchPng(studio, entries[0].url)).pixels;
}

test('Clip skip, Var. seed and Var. strength grid cells are the plain generations with those values', async () => {
  const work = mkdtempSync(join(tmpdir(), 'grid-a1111-axes-'));
  try {
    const model = join(work, 'sd1');
    await importModel(join(IMPORT_FIXTURES, 'sd1', 'sd1-ldm-fp32.safetensors'), {
      out: model,
      config: join(IMPORT_FIXTURES, 'sd1', 'diffusers'),
    });
    await withStudio(model, async (studio, client) => {
      // Columns: clip skip 1, 2; rows: variation strength 0, 0.5, 1 towards variation seed 42.
      const strengths = [0, 0.5, 1];
      const grid = await runGrid(studio, client, {
        base: { ...BASE, variationSeed: 42 },
        x: { kind: 'clipSkip', values: [1, 2] },
        y: { kind: 'variationStrength', values: strengths },
      });
      assert.equal(grid.size, 6);
      assert.deepEqual([grid.get('1,0')!.xLabel, grid.get('1,2')!.yLabel], ['Clip skip: 2', 'Var. strength: 1']);
      for (const [key, cell] of grid) {
        const [x, y] = key.split(',').map(Number);
        const request = { ...BASE, clipSkip: x + 1, variationSeed: 42, variationStrength: strengths[y] };
        assert.ok(cell.pixels.equals(await plain(studio, client, request)), `cell ${key} is the plain generation`);
      }
      const differ = (a: string, b: string) => assert.ok(!grid.get(a)!.pixels.equals(grid.get(b)!.pixels), `cells ${a} and ${b} differ`);
      for (const y of [0, 1, 2]) differ(`0,${y}`, `1,${y}`);
      for (const x of [0, 1]) [`${x},0`, `${x},1`, `${x},2`].forEach((a, i, all) => differ(a, all[(i + 1) % 3]));
      // diffusers' own images: the axis values are the ones the references were made with.
      const against = (key: string, file: string) => {
        const difference = maxPixelDifference(grid.get(key)!.png, join(REFERENCES, file));
        assert.ok(difference <= 1, `cell ${key} vs ${file}: ${difference}/255`);
      };
      against('0,0', 'sd1-euler-seed7.png');
      against('1,0', 'sd1-clipskip2-euler-seed7.png');
      against('0,2', 'sd1-euler-seed42.png');

      // Columns: variation seeds at strength 0.5 and clip skip 2 from the base; seed 42's cell is the first grid's.
      const seeds = await runGrid(studio, client, {
        base: { ...BASE, clipSkip: 2, variationSeed: 1, variationStrength: 0.5 },
        x: { kind: 'variationSeed', values: [42, 43] },
      });
      assert.deepEqual([seeds.get('0,0')!.xLabel, seeds.get('1,0')!.xLabel], ['Var. seed: 42', 'Var. seed: 43']);
      assert.ok(seeds.get('0,0')!.pixels.equals(grid.get('1,1')!.pixels), 'variation seed 42 at 0.5, clip skip 2');
      const seed43 = { ...BASE, clipSkip: 2, variationSeed: 43, variationStrength: 0.5 };
      assert.ok(seeds.get('1,0')!.pixels.equals(await plain(studio, client, seed43)), 'variation seed 43 is the plain generation');
      assert.ok(!seeds.get('0,0')!.pixels.equals(seeds.get('1,0')!.pixels), 'the two variation seeds differ');

      // Refused before queueing, in words: a variation-seed axis that would vary nothing.
      await assert.rejects(
        client.call('job.grid', { base: BASE, x: { kind: 'variationSeed', values: [1, 2] } }),
        /a variation-seed axis changes nothing at variation strength 0/,
      );
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a Clip skip axis on an SD 2 model (which ignores Clip skip, as in A1111) is refused before queueing', async () => {
  const work = mkdtempSync(join(tmpdir(), 'grid-a1111-axes-'));
  try {
    const model = join(work, 'sd2');
    await importModel(join(IMPORT_FIXTURES, 'sd2', 'diffusers'), { out: model });
    await withStudio(model, async (_studio, client) => {
      await assert.rejects(
        client.call('job.grid', { base: BASE, x: { kind: 'clipSkip', values: [1, 2] } }),
        /a Clip skip axis would make the same image in every cell: .* is an SD 2\.x model \(OpenCLIP text encoder\)/,
      );
      assert.deepEqual(await client.call('gallery.list', {}), [], 'nothing was made');
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
