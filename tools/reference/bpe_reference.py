#!/usr/bin/env python3
"""An independent, deliberately plain implementation of GPT-2's byte-level BPE (training and encoding),
used to write test/fixtures/text-bpe-shakespeare.json for test/text-bpe.test.ts.

It shares no code with src/text/: the pre-tokenisation pattern of GPT-2's encoder.py,

    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+

is implemented by hand as a scanner over unicodedata categories (Python's `re` has no \\p{L}), and, when
the `regex` module is installed (Debian: python3-regex), checked against regex.findall of the original
pattern on the corpus and on random strings. Training recounts every pair after every merge (slow,
obviously correct); the TypeScript trainer updates counts incrementally.

Training rule (the same as src/text/bpe-trainer.ts):
- count the pre-tokens of the corpus; each starts as its UTF-8 bytes;
- repeat: count adjacent pairs inside pre-tokens, weighted by pre-token frequency; stop if the best count
  is below min_frequency; the best pair is the most frequent, ties going to the smallest
  (bytes(left), bytes(right)) in lexicographic byte order (a prefix sorts first); record the merge and
  replace each occurrence in each pre-token, left to right, by the merged symbol;
- symbols are byte strings, so two merges that spell the same bytes give the same token (and a pair
  that is already a rule, which only that can bring back, is merged again without a second rule);
  vocab ids are:
  the 256 bytes in bytes_to_unicode order, then each new merged token in order of first appearance,
  then <|endoftext|>.

Usage: /usr/bin/python3 tools/reference/bpe_reference.py [path/to/input.txt]
(default: $MILESTONES_DATA/tinyshakespeare/input.txt, else ../shared/data/tinyshakespeare/input.txt).
"""
import hashlib
import json
import os
import random
import sys
import time
import unicodedata
from collections import Counter

TRAIN_CHARS = 200_000
NUM_MERGES = 1000
MIN_FREQUENCY = 2
END_OF_TEXT = "<|endoftext|>"

# Unicode's White_Space property, which is what \s means in the `regex` module that GPT-2 uses.
WHITE_SPACE = set(
    [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680]
    + list(range(0x2000, 0x200B))
    + [0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
)


def bytes_to_unicode():
    """GPT-2's table, as in openai/gpt-2 src/encoder.py."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def is_space(ch):
    return ord(ch) in WHITE_SPACE


def is_letter(ch):
    return unicodedata.category(ch).startswith("L")


def is_number(ch):
    return unicodedata.category(ch).startswith("N")


def is_other(ch):
    return not (is_space(ch) or is_letter(ch) or is_number(ch))


CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]


def pretokenize(text):
    """GPT-2's pattern as a scanner: at each position try the alternatives in order, as the regex does."""
    out = []
    i = 0
    n = len(text)

    def run(j, pred):
        while j < n and pred(text[j]):
            j += 1
        return j

    while i < n:
        # 's|'t|'re|'ve|'m|'ll|'d
        c = next((c for c in CONTRACTIONS if text.startswith(c, i)), None)
        if c is not None:
            out.append(c)
            i += len(c)
            continue
        matched = False
        # ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': an optional space, then one or more of the class
        for pred in (is_letter, is_number, is_other):
            start = i + 1 if text[i] == " " and i + 1 < n and pred(text[i + 1]) else i
            end = run(start, pred)
            if end > start:
                out.append(text[i:end])
                i = end
                matched = True
                break
        if matched:
            continue
        # \s+(?!\S): the whitespace run, less its last character when a non-space follows
        end = run(i, is_space)
        assert end > i, "every character is a space, a letter, a number or other"
        if end < n and end - i > 1:
            end -= 1
        # (when end - i == 1 and a non-space follows, \s+(?!\S) fails and \s+ takes the one character)
        out.append(text[i:end])
        i = end
    return out


def check_pretokenize_against_regex(corpus):
    try:
        import regex
    except ImportError:
        print("regex module not installed: the hand-written scanner is not cross-checked")
        return
    pat = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
    assert pretokenize(corpus) == pat.findall(corpus), "scanner disagrees with regex on the corpus"
    rng = random.Random(0)
    alphabet = list("aZé日 \t\n\r\x0b\x0c\x85\xa0\u2003\u3000'sStrvemld0١²!.,-\ufeff\u0301") + ["🎉"]
    for _ in range(20000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 14)))
        # The module's Unicode tables may be newer than unicodedata's; this alphabet is old enough for both.
        assert pretokenize(s) == pat.findall(s), f"scanner disagrees with regex on {s!r}"
    print("pre-tokenisation scanner agrees with the regex module on the corpus and 20000 random strings")


