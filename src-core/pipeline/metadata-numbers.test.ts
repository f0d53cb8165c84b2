// Number fields of a PNG's parameters are read as A1111 reads them: with Python's float() (int() for Clip skip),
// not JavaScript's Number(). Every expected value comes from Python itself: python-numbers.json records what
// float() and int() made of each string (see its note), and what A1111's size regex made of some sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parametersToRequest } from './metadata.ts';
import { pythonFloat, pythonInt } from './python-numbers.ts';

const python = JSON.parse(readFileSync(new URL('./python-numbers.json', import.meta.url), 'utf8')) as {
  note: string;
  /** [text, repr(float(text)) or null, str(int(text)) or null] */
  cases: Array<[string, string | null, string | null]>;
  /** [text, [repr(float(width)), repr(float(height))] or null] */
  sizes: Array<[string, [string, string] | null]>;
};

/** A Python float repr as a JavaScript number ("inf", "-inf" and "nan" included). */
function fromRepr(repr: string): number {
  if (repr === 'inf') return Infinity;
  if (repr === '-inf') return -Infinity;
  if (repr === 'nan') return NaN;
  return Number(repr);
}

const floatOf = new Map(python.cases.map(([text, float]) => [text, float === null ? undefined : fromRepr(float)]));
/** Python's float() of a string the fixture recorded. */
function expectedFloat(text: string): number | undefined {
  assert.ok(floatOf.has(text), `recorded: ${JSON.stringify(text)}`);
  return floatOf.get(text);
}

test("pythonFloat and pythonInt accept and read exactly what Python's float() and int() do", () => {
  assert.ok(python.cases.length > 5000);
  assert.ok(python.cases.filter(([, float]) => float !== null).length > 1000, 'many readable floats');
  assert.ok(python.cases.filter(([, , int]) => int !== null).length > 300, 'many readable ints');
  for (const [text, float, int] of python.cases) {
    const what = JSON.stringify(text);
    if (float === null) assert.equal(pythonFloat(text), undefined, `float(${what}) raises`);
    else assert.ok(Object.is(pythonFloat(text), fromRepr(float)), `float(${what}) is ${float}, got ${pythonFloat(text)}`);
    if (int === null) assert.equal(pythonInt(text), undefined, `int(${what}) raises`);
    else assert.equal(pythonInt(text), Number(int), `int(${what}) is ${int}`);
  }
});

const parameters = (pairs: string) => `a castle\nNegative prompt: fog\n${pairs}`;

test("Steps, CFG scale and Seed as A1111 reads them: float() of the text, not Number()'s", () => {
  // 0x14: Number() reads 20, float() raises (A1111 keeps the field as it was): left out, with a note.
  assert.equal(expectedFloat('0x14'), undefined);
  let read = parametersToRequest(parameters('Steps: 0x14, Sampler: Euler, CFG scale: 7, Seed: 5'));
  assert.equal(read.request.steps, undefined);
  assert.equal(read.request.seed, 5);
  assert.ok(
    read.notes.some((n) => n.includes('Steps "0x14"') && n.includes('not a number')),
    read.notes.join('; '),
  );
  // 1e3: float() reads 1000 (A1111 converts even its int fields with float()).
  read = parametersToRequest(parameters('Steps: 1e3, Sampler: Euler, CFG scale: 7'));
  assert.equal(read.request.steps, expectedFloat('1e3'));
  assert.equal(read.request.steps, 1000);
  // An empty Seed is no seed (A1111 fails on the empty value and leaves the key out), with or without quotes.
  read = parametersToRequest(parameters('Steps: 20, Seed: , CFG scale: 7'));
  assert.equal(read.request.seed, undefined);
  assert.equal(expectedFloat(''), undefined);
  read = parametersToRequest(parameters('Steps: 20, Seed: "", CFG scale: 7'));
  assert.equal(read.request.seed, undefined);
  assert.ok(
    read.notes.some((n) => n.startsWith('Seed ""')),
    read.notes.join('; '),
  );
  // Infinity: a number to float() (and to Number()), but not one the form takes: left out with a note.
  for (const text of ['Infinity', 'inf', '-INF', 'nan', '1e400']) {
    const expected = expectedFloat(text);
    assert.ok(expected !== undefined && !Number.isFinite(expected), `float(${text}) is not finite`);
    read = parametersToRequest(parameters(`Steps: 20, Sampler: Euler, CFG scale: ${text}`));
    assert.equal(read.request.cfgScale, undefined, text);
    assert.ok(
      read.notes.some((n) => n.includes(`CFG scale "${text}"`) && n.includes('not a finite number')),
      read.notes.join('; '),
    );
  }
  // Surrounding space (kept in the value, as A1111 keeps it) is Python's to strip: U+0085 is, U+FEFF is not.
  read = parametersToRequest(parameters('Steps: 20 , Sampler: Euler, CFG scale: 7.5 '));
  assert.equal(read.request.steps, expectedFloat('20 '));
  assert.equal(read.request.cfgScale, 7.5);
  for (const text of ['\x8520', '\ufeff20', '\x1c20', '١٢', '1_000', '1__000']) {
    read = parametersToRequest(parameters(`Steps: ${JSON.stringify(text)}, Sampler: Euler, CFG scale: 7`));
    assert.equal(read.request.steps, expectedFloat(text), JSON.stringify(text));
  }
});

