// The linear pair scanner against the regex it replaces: the same pairs on the fixtures' texts,
// hand-made lines and many random lines built from the characters the regex treats specially.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isRegexSpace, scanPairs } from './parameter-pairs.ts';
import { readTextChunks } from './text-chunks.ts';

// The old parser's regex (A1111's own), kept here as the reference. Quadratic: only short lines.
const PAIR = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;
const reference = (line: string): Array<[string, string]> => [...line.matchAll(PAIR)].map((m) => [m[1].trim(), m[2].trim()]);

const fixture = (name: string) => readFileSync(new URL(`../../tests/fixtures/png/${name}`, import.meta.url));

test('isRegexSpace is exactly what \\s matches, for every UTF-16 code unit', () => {
  for (let c = 0; c < 0x10000; c++) assert.equal(isRegexSpace(c), /\s/.test(String.fromCharCode(c)), `U+${c.toString(16)}`);
});

test('the same pairs as the regex on every line of the fixtures and on hand-made lines', () => {
  const lines: string[] = [];
  for (const name of ['a1111-basic.png', 'a1111-old-karras-ztxt.png', 'a1111-unicode-itxt.png', 'a1111-restart.png', 'fooocus.png']) {
    for (const text of Object.values(readTextChunks(fixture(name)))) lines.push(...text.split('\n'));
  }
  assert.ok(lines.length > 10);
  lines.push(
    'Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 512x512',
    'Lora hashes: "detail: 123abc, style: 456def", RNG: CPU, Hires upscale: 2',
    'Restart segments: "[[3, 2, 0.06, 0.3]]", Steps: 3, Seed: 9',
    'Quoted: "a \\"b\\", c", Next: "unterminated, Last: x',
    'Escaped line breaks: "a,\\\r", Next: "b,\\\u2028", Third: "c,\\\n", Fourth: "d,\\x"',
    'Bad: "\\\n", Key: "", Empty:, : no key, x: one letter key, Ke-y/s a_1: v ,Trailing space :  v  ',
    'Multi:  spaced   value  ,Tab:\tvalue\t, NBSP:\u00a0v\u00a0, CR: v\r',
    '"quoted": x, ok-key: "a"b", z: "x""',
    'Version: v1.10.1, Hires: Hires, NFE: 6',
    'just a prompt, with commas: and a colon',
    '',
    ',,,::: ,a: b,,',
  );
  for (const line of lines) assert.deepEqual(scanPairs(line), reference(line), JSON.stringify(line));
});

test('the same pairs as the regex on 30,000 random lines of tricky characters', () => {
  const alphabet = [
    'a',
    'B',
    '7',
    '_',
    ' ',
    ' ',
    '-',
    '/',
    ':',
    ':',
    ',',
    ',',
    '"',
    '"',
    '\\',
    '\\',
    '\t',
    '\r',
    '\u00a0',
    '\u2028',
    'é',
    'x: ',
    ', k: ',
    ': "',
    '\\"',
  ];
  let seed = 20240514;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 30_000; i++) {
    let line = '';
    const length = random(40);
    for (let j = 0; j < length; j++) line += alphabet[random(alphabet.length)];
    assert.deepEqual(scanPairs(line), reference(line), JSON.stringify(line));
  }
});
