// Text cleanup and word splitting in front of CLIP's byte-level BPE, as the reference tokenizer does it.
//
// The reference vectors (shared/conformance/tokenizer-vectors.json) are what transformers' CLIPTokenizer
// returns when it runs on the `tokenizers` library pipeline (transformers v5's CLIPTokenizer, and
// CLIPTokenizerFast before it). That pipeline, which this module reproduces, is:
//   1. normalize: Unicode NFC; every run of White_Space characters becomes one " "; each character lowercased
//      on its own (no context rules, so a final capital sigma becomes "σ", not "ς");
//   2. split into words with CLIP's regex, keeping the matches and dropping what lies between them (spaces);
//   3. split each word again with the GPT-2 regex of the ByteLevel step (this only changes words such as a
//      literal "<|startoftext|>" that was not caught as a special token: "<|", "startoftext", "|>");
//   4. map each word's UTF-8 bytes to the printable characters of the byte-level alphabet.
// Note what it does NOT do, although the conformance README describes the older Python-only path
// (BasicTokenizer): control characters are kept (as their bytes), and CJK ideographs are not made separate
// words. The vector "東京の夜景, neon lights" settles this: the whole "東京の夜景" is one word there (one </w>).

/**
 * Unicode White_Space, what the reference's regexes (Oniguruma) mean by \s. JavaScript's \s differs: it has
 * U+FEFF and lacks U+0085, so it is spelled out here.
 */
const WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUN = new RegExp(`[${WS}]+`, 'gu');

/** CLIP's word pattern, case-sensitive (the text is already lowercased). */
const CLIP_WORD = new RegExp(`<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^${WS}\\p{L}\\p{N}]+`, 'gu');

/**
 * The ByteLevel pre-tokenizer's GPT-2 pattern, less its whitespace alternatives: it runs on CLIP words,
 * which never contain whitespace, so " ?" and the \s alternatives of the original could never match.
 */
const BYTE_LEVEL_WORD = new RegExp(`'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}+|[^${WS}\\p{L}\\p{N}]+`, 'gu');

/** Lowercases character by character, like Rust's char::to_lowercase over the string. */
function lowercaseEachChar(text: string): string {
  // String#toLowerCase is per character except for the Final_Sigma rule (the only context-dependent,
  // language-independent mapping), which applies to U+03A3 alone.
  if (!text.includes('\u03a3')) return text.toLowerCase();
  let out = '';
  for (const ch of text) out += ch.toLowerCase();
  return out;
}

/** Step 1: NFC, whitespace runs to one space, per-character lowercase. */
export function normalizePrompt(text: string): string {
  return lowercaseEachChar(text.normalize('NFC').replace(WHITESPACE_RUN, ' '));
}

/** Steps 2 and 3: the words of an already normalized text, in order. */
export function splitWords(normalized: string): string[] {
  const words: string[] = [];
  for (const match of normalized.matchAll(CLIP_WORD)) {
    const word = match[0];
    // Only a word that holds "<|" can be cut further by the GPT-2 pattern (letters, single digits,
    // contractions and punctuation runs are each a single GPT-2 match); skip the second regex otherwise.
    if (!word.includes('<|')) {
      words.push(word);
      continue;
    }
    for (const part of word.matchAll(BYTE_LEVEL_WORD)) words.push(part[0]);
  }
  return words;
}

/** GPT-2/CLIP byte-to-character table: printable Latin-1 bytes map to themselves, the others to U+0100 onwards. */
function buildByteAlphabet(): string[] {
  const table: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : next++);
  }
  return table;
}

const BYTE_ALPHABET = buildByteAlphabet();
const utf8 = new TextEncoder();

/** Step 4: a word's UTF-8 bytes as byte-level characters (a lone surrogate becomes U+FFFD's bytes). */
export function byteLevelEncode(word: string): string {
  let out = '';
  for (const byte of utf8.encode(word)) out += BYTE_ALPHABET[byte];
  return out;
}
