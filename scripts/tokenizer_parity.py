"""Differential check of clipstream's Rust CLIP tokenizer (models/) against the reference `simple_tokenizer.py`
(OpenAI CLIP, as copied into ViCLIP and open_clip; MIT) on seeded random strings: captions, HTML entities, ftfy's
targets (ligatures, fullwidth, curly quotes, C1/C0 controls, terminal escapes), combining marks, CJK, emoji, RTL,
special tokens, long texts.

The Rust tokenizer does not port ftfy's mojibake repair (`fix_encoding`); mismatches on strings that
`fix_encoding` changes are counted apart and do not fail the check. Any other mismatch exits 1.

Needs `ftfy` and `regex` importable, e.g.:
    pip install --target /tmp/ftfy-site ftfy regex && PYTHONPATH=/tmp/ftfy-site python3 scripts/tokenizer_parity.py
Usage: tokenizer_parity.py [CASES (default 20000)] [SEED (default 0)] [CONTEXT_LENGTH (default 200)]"""
import gzip
import html
import html.entities
import json
import os
import random
import subprocess
import sys

import ftfy
import regex as re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = os.path.join(ROOT, "models", "assets", "bpe_simple_vocab_16e6.txt.gz")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1))
    bs += list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word):
    return set(zip(word[:-1], word[1:]))


def basic_clean(text):
    text = ftfy.fix_text(text)
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text):
    return re.sub(r"\s+", " ", text).strip()


class SimpleTokenizer:
    """OpenAI CLIP's simple_tokenizer.py (the reference of ../shared/viclip/tokenizer-cases.jsonl)."""

    def __init__(self):
        self.byte_encoder = bytes_to_unicode()
        merges = gzip.open(VOCAB).read().decode("utf-8").split("\n")
        merges = [tuple(m.split()) for m in merges[1 : 49152 - 256 - 2 + 1]]
        vocab = list(bytes_to_unicode().values())
        vocab = vocab + [v + "</w>" for v in vocab]
        vocab += ["".join(m) for m in merges]
        vocab += ["<|startoftext|>", "<|endoftext|>"]
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {"<|startoftext|>": "<|startoftext|>", "<|endoftext|>": "<|endoftext|>"}
        self.pat = re.compile(
            r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            re.IGNORECASE,
        )

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = get_pairs(word)
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        word = " ".join(word)
        self.cache[token] = word
        return word

    def encode(self, text):
        ids = []
        text = whitespace_clean(basic_clean(text)).lower()
        for token in re.findall(self.pat, text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        return ids

    def tokenize(self, text, context_length):
        ids = [49406] + self.encode(text) + [49407]
        if len(ids) > context_length:
            ids = ids[:context_length]
            ids[-1] = 49407
        return ids + [0] * (context_length - len(ids))


WORDS = "a the man woman dog cat car street kitchen plays runs jumps red blue slowly quickly 4k HD video of".split()
POOLS = [
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,!?;:'\"-_()[]{}<>&#/\\|@*+=%$^~`",
    "".join(chr(c) for c in range(0x80, 0x100)),
    "\u0132\u0133\u0149\u01c4\u01c5\u01c6\u01c7\u01c8\u01c9\u01ca\u01cb\u01cc\u01f1\u01f2\u01f3"
    "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06",
    "".join(chr(c) for c in range(0xFF01, 0xFFF0)) + "\u3000",
    "\u02bc\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2028\u2029\r\n\t\x0b\x0c\x1c\x1f"
    "\x00\x07\x1b\x7f\u206a\ufeff"
    "\ufff9\ufffc\u200b\u200d\u00a0\u2003\u180e",
    "\u0301\u0308\u0345\u0327\u030a\u0323\u0342",
    "東京大阪日本語中文한국어ひらがなカタカナ",
    "🙂🎸👍🏽👨‍👩‍👧🇺🇸❤️✓",
    "ΑΒΓΔΕΣσςΟΔΟΣİıſKÅßẞﬅǅ",
    "ٱلعربيةעבריתहिन्दी",
    "²³¹¼½①⑩ⅣⅫ٣੩𝟙",
]


def piece(rng, entities):
    r = rng.random()
    if r < 0.15:
        name = rng.choice(entities)
        if rng.random() < 0.3:
            name = name.upper()
        return "&" + name + rng.choice(["", "", "x", ";"])
    if r < 0.22:
        n = rng.choice([0, 13, 38, 60, 65, 0x80, 0x85, 0x93, 0x2019, 0xD800, 0xFFFE, 0x110000, 99999999999, 0x1F642])
        return rng.choice(["&#%d;" % n, "&#x%x;" % n, "&#%d" % n, "&#X%X" % n, "&amp;#%d;" % n])
    if r < 0.26:
        return "\x1b[" + rng.choice(["0", "36;44", "1", "", "٣"]) + rng.choice("mKH")
    if r < 0.30:
        return rng.choice(["'s", "'S", "'ll", "'RE", "'ſ", "<|startoftext|>", "<|endoftext|>", "<|ENDOFTEXT|>"])
    if r < 0.55:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))) + rng.choice(["", ".", "!", ","])
    pool = rng.choice(POOLS)
    return "".join(rng.choice(pool) for _ in range(rng.randint(1, 8)))


def main():
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    context_length = sys.argv[3] if len(sys.argv) > 3 else "200"
    rng = random.Random(seed)
    entities = sorted(html.entities.html5)
    texts = []
    for _ in range(cases):
        text = " ".join(piece(rng, entities) for _ in range(rng.randint(0, 12)))
        if rng.random() < 0.1:
            text = "\n".join([text, piece(rng, entities), text])
        if rng.random() < 0.02:
            text = text * 20
        texts.append(text)

    reference = SimpleTokenizer()
    expected = [reference.tokenize(t, int(context_length)) for t in texts]
    rust = subprocess.run(
        ["cargo", "run", "-q", "--release", "-p", "clipstream-models", "--example", "tokenize_jsonl", "--",
         context_length],
        input="".join(json.dumps(t) + "\n" for t in texts),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    got = [json.loads(line) for line in rust.stdout.splitlines()]
    assert len(got) == len(texts), f"{len(got)} Rust rows for {len(texts)} texts"

    mojibake, other = 0, []
    for text, want, have in zip(texts, expected, got):
        if want == have:
            continue
        if ftfy.fix_text(text) != ftfy.fix_text(text, fix_encoding=False):
            mojibake += 1
        else:
            other.append((text, want, have))
    print(f"{cases} strings (seed {seed}, context {context_length}): {cases - mojibake - len(other)} equal, "
          f"{mojibake} differ where ftfy's fix_encoding (not ported) changes the text, {len(other)} other")
    for text, want, have in other[:10]:
        print(f"  {text!r}\n    reference {[i for i in want if i]}\n    rust      {[i for i in have if i]}")
    sys.exit(1 if other else 0)


if __name__ == "__main__":
    main()
