"""A small CLIP BPE tokenizer (SD 1.5 vocabulary) for training captions.

Handles what the training captions contain (ASCII words, digits, punctuation):
lowercase, whitespace collapse, CLIP's word split, byte-level BPE with </w> word ends,
<|startoftext|> ... <|endoftext|>, padded with <|endoftext|> (49407) to 77.
Checked against the project's tokenizer conformance vectors (ASCII cases).
"""
import functools
import json
import os
import re

BOS, EOS = 49406, 49407
MAX_LEN = 77


def _bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


@functools.lru_cache(maxsize=None)
def tokenizer_for(folder):
    """The one tokenizer (and so the one BPE cache) per tokenizer folder, shared by every stage of a run."""
    return ClipTokenizer(folder)


class ClipTokenizer:
    def __init__(self, folder):
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            self.vocab = json.load(f)
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().split("\n")[1:49152 - 256 - 2 + 1]
        self.ranks = {tuple(line.split()): i for i, line in enumerate(lines)}
        self.byte_enc = _bytes_to_unicode()
        self.cache = {}
        self.pat = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+")

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = [(self.ranks.get((word[i], word[i + 1]), 1 << 30), i) for i in range(len(word) - 1)]
            r, _ = min(pairs)
            if r == 1 << 30:
                break
            pair = None
            for rr, i in pairs:
                if rr == r:
                    pair = (word[i], word[i + 1])
                    break
            out, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == pair:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = out
        ids = [self.vocab[w] for w in word]
        self.cache[token] = ids
        return ids

    def encode(self, text):
        text = " ".join(text.strip().split()).lower()
        ids = [BOS]
        for tok in self.pat.findall(text):
            tok = "".join(self.byte_enc[b] for b in tok.encode("utf-8"))
            ids.extend(self.bpe(tok))
        return ids + [EOS]

    def encode77(self, text):
        ids = self.encode(text)[:MAX_LEN]
        if len(ids) == MAX_LEN:
            ids[-1] = EOS
        return ids + [EOS] * (MAX_LEN - len(ids))


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    tok = ClipTokenizer(os.path.join(here, "..", "..", "shared", "reference", "sd15-tokenizer"))
    vec = json.load(open(os.path.join(here, "..", "..", "shared", "conformance", "tokenizer-vectors.json")))
    ok = bad = 0
    for c in vec["cases"]:
        if not all(ord(ch) < 128 for ch in c["prompt"]):
            continue
        got = tok.encode(c["prompt"])
        if got == c["ids"] and tok.encode77(c["prompt"]) == c["ids77"]:
            ok += 1
        else:
            bad += 1
            print("MISMATCH", repr(c["prompt"]), got, c["ids"])
    print(f"ascii cases ok={ok} bad={bad}")
