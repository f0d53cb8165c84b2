import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode, decode } from 'fast-png';
import { addTextChunks, readTextChunks } from './text-chunks.ts';
import { formatParameters, parseParameters, quoteValue } from './parameters.ts';

const fixture = (name: string) => readFileSync(new URL(`../../tests/fixtures/png/${name}`, import.meta.url));

test('reads the parameters of PNGs written by Pillow as A1111 writes them: tEXt, iTXt and zTXt', () => {
  const basic = readTextChunks(fixture('a1111-basic.png'));
  assert.match(basic.parameters, /^a photo of a cat, masterpiece\nNegative prompt: blurry, lowres\nSteps: 28/);
  const unicode = readTextChunks(fixture('a1111-unicode-itxt.png'));
  assert.match(unicode.parameters, /^un chat très mignon, 猫, 🐱\n/);
  const zipped = readTextChunks(fixture('a1111-old-karras-ztxt.png'));
  assert.match(zipped.parameters, /Sampler: DPM\+\+ 2M Karras/);
  assert.equal(readTextChunks(fixture('fooocus.png')).fooocus_scheme, 'a1111');
});

test('parses A1111 parameters the way A1111 does', () => {
  const parsed = parseParameters(readTextChunks(fixture('a1111-basic.png')).parameters);
  assert.equal(parsed.prompt, 'a photo of a cat, masterpiece');
  assert.equal(parsed.negativePrompt, 'blurry, lowres');
  assert.equal(parsed.values.Steps, '28');
  assert.equal(parsed.values['Schedule type'], 'Karras');
  assert.equal(parsed.values['Model hash'], '6ce0161689');
  const multi = parseParameters(readTextChunks(fixture('a1111-old-karras-ztxt.png')).parameters);
  assert.equal(multi.prompt, 'a red circle\non a blue background');
  assert.equal(multi.negativePrompt, 'ugly\nextra line of negative');
  const quoted = parseParameters(readTextChunks(fixture('a1111-unicode-itxt.png')).parameters);
  assert.equal(quoted.values['Lora hashes'], 'detail: 123abc, style: 456def');
  assert.equal(quoted.values.RNG, 'CPU');
  // A last line with fewer than 3 pairs is part of the prompt.
  const short = parseParameters('a cat\nStyle: dark, Mood: calm');
  assert.equal(short.prompt, 'a cat\nStyle: dark, Mood: calm');
  assert.deepEqual(short.values, {});
});

test('formats parameters as A1111 does, quoting only values with commas, colons or newlines', () => {
  assert.equal(quoteValue('Euler a'), 'Euler a');
  assert.equal(quoteValue('[[3, 2, 0.06, 0.3]]'), '"[[3, 2, 0.06, 0.3]]"');
  assert.equal(quoteValue('a:b'), '"a:b"');
  const text = formatParameters('a cat', '', [['Steps', 20], ['Sampler', 'Euler'], ['Seed', 1], ['Skipped', undefined], ['Hires', 'Hires']]);
  assert.equal(text, 'a cat\nSteps: 20, Sampler: Euler, Seed: 1, Hires');
  const round = parseParameters(formatParameters('x, y', 'z', [['Steps', 3], ['Restart segments', '[[3, 2, 0.06, 0.3]]'], ['Seed', 9]]));
  assert.deepEqual(round, { prompt: 'x, y', negativePrompt: 'z', values: { Steps: '3', 'Restart segments': '[[3, 2, 0.06, 0.3]]', Seed: '9' } });
});

test('written text chunks are read back by Pillow (tEXt for Latin-1, iTXt for other text) and the pixels stay intact', () => {
  const pixels = new Uint8Array(4 * 4 * 4).map((_, i) => (i * 37) % 256);
  const png = addTextChunks(Buffer.from(encode({ width: 4, height: 4, data: pixels, channels: 4, depth: 8 })), {
    parameters: 'un chat très mignon 猫\nSteps: 20, Sampler: Euler, Seed: 1',
    plain: 'latin-1 only: café',
  });
  assert.deepEqual(decode(png).data, pixels);
  assert.equal(readTextChunks(png).parameters, 'un chat très mignon 猫\nSteps: 20, Sampler: Euler, Seed: 1');
  const dir = mkdtempSync(join(tmpdir(), 'png-'));
  writeFileSync(join(dir, 'ours.png'), png);
  const seen = execFileSync('/usr/bin/python3', ['-c', 'import sys, json; from PIL import Image; im = Image.open(sys.argv[1]); im.load(); print(json.dumps(im.text))', join(dir, 'ours.png')], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(seen), { parameters: 'un chat très mignon 猫\nSteps: 20, Sampler: Euler, Seed: 1', plain: 'latin-1 only: café' });
});

test('damaged files give clear errors', () => {
  assert.throws(() => readTextChunks(Buffer.from('GIF89a')), /not a PNG file/);
  const png = fixture('a1111-basic.png');
  assert.throws(() => readTextChunks(png.subarray(0, 60)), /truncated/);
});
