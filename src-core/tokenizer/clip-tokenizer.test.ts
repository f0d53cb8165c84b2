import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClipTokenizer, TokenizerLoadError } from './clip-tokenizer.ts';
import { normalizePrompt, splitWords } from './text-cleanup.ts';
import { runTokenizerVectors, tokenizerDir, type TokenizerCase } from '../conformance/tokenizer-vectors.ts';
import { readSharedJson, sharedPath, sharedSkip } from '../../tests/helpers/shared.ts';
import { SD15_TOKENIZER_DIR } from '../../tests/helpers/sd15-files.ts';

// The SD 1.5 tokenizer folder (the shipped model's tokenizer/; TOKENIZER_DIR overrides, as for the conformance CLI) and the shared vectors.
const DIR = tokenizerDir();
const doc = readSharedJson<{ format: string; cases: TokenizerCase[] }>('conformance/tokenizer-vectors.json');
const tok = loadClipTokenizer(DIR);

/** A scratch copy of the tokenizer folder, changed by `edit`, removed after `body`. */
function withCopy(edit: (dir: string) => void, body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'clip-tok-'));
  try {
    cpSync(DIR, dir, { recursive: true });
    edit(dir);
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const editJson = (path: string, change: (json: Record<string, unknown>) => void) => {
  const json = JSON.parse(readFileSync(path, 'utf8'));
  change(json);
  writeFileSync(path, JSON.stringify(json));
};

test('every shared vector: ids and ids77 exactly', { skip: sharedSkip() }, () => {
  assert.equal(doc.format, 'tokenizer-vectors/1');
  assert.ok(doc.cases.length >= 27);
  for (const c of doc.cases) {
    assert.deepEqual(tok.encode(c.prompt), c.ids, `ids of ${JSON.stringify(c.prompt)}`);
    assert.deepEqual(Array.from(tok.encodePadded(c.prompt, 77)), c.ids77, `ids77 of ${JSON.stringify(c.prompt)}`);
  }
});

test('the conformance handler passes every case and reports a mismatch with its position', { skip: sharedSkip() }, () => {
  const results = runTokenizerVectors(doc);
  assert.equal(results.length, doc.cases.length);
  for (const r of results) assert.ok(r.pass, `${r.id}: ${r.detail}`);
  const broken = structuredClone(doc.cases[1]);
  broken.ids[3] += 1;
  const [r] = runTokenizerVectors({ cases: [broken] });
  assert.equal(r.pass, false);
  assert.match(r.detail, /^ids at 3 got \d+ expected \d+/);
});

test("the embedded model's tokenizer files are SD 1.5's (the tests read them from there)", { skip: sharedSkip() }, () => {
  for (const file of ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
    assert.ok(readFileSync(join(SD15_TOKENIZER_DIR, file)).equals(readFileSync(sharedPath(`reference/sd15-tokenizer/${file}`))), file);
  }
});

test('special ids and lengths of the SD 1.5 folder', () => {
  assert.equal(tok.bosId, 49406);
  assert.equal(tok.eosId, 49407);
  assert.equal(tok.padId, 49407);
  assert.equal(tok.unkId, 49407);
  assert.equal(tok.maxLength, 77);
  assert.equal(tok.usableTokens, 75);
  assert.deepEqual(tok.encode(''), [49406, 49407]);
});

test('the text cleanup: whitespace, case, NFC, CJK kept in one word, control characters kept', () => {
  assert.equal(normalizePrompt('A\t\n B\u3000\u0085\u00a0C'), 'a b c');
  assert.equal(normalizePrompt('e\u0301'), '\u00e9'); // NFC
  assert.equal(normalizePrompt('ΟΔΟΣ'), 'οδοσ'); // per-character lowercase: no final-sigma rule
  assert.equal(normalizePrompt('\ufeffx'), '\ufeffx'); // U+FEFF is not White_Space
  assert.deepEqual(splitWords('東京tower 2024!!'), ['東京tower', '2', '0', '2', '4', '!!']);
  assert.deepEqual(splitWords("it's a\u0000b"), ['it', "'s", 'a', '\u0000', 'b']);
  assert.deepEqual(splitWords('<|endoftext|>'), ['<|', 'endoftext', '|>']);
  // Decomposed input encodes like the precomposed form.
  assert.deepEqual(tok.encode('cafe\u0301'), tok.encode('caf\u00e9'));
  // Typed special tokens: matched before BPE anywhere, in any case (the SD 1.5 config marks them normalized).
  assert.deepEqual(tok.encode('a<|endoftext|>b'), [49406, 320, 49407, 321, 49407]);
  assert.deepEqual(tok.encode('<|EndOfText|>'), [49406, 49407, 49407]);
  // An incomplete marker is ordinary text.
  assert.deepEqual(tok.tokenize('<|endoftext'), ['<', '|</w>', 'endof', 'text</w>']);
});

test('encodePadded pads with the pad id and truncates keeping eos last', () => {
  const short = tok.encodePadded('a red circle');
  assert.ok(short instanceof Int32Array);
  assert.equal(short.length, 77);
  assert.deepEqual(Array.from(short.subarray(0, 5)), [49406, 320, 736, 7117, 49407]);
  assert.ok(short.subarray(5).every((id) => id === 49407));

  const long = 'red apple, '.repeat(40);
  const ids = tok.encode(long);
  assert.equal(ids.length, 2 + 40 * 3);
  const padded = tok.encodePadded(long);
  assert.equal(padded.length, 77);
  assert.deepEqual(Array.from(padded.subarray(0, 76)), ids.slice(0, 76));
  assert.equal(padded[76], 49407);

  const exact = 'a '.repeat(75); // 75 prompt tokens: fits exactly, nothing cut
  assert.deepEqual(Array.from(tok.encodePadded(exact)), tok.encode(exact));

  assert.deepEqual(Array.from(tok.encodePadded('a red circle', 4)), [49406, 320, 736, 49407]);
  assert.deepEqual(Array.from(tok.encodePadded('a', 6)), [49406, 320, 49407, 49407, 49407, 49407]);
  assert.throws(() => tok.encodePadded('a', 1), RangeError);
  assert.throws(() => tok.encodePadded('a', 7.5), RangeError);
});

test('countTokens counts prompt tokens without the start/end markers', () => {
  assert.equal(tok.countTokens(''), 0);
  assert.equal(tok.countTokens('a red circle on a blue background'), 7);
  assert.equal(tok.countTokens('  \n '), 0);
  assert.equal(tok.countTokens('1girl'), 2); // digits are one token each
  const long = 'red apple, '.repeat(30);
  assert.equal(tok.countTokens(long), 90);
  assert.ok(tok.countTokens(long) > tok.usableTokens);
});

test('countTokens agrees with every shared vector', { skip: sharedSkip() }, () => {
  for (const c of doc.cases) assert.equal(tok.countTokens(c.prompt), c.ids.length - 2);
});

test('SD 2 style pad token "!" is read from the config: id 0, and a typed "!" is that special token', () => {
  withCopy(
    (dir) => {
      editJson(join(dir, 'tokenizer_config.json'), (j) => {
        j.pad_token = '!';
      });
      editJson(join(dir, 'special_tokens_map.json'), (j) => {
        j.pad_token = '!';
      });
    },
    (dir) => {
      const sd2 = loadClipTokenizer(dir);
      assert.equal(sd2.padToken, '!');
      assert.equal(sd2.padId, 0);
      assert.equal(sd2.eosId, 49407);
      const padded = sd2.encodePadded('a red circle');
      assert.deepEqual(Array.from(padded.subarray(0, 5)), [49406, 320, 736, 7117, 49407]);
      assert.ok(padded.subarray(5).every((id) => id === 0));
      // Truncation still ends with eos (49407), not with the pad id.
      const cut = sd2.encodePadded('red apple, '.repeat(40));
      assert.equal(cut[76], 49407);
      assert.deepEqual(Array.from(cut.subarray(0, 76)), sd2.encode('red apple, '.repeat(40)).slice(0, 76));
      // transformers matches special tokens before BPE, so "!!!" is three pad tokens under SD 2
      // (diffusers issue #4153) while SD 1.5 has the merged "!!!" token.
      assert.deepEqual(sd2.encode('wow!!!'), [49406, 2781, 0, 0, 0, 49407]);
      assert.deepEqual(tok.encode('wow!!!'), [49406, 2781, 995, 49407]);
    },
  );
});

test(
  'which file names the pad token: special_tokens_map.json over tokenizer_config.json, ' + 'unless the config has added_tokens_decoder',
  () => {
    // Only tokenizer_config.json says "!": the (older-style) map still says <|endoftext|> and wins.
    withCopy(
      (dir) =>
        editJson(join(dir, 'tokenizer_config.json'), (j) => {
          j.pad_token = '!';
        }),
      (dir) => assert.equal(loadClipTokenizer(dir).padId, 49407),
    );
    // Without a special_tokens_map.json the config's "!" is used.
    withCopy(
      (dir) => {
        editJson(join(dir, 'tokenizer_config.json'), (j) => {
          j.pad_token = '!';
        });
        rmSync(join(dir, 'special_tokens_map.json'));
      },
      (dir) => assert.equal(loadClipTokenizer(dir).padId, 0),
    );
    // A config saved by newer transformers (with added_tokens_decoder) is authoritative.
    withCopy(
      (dir) =>
        editJson(join(dir, 'tokenizer_config.json'), (j) => {
          j.pad_token = '!';
          j.added_tokens_decoder = {
            '0': { content: '!', lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
            '49406': { content: '<|startoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false, special: true },
            '49407': { content: '<|endoftext|>', lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
          };
        }),
      (dir) => {
        const t = loadClipTokenizer(dir);
        assert.equal(t.padId, 0);
        assert.deepEqual(t.encode('a!'), [49406, 320, 0, 49407]);
      },
    );
  },
);

test('a diffusers model folder (tokenizer/ inside) loads too', () => {
  const root = mkdtempSync(join(tmpdir(), 'clip-model-'));
  try {
    cpSync(DIR, join(root, 'tokenizer'), { recursive: true });
    const t = loadClipTokenizer(root);
    assert.equal(t.folder, join(root, 'tokenizer'));
    assert.deepEqual(t.encode('a photo of a cat, (masterpiece:1.2)'), tok.encode('a photo of a cat, (masterpiece:1.2)'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('clear errors: missing folder or files, bad JSON, broken merges, special tokens missing from the vocab', () => {
  const fails = (dir: string, pattern: RegExp) =>
    assert.throws(
      () => loadClipTokenizer(dir),
      (e: unknown) => e instanceof TokenizerLoadError && pattern.test(e.message),
    );

  fails(join(tmpdir(), 'no-such-tokenizer-folder-x'), /tokenizer folder not found/);
  for (const name of ['vocab.json', 'merges.txt', 'tokenizer_config.json']) {
    withCopy(
      (dir) => rmSync(join(dir, name)),
      (dir) => fails(dir, new RegExp(`missing ${name.replace('.', '\\.')}`)),
    );
  }
  withCopy(
    (dir) => writeFileSync(join(dir, 'vocab.json'), '{"a": 1,'),
    (dir) => fails(dir, /vocab\.json is not valid JSON/),
  );
  withCopy(
    (dir) => writeFileSync(join(dir, 'tokenizer_config.json'), '[1, 2]'),
    (dir) => fails(dir, /tokenizer_config\.json: expected a JSON object/),
  );
  withCopy(
    (dir) => writeFileSync(join(dir, 'special_tokens_map.json'), 'not json'),
    (dir) => fails(dir, /special_tokens_map\.json is not valid JSON/),
  );
  withCopy(
    (dir) => {
      const lines = readFileSync(join(dir, 'merges.txt'), 'utf8').split('\n');
      lines[5] = 'lonely';
      writeFileSync(join(dir, 'merges.txt'), lines.join('\n'));
    },
    (dir) => fails(dir, /broken merges file, line 6 is "lonely"/),
  );
  withCopy(
    (dir) => writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\na b c\n'),
    (dir) => fails(dir, /broken merges file, line 2/),
  );
  withCopy(
    (dir) =>
      editJson(join(dir, 'vocab.json'), (j) => {
        delete j['<|endoftext|>'];
      }),
    (dir) => fails(dir, /vocab\.json: no entry for the eos_token "<\|endoftext\|>"/),
  );
  withCopy(
    (dir) =>
      editJson(join(dir, 'vocab.json'), (j) => {
        j['<|startoftext|>'] = 'x';
      }),
    (dir) => fails(dir, /not an integer/),
  );
  withCopy(
    (dir) =>
      editJson(join(dir, 'special_tokens_map.json'), (j) => {
        j.pad_token = '<pad>';
      }),
    (dir) => fails(dir, /no entry for the pad_token "<pad>"/),
  );
});
