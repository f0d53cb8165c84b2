// Gallery durability: a writer is killed at random moments, many times; after each kill the
// gallery loads and lists every image whose write completed, and only complete images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { Gallery } from '../electron/gallery.ts';
import { readTextChunks } from '../src-core/png/text-chunks.ts';

const KILLS = Number(process.env.GALLERY_KILLS ?? 12);

function runAndKill(dir: string, firstSeed: number, afterMs: number): Promise<string[]> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/helpers/gallery-writer.ts', dir, String(firstSeed)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d) => {
      out += d;
      // Start the clock once the writer is writing, then kill it at a random moment.
      timer ??= setTimeout(() => child.kill('SIGKILL'), afterMs);
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve([...out.matchAll(/written (\S+)/g)].map((m) => m[1]));
    });
  });
}

test(`the gallery survives ${KILLS} kills of its writer at random moments`, { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gallery-kill-'));
  const confirmed: string[] = [];
  let random = 12345;
  const nextRandom = () => (random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < KILLS; i++) {
    confirmed.push(...(await runAndKill(dir, 1000 * (i + 1), Math.floor(nextRandom() * 40))));
    const gallery = new Gallery(dir);
    const listed = gallery.list().map((e) => e.id);
    for (const id of confirmed) assert.ok(listed.includes(id), `kill ${i + 1}: ${id} was written but is not listed`);
    for (const entry of gallery.list()) {
      const png = readFileSync(join(dir, 'images', entry.id));
      assert.equal(decode(png).width, 64, `kill ${i + 1}: ${entry.id} is not a complete image`);
      assert.match(readTextChunks(png).parameters, new RegExp(`Seed: ${entry.seed}`));
    }
    assert.deepEqual(
      readdirSync(join(dir, 'images')).filter((n) => !listed.includes(n)),
      [],
      'no stray or partial files remain',
    );
  }
  assert.ok(confirmed.length > KILLS, `the writer wrote ${confirmed.length} images in all`);
});

test('an unreadable index is rebuilt from the images themselves', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gallery-index-'));
  const gallery = new Gallery(dir);
  const png = readFileSync(new URL('./fixtures/png/a1111-basic.png', import.meta.url));
  gallery.add([{ seed: 3456789012, width: 512, height: 768, parameters: readTextChunks(png).parameters, png }], {
    evaluations: 28,
    seconds: 1,
  });
  writeFileSync(join(dir, 'index.json'), '{"entries": [ truncated');
  const reloaded = new Gallery(dir).list();
  assert.equal(reloaded.length, 1);
  assert.equal(reloaded[0].seed, 3456789012);
  assert.equal(reloaded[0].width, 512);
  assert.equal(reloaded[0].height, 768);
});
