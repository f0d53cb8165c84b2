// Chunking on the real SD 1.5 tokenizer. Expected ids are laid out by hand from single-word encodings
// (bos, eos and the ids of "cat", "dog" and ",").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClipTokenizer } from '../tokenizer/clip-tokenizer.ts';
import { tokenizerDir } from '../conformance/tokenizer-vectors.ts';
import { chunkPrompt, promptTokenCount } from './chunks.ts';

const tok = loadClipTokenizer(tokenizerDir());
const BOS = 49406,
  EOS = 49407;
const idOf = (word: string) => {
  const ids = tok.encode(word);
  assert.equal(ids.length, 3, `${word} is one token`);
  return ids[1];
};
const CAT = idOf('cat'),
  DOG = idOf('dog'),
  COMMA = idOf(','),
  BREAK_WORD = idOf('break');
const words = (word: string, n: number) => Array(n).fill(word).join(' ');
/** [bos, ...tokens, eos...] to 77. */
const framed = (tokens: number[], pad = EOS) => {
  const ids = [BOS, ...tokens, EOS];
  while (ids.length < 77) ids.push(pad);
  return ids;
};

test('the empty prompt is one chunk: start token then 76 end tokens', () => {
  const { chunks, tokenCount } = chunkPrompt(tok, '');
  assert.equal(chunks.length, 1);
  assert.deepEqual(Array.from(chunks[0].ids), [BOS, ...Array(76).fill(EOS)]);
  assert.deepEqual(Array.from(chunks[0].weights), Array(77).fill(1));
  assert.equal(tokenCount, 0);
});

test('75 tokens make one chunk, 76 two, 120 two of 77 positions', () => {
  assert.equal(chunkPrompt(tok, words('cat', 75)).chunks.length, 1);
  assert.equal(chunkPrompt(tok, words('cat', 76)).chunks.length, 2);
  const { chunks, tokensPerChunk } = chunkPrompt(tok, words('cat', 120));
  assert.deepEqual(
    chunks.map((c) => c.ids.length),
    [77, 77],
  );
  assert.deepEqual(Array.from(chunks[0].ids), [BOS, ...Array(75).fill(CAT), EOS]);
  assert.deepEqual(Array.from(chunks[1].ids), framed(Array(45).fill(CAT)));
  assert.deepEqual(tokensPerChunk, [75, 45]);
});

test('BREAK closes a chunk; a leading BREAK leaves a chunk of padding; inside brackets it is the word "break"', () => {
  const split = chunkPrompt(tok, 'cat BREAK dog');
  assert.deepEqual(
    split.chunks.map((c) => Array.from(c.ids)),
    [framed([CAT]), framed([DOG])],
  );
  const leading = chunkPrompt(tok, 'BREAK dog');
  assert.deepEqual(
    leading.chunks.map((c) => Array.from(c.ids)),
    [framed([]), framed([DOG])],
  );
  const bracketed = chunkPrompt(tok, '(cat BREAK dog)');
  assert.equal(bracketed.chunks.length, 1);
  assert.deepEqual(Array.from(bracketed.chunks[0].ids.slice(0, 5)), [BOS, CAT, BREAK_WORD, DOG, EOS]);
  assert.deepEqual(Array.from(bracketed.chunks[0].weights.slice(0, 5)), [1, 1.1, -1.1, 1.1, 1]);
});

test('every token carries its piece weight; start, end and padding weigh 1', () => {
  const { chunks } = chunkPrompt(tok, '(cat:1.5) [dog] cat');
  assert.deepEqual(Array.from(chunks[0].ids.slice(0, 5)), [BOS, CAT, DOG, CAT, EOS]);
  assert.deepEqual(Array.from(chunks[0].weights.slice(0, 6)), [1, 1.5, 1 / 1.1, 1, 1, 1]);
});

test('comma backtrack: words after a comma within the last 20 tokens move to the next chunk', () => {
  const prompt = `${words('cat', 70)}, ${words('dog', 10)}`;
  const { chunks, tokenCount } = chunkPrompt(tok, prompt);
  assert.deepEqual(Array.from(chunks[0].ids), framed([...Array(70).fill(CAT), COMMA]));
  assert.deepEqual(Array.from(chunks[1].ids), framed(Array(10).fill(DOG)));
  assert.equal(tokenCount, 85);
  // The comma 21 tokens back is too far: the chunk is cut at 75.
  const far = chunkPrompt(tok, `${words('cat', 54)}, ${words('dog', 30)}`);
  assert.deepEqual(Array.from(far.chunks[0].ids), [BOS, ...Array(54).fill(CAT), COMMA, ...Array(20).fill(DOG), EOS]);
  // Backtrack 0 turns it off.
  const off = chunkPrompt(tok, prompt, { commaBacktrack: 0 });
  assert.deepEqual(Array.from(off.chunks[0].ids), [BOS, ...Array(70).fill(CAT), COMMA, ...Array(4).fill(DOG), EOS]);
});

test('token counter as A1111 shows it: tokens used / capacity of the chunks', () => {
  assert.deepEqual(promptTokenCount(tok, ''), { tokens: 0, max: 75 });
  assert.deepEqual(promptTokenCount(tok, words('cat', 80)), { tokens: 80, max: 150 });
  assert.deepEqual(promptTokenCount(tok, 'a cat BREAK a dog'), { tokens: 77, max: 150 });
  assert.deepEqual(promptTokenCount(tok, '((cat))'), { tokens: 1, max: 75 });
});

test('a folder whose pad token is not the end token (SD 2) pads after the first end token with it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sd2-tok-'));
  try {
    cpSync(tokenizerDir(), dir, { recursive: true });
    for (const file of ['tokenizer_config.json', 'special_tokens_map.json']) {
      const path = join(dir, file);
      writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), pad_token: '!' }));
    }
    const sd2 = loadClipTokenizer(dir);
    assert.equal(sd2.padId, 0);
    const { chunks } = chunkPrompt(sd2, 'cat');
    assert.deepEqual(Array.from(chunks[0].ids), framed([CAT], 0));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