test('every recorded string as a quoted Steps value: read exactly when float() reads a finite number, else a note', () => {
  for (const [text, float] of python.cases) {
    const read = parametersToRequest(parameters(`Steps: ${JSON.stringify(text)}, Sampler: Euler, CFG scale: 7`));
    const expected = float === null ? undefined : fromRepr(float);
    if (expected !== undefined && Number.isFinite(expected)) {
      assert.ok(Object.is(read.request.steps, expected), `${JSON.stringify(text)}: ${read.request.steps} for ${float}`);
    } else {
      assert.equal(read.request.steps, undefined, JSON.stringify(text));
      assert.ok(
        read.notes.some((n) => n.startsWith('Steps ')),
        `${JSON.stringify(text)}: a note; got ${read.notes.join('; ')}`,
      );
    }
  }
});

test("Size as A1111's size regex reads it under Python (any script's digits, a final newline), sides by float()", () => {
  for (const [text, sides] of python.sizes) {
    const read = parametersToRequest(parameters(`Steps: 20, Size: ${JSON.stringify(text)}, CFG scale: 7`));
    const got = read.request.width === undefined ? null : [read.request.width, read.request.height];
    assert.deepEqual(got, sides === null ? null : sides.map(fromRepr), JSON.stringify(text));
  }
});

test('Clip skip is read with int() as A1111 reads it into its setting: "1 " is 1, "1_0" is 10, "1.0" is not an int', () => {
  const read = (value: string) => parametersToRequest(parameters(`Steps: 20, Clip skip: ${JSON.stringify(value)}, CFG scale: 7`));
  const chosen = python.cases.filter(([t]) => ['1', ' 1 ', '\x851', '01', '1.0', '1_0', '2', '١', '20', '0', '-9'].includes(t));
  assert.equal(chosen.length, 11);
  for (const [text, , int] of chosen) {
    const { request, notes } = read(text);
    const k = int === null ? undefined : Number(int);
    // A whole number from 1 to 12 (the contract's range, A1111's slider) is taken; anything else is noted and left out.
    const taken = k !== undefined && k >= 1 && k <= 12;
    assert.equal(request.clipSkip, taken ? k : undefined, `Clip skip ${JSON.stringify(text)} (int(): ${int})`);
    assert.equal(
      notes.some((n) => n.includes('Clip skip')),
      !taken,
      `note for ${JSON.stringify(text)}`,
    );
  }
});

test("img2img's and hires fix's numbers are read with float() too: '0x1' is no strength, '2.0_0' and '1e1' are numbers", () => {
  // Python 3: float('0x1') raises ValueError; float('2.0_0') is 2.0; float('1e1') is 10.0.
  const img2img = parametersToRequest(parameters('Steps: 20, Denoising strength: 0x1, CFG scale: 7'));
  assert.equal(img2img.request.strength, undefined);
  const hires = parametersToRequest(parameters('Steps: 20, Hires upscale: 2.0_0, Hires steps: 1e1, Denoising strength: 0.5'));
  assert.deepEqual(hires.request.hires, { scale: 2, steps: 10, strength: 0.5 });
});
