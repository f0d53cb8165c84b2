import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPythonWhitespace, PYTHON_WHITESPACE_CLASS, pythonRstrip, pythonStrip } from './python-chars.ts';

test('the whitespace class for patterns holds exactly the code points isPythonWhitespace takes', () => {
  const inClass = new RegExp(`^${PYTHON_WHITESPACE_CLASS}$`, 'u');
  const differ: number[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    if (inClass.test(String.fromCodePoint(cp)) !== isPythonWhitespace(cp)) differ.push(cp);
  }
  assert.deepEqual(differ, []);
});

test("strip and rstrip take Python's whitespace (U+001C and U+0085 yes, U+FEFF no)", () => {
  // Python 3: '\x1c a \x85'.strip() == 'a'; '\ufeffa\ufeff'.strip() == '\ufeffa\ufeff'; ' a \u3000'.rstrip() == ' a'.
  assert.equal(pythonStrip('\x1c a \x85'), 'a');
  assert.equal(pythonStrip('\ufeffa\ufeff'), '\ufeffa\ufeff');
  assert.equal(pythonRstrip(' a \u3000'), ' a');
  assert.equal(pythonStrip(' \t\n'), '');
});
