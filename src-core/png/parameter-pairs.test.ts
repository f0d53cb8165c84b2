// The linear pair scanner against A1111's regex as Python runs it: the expected pairs of
// parameter-pairs.python.json come from Python's re.findall with A1111's pattern (see the note in the
// file), on hand-made lines and on random lines of the characters where Python's and JavaScript's
// regexes differ. The JavaScript regex of the same text is a check only where both agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { scanPairs } from './parameter-pairs.ts';
import { readTextChunks } from './text-chunks.ts';

const python = JSON.parse(readFileSync(new URL('./parameter-pairs.python.json', import.meta.url), 'utf8')) as {
  note: string;
  cases: Array<[string, Array<[string, string]>]>;
};

const fixture = (name: string) => readFileSync(new URL(`../../tests/fixtures/png/${name}`, import.meta.url));

test("the same pairs as A1111's regex under Python on every recorded line (keys and values unstripped)", () => {
  assert.ok(python.cases.length > 5000);
  assert.ok(python.cases.filter(([, pairs]) => pairs.length > 0).length > 2000, 'most lines have pairs');
  for (const [line, pairs] of python.cases) assert.deepEqual(scanPairs(line), pairs, JSON.stringify(line));
});

test('where Python differs from JavaScript: Unicode keys, its whitespace, untrimmed values, $ before a last newline', () => {
  const expected = new Map(python.cases);
  const check = (line: string) => {
    assert.ok(expected.has(line), `recorded: ${JSON.stringify(line)}`);
    assert.deepEqual(scanPairs(line), expected.get(line));
  };
  // Spelled out (and recorded above), so that each difference is seen to be covered.
  check('Größe: 512, Schritte: 20, Modèle: x, 模型: y, Ключ: значение');
  assert.deepEqual(scanPairs('Größe: 512, Schritte: 20, Modèle: x, 模型: y, Ключ: значение')[0], ['Größe', '512']);
  check('Steps: 20 , Sampler : Euler a ,CFG scale:  7  ');
  assert.deepEqual(scanPairs('Steps: 20 , Sampler : Euler a ,CFG scale:  7  '), [
    ['Steps', '20 '],
    ['Sampler ', 'Euler a '],
    ['CFG scale', '7  '],
  ]);
  check('\x1cSteps:\x1f20,\x85Seed:\x8512, Size:\ufeff512x512\ufeff, FE\ufeffFF: 1');
  check('Key\u00b2 Ⅻ: v, \u0661\u0662 digits: x, _u: y, 😀emoji: no, 𝐀𝐁 bold: yes, e\u0301 mark: z');
  check('Quoted end: "abc"\n');
  check('Astral after backslash: "\\𝐀", next: "\\\u{1F600}", k: v');
});

test("agrees with the JavaScript regex on the fixtures' printable ASCII lines, where the two agree", () => {
  // On these lines JavaScript's and Python's classes agree, so the old reference still applies as a sanity check.
  const PAIR = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;
  const lines: string[] = [];
  for (const name of ['a1111-basic.png', 'a1111-old-karras-ztxt.png', 'a1111-unicode-itxt.png', 'a1111-restart.png', 'fooocus.png']) {
    for (const text of Object.values(readTextChunks(fixture(name)))) lines.push(...text.split('\n'));
  }
  assert.ok(lines.length > 10);
  let withPairs = 0;
  for (const line of lines) {
    if (/[^\x20-\x7e]/.test(line)) continue;
    const js = [...line.matchAll(PAIR)].map((m) => [m[1], m[2]]);
    if (js.length > 0) withPairs++;
    assert.deepEqual(scanPairs(line), js, JSON.stringify(line));
  }
  assert.ok(withPairs >= 4, `${withPairs} lines with pairs`);
});
