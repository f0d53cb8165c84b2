import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pngChunk, pngWithChunks, zTXtDeflated } from '../../tests/helpers/hostile-pngs.ts';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode, decode } from 'fast-png';
import { deflateSync } from 'node:zlib';
import {
  addTextChunks,
  MAX_CHUNKS,
  MAX_TEXT_BYTES_PER_CHUNK,
  MAX_TEXT_BYTES_TOTAL,
  MAX_TEXT_CHUNKS,
  readPngText,
  readTextChunks,
} from './text-chunks.ts';
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
  const text = formatParameters('a cat', '', [
    ['Steps', 20],
    ['Sampler', 'Euler'],
    ['Seed', 1],
    ['Skipped', undefined],
    ['Hires', 'Hires'],
  ]);
  assert.equal(text, 'a cat\nSteps: 20, Sampler: Euler, Seed: 1, Hires');
  const round = parseParameters(
    formatParameters('x, y', 'z', [
      ['Steps', 3],
      ['Restart segments', '[[3, 2, 0.06, 0.3]]'],
      ['Seed', 9],
    ]),
  );
  assert.deepEqual(round, {
    prompt: 'x, y',
    negativePrompt: 'z',
    values: { Steps: '3', 'Restart segments': '[[3, 2, 0.06, 0.3]]', Seed: '9' },
  });
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
  const seen = execFileSync(
    '/usr/bin/python3',
    [
      '-c',
      'import sys, json; from PIL import Image; im = Image.open(sys.argv[1]); im.load(); print(json.dumps(im.text))',
      join(dir, 'ours.png'),
    ],
    { encoding: 'utf8' },
  );
  assert.deepEqual(JSON.parse(seen), {
    parameters: 'un chat très mignon 猫\nSteps: 20, Sampler: Euler, Seed: 1',
    plain: 'latin-1 only: café',
  });
});

test('damaged files give clear errors', () => {
  assert.throws(() => readTextChunks(Buffer.from('GIF89a')), /not a PNG file/);
  const png = fixture('a1111-basic.png');
  assert.throws(() => readTextChunks(png.subarray(0, 60)), /truncated/);
});

test(
  'a prompt line starting with "Negative prompt:" reads back as the start of the negative prompt ' + '(as in A1111; no escape exists)',
  () => {
    // Pinned on purpose: formatParameters writes prompts unchanged so A1111 reads our files as we do.
    const values: Array<[string, string | number]> = [
      ['Steps', 20],
      ['Sampler', 'Euler'],
      ['Seed', 1],
    ];
    assert.deepEqual(parseParameters(formatParameters('a cat\nNegative prompt: dog', '', values)), {
      prompt: 'a cat',
      negativePrompt: 'dog',
      values: { Steps: '20', Sampler: 'Euler', Seed: '1' },
    });
    const both = parseParameters(formatParameters('a cat\nNegative prompt: dog', 'blurry', values));
    assert.equal(both.prompt, 'a cat');
    // A1111 takes the label off every line that starts with it, so the second one is lost too (its
    // parse_generation_parameters, run in Python 3 on this text, gives "dog\nblurry").
    assert.equal(both.negativePrompt, 'dog\nblurry');
    // Only a line that starts with it: the words inside a line are prompt text.
    assert.equal(parseParameters(formatParameters('no "Negative prompt:" here', '', values)).prompt, 'no "Negative prompt:" here');
  },
);

const MiB = 1024 * 1024;
const zTXt = (keyword: string, text: Buffer) => zTXtDeflated(keyword, deflateSync(text));
const tEXt = (keyword: string, text: Buffer) => pngChunk('tEXt', Buffer.concat([Buffer.from(`${keyword}\0`, 'latin1'), text]));
const withChunks = pngWithChunks;

test('text chunks inflating or holding past 1 MiB are ignored with a note; exactly 1 MiB is read', () => {
  // The old reader inflated any zTXt whole: 100 MiB here, then handed it to the parser.
  const bomb = withChunks([zTXt('parameters', Buffer.alloc(100 * MiB, 'a ')), tEXt('other', Buffer.from('kept'))]);
  assert.equal(readTextChunks(bomb).parameters, undefined);
  assert.deepEqual(readPngText(bomb), {
    texts: { other: 'kept' },
    ignored: ['a text chunk of this PNG inflates past 1 MiB; it was ignored'],
  });
  const plain = readPngText(withChunks([tEXt('parameters', Buffer.alloc(MiB + 1, 'x'))]));
  assert.deepEqual(plain, { texts: {}, ignored: ['a text chunk of this PNG holds more than 1 MiB; it was ignored'] });
  const exact = readPngText(withChunks([zTXt('parameters', Buffer.alloc(MAX_TEXT_BYTES_PER_CHUNK, 'y'))]));
  assert.equal(exact.texts.parameters.length, MAX_TEXT_BYTES_PER_CHUNK);
  assert.deepEqual(exact.ignored, []);
});

test('text past 4 MiB in total, past 1,000 text chunks or past 100,000 chunks is ignored with a note', () => {
  const bombs = Array.from({ length: 10 }, (_, i) => zTXt(`bomb${i}`, Buffer.alloc(2 * MiB)));
  const many = readPngText(withChunks([...bombs, tEXt('parameters', Buffer.from('late'))]));
  assert.deepEqual(many.texts, {});
  assert.deepEqual(many.ignored, [
    'a text chunk of this PNG inflates past 1 MiB; it was ignored',
    'the text chunks of this PNG hold more than 4 MiB together; the rest were ignored',
  ]);
  assert.equal(MAX_TEXT_BYTES_TOTAL, 4 * MiB);
  const flood = readPngText(
    withChunks([
      ...Array.from({ length: MAX_TEXT_CHUNKS }, (_, i) => tEXt(`k${i}`, Buffer.from('v'))),
      tEXt('parameters', Buffer.from('late')),
    ]),
  );
  assert.equal(Object.keys(flood.texts).length, MAX_TEXT_CHUNKS);
  assert.deepEqual(flood.ignored, ['this PNG has more than 1,000 text chunks; the rest were ignored']);
  const walk = readPngText(
    withChunks([...Array.from({ length: MAX_CHUNKS }, () => pngChunk('abCd', Buffer.alloc(0))), tEXt('parameters', Buffer.from('late'))]),
  );
  assert.deepEqual(walk, { texts: {}, ignored: ['this PNG has more than 100,000 chunks; the rest were not read'] });
});

test('the first readable chunk of a keyword wins, whatever the keyword', () => {
  const png = withChunks([
    zTXt('parameters', Buffer.alloc(2 * MiB)),
    tEXt('parameters', Buffer.from('second')),
    tEXt('parameters', Buffer.from('third')),
    tEXt('constructor', Buffer.from('c')),
  ]);
  // The old reader checked `keyword in {}`, so "constructor" (on Object's prototype) was never read.
  assert.deepEqual(readTextChunks(png), { parameters: 'second', constructor: 'c' });
});