def train(text, num_merges, min_frequency):
    words = Counter(pretokenize(text))
    # each pre-token as a list of symbols (bytes objects) and its frequency
    seqs = [([bytes([b]) for b in w.encode("utf-8")], f) for w, f in words.items()]
    merges = []
    counts = []
    while len(merges) < num_merges:
        pairs = Counter()
        for sym, f in seqs:
            for a, b in zip(sym, sym[1:]):
                pairs[(a, b)] += f
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p[0], p[1]))
        if pairs[best] < min_frequency:
            break
        # A pair already merged can only reappear when a later merge spelled the same bytes as one of its
        # parts; it is merged again, but its rule is not listed twice.
        if best not in merges:
            merges.append(best)
            counts.append(pairs[best])
        a, b = best
        new_seqs = []
        for sym, f in seqs:
            out = []
            i = 0
            while i < len(sym):
                if i + 1 < len(sym) and sym[i] == a and sym[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(sym[i])
                    i += 1
            new_seqs.append((out, f))
        seqs = new_seqs
    return merges, counts


def build_vocab(merges, b2u):
    spell = lambda bs: "".join(b2u[x] for x in bs)
    vocab = {}
    for b in b2u:  # bytes_to_unicode's insertion order: printable bytes first
        vocab[b2u[b]] = len(vocab)
    for a, b in merges:
        tok = spell(a + b)
        if tok not in vocab:
            vocab[tok] = len(vocab)
    vocab[END_OF_TEXT] = len(vocab)
    return vocab


def encode(text, merge_list, vocab, b2u):
    """encoder.py's algorithm: per pre-token, merge the lowest-ranked adjacent pair until none is left."""
    ranks = {(a, b): r for r, (a, b) in enumerate(merge_list)}
    ids = []
    for piece in pretokenize(text):
        word = [b2u[x] for x in piece.encode("utf-8")]
        while len(word) > 1:
            pairs = [(ranks.get((word[i], word[i + 1]), float("inf")), i) for i in range(len(word) - 1)]
            rank, _ = min(pairs)
            if rank == float("inf"):
                break
            first, second = merge_list[rank]
            out = []
            i = 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == first and word[i + 1] == second:
                    out.append(first + second)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = out
        ids.extend(vocab[w] for w in word)
    return ids


# Held-out strings beyond Shakespeare: contractions (case-sensitive), numbers, whitespace runs, the
# White_Space characters on which JavaScript's \s differs (U+0085, U+FEFF), controls, accents, CJK, emoji.
EXTRA = [
    "Hello, world! It's 2024 -- naïve café, 日本語のテキスト 🎉🎉 and e\u0301 (e + combining acute).",
    "don't DON'T we're they've I'm you'll he'd 'S 'LL o'clock ''s",
    "3.14159 1,000,000 ٣٤٥ ² ½ Ⅻ 12abc abc12",
    "tabs\t\tand\n\n\nnewlines   then  spaces \u00a0nbsp\u2003em\u3000ideographic   ",
    "controls \x00\x01\x1f\x7f and \x85next-line and \ufeffBOM and \u200bzero-width",
    "   leading spaces\n  ROMEO:\n  \tWhat say'st thou?\n",
    "",
    " ",
    "\n",
]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else None
    if path is None:
        root = os.environ.get("MILESTONES_DATA") or os.path.join(os.path.dirname(__file__), "../../../shared/data")
        path = os.path.join(root, "tinyshakespeare", "input.txt")
    with open(path, encoding="utf-8") as f:
        corpus = f.read()
    train_text = corpus[:TRAIN_CHARS]
    check_pretokenize_against_regex(train_text)
    b2u = bytes_to_unicode()
    t0 = time.time()
    merges, counts = train(train_text, NUM_MERGES, MIN_FREQUENCY)
    print(f"trained {len(merges)} merges on {len(train_text)} characters in {time.time() - t0:.1f} s")
    spell = lambda bs: "".join(b2u[x] for x in bs)
    merge_list = [(spell(a), spell(b)) for a, b in merges]
    vocab = build_vocab(merges, b2u)
    print(f"vocabulary: {len(vocab)} tokens ({256 + len(merges) + 1 - len(vocab)} merges repeat a token)")
    held_out = [corpus[1_000_000:1_003_000]] + EXTRA
    cases = [{"text": t, "pieces": pretokenize(t), "ids": encode(t, merge_list, vocab, b2u)} for t in held_out]
    fixture = {
        "about": "written by tools/reference/bpe_reference.py; BPE trained on the first trainChars characters of Tiny Shakespeare",
        "trainChars": TRAIN_CHARS,
        "trainSha256": hashlib.sha256(train_text.encode("utf-8")).hexdigest(),
        "numMerges": NUM_MERGES,
        "minFrequency": MIN_FREQUENCY,
        "merges": [f"{a} {b}" for a, b in merge_list],
        "mergeCounts": counts,
        "vocabJson": json.dumps(vocab, ensure_ascii=False),
        "mergesTxt": "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merge_list),
        "heldOut": cases,
    }
    out = os.path.join(os.path.dirname(__file__), "../../test/fixtures/text-bpe-shakespeare.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=True)
    print(f"wrote {os.path.normpath(out)} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
