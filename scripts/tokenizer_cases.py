"""Seeded tokenizer test cases with open_clip's own tokenizer as the reference.

Generates N strings (deterministic for a seed): video-style English captions from templates and a vocabulary,
punctuation-heavy text, emoji (skin tones, ZWJ sequences, flags, keycaps), CJK (Chinese, Japanese kana/kanji,
Korean), accented Latin / Vietnamese / combining marks, Cyrillic, Greek, Arabic, Hebrew, Hindi, Thai, HTML entities
(`&amp;`, `&lt;3`, numeric ones), numbers, contractions (any case, curly apostrophes), whitespace runs (tabs,
newlines, NBSP, ideographic space), very long strings (> 2000 characters), mixtures of all of these, and a few fixed
edge cases (the empty string first). Then tokenizes each with `open_clip.tokenize` (open_clip's
`SimpleTokenizer`, clean='lower') at context lengths 77 and 32 and writes one JSON object per line, in the format of
models/tests/fixtures/viclip/tokenizer-cases.jsonl:

    {"text": ..., "ids77": [...], "ids32": [...]}                       (start 49406, end 49407, zero padding)

plus `"fix_encoding_changes": true` on the strings whose tokenization depends on ftfy's mojibake repair (the one
step of `ftfy.fix_text` clipstream's Rust tokenizer does not port): `ftfy.fix_text(t)` differs from
`ftfy.fix_text(t, fix_encoding=False)`, or `ftfy.fix_encoding(t) != t`. No mojibake is generated on purpose;
natural text rarely trips ftfy's detector. Special-token literals (`<|endoftext|>`, open_clip's `<end_of_text>`)
are not generated: open_clip and OpenAI CLIP disagree on them.

Usage: .venv/bin/python scripts/tokenizer_cases.py --count 12000 --seed 20261125 --out cases.jsonl
(models/tests/tokenizer_open_clip.rs runs exactly this; a few seconds for 12,000 strings.)
"""
import argparse
import json
import random
import sys
import time

import ftfy
import open_clip

SUBJECTS = ("man woman child girl boy dog cat puppy chef skateboarder surfer crowd band teacher horse bird drone "
            "car train cyclist dancer player baby toddler grandmother robot fox deer").split()
ADJECTIVES = ("young old small large red blue green white black yellow happy smiling tired wet muddy fluffy "
              "professional elderly colorful shiny").split()
VERBS = ("walks|runs|jumps|dances|sings|cooks|slices tomatoes|plays guitar|rides a bike|swims|drives|reads a book|"
         "paints|throws a ball|catches a frisbee|laughs|waves|climbs a wall|skates|surfs a wave|eats pizza|"
         "talks on the phone|is playing|'s sleeping").split("|")
PLACES = ("in a kitchen|on the beach|down a busy street|in a park|on stage|in the snow|at night|in a forest|"
          "on a mountain|in a living room|at a wedding|in the rain|on a boat|in a stadium|near a lake|"
          "at the market|in slow motion|in a classroom|under a bridge|inside a car").split("|")
OPENERS = ["", "", "", "A video of ", "Footage of ", "Close-up of ", "Timelapse: ", "Aerial view of ",
           "In this clip, ", "4K HD video: ", "POV: ", "Slow motion shot of "]
ENDINGS = ["", ".", ".", "!", "?", "...", " #travel #vlog", " (2019)", " - part 2", " | Full HD", " 😂", " lol"]
CONTRACTIONS = ["it's", "It's", "IT'S", "don't", "DON'T", "can't", "they're", "THEY'RE", "we've", "We've", "I'm",
                "I'M", "you'll", "YOU'LL", "he'd", "HE'D", "she's", "won't", "isn't", "y'all", "rock 'n' roll",
                "'s", "'S", "'t", "'re", "'ve", "'M", "'ll", "'D", "o'clock", "it\u2019s", "don\u2019t",
                "\u2018quoted\u2019", "\u201cquoted\u201d", "ma'am", "'90s", "the dog's bone", "JAMES'S"]
PUNCT = list(".,!?;:'\"-_()[]{}<>&#/\\|@*+=%$^~`") + ["...", "!!!", "?!", "--", "\u2014", "\u2013", "\u2026",
                                                     "\u00bf", "\u00a1", "\u00ab", "\u00bb", "\u00b7", "\u2022"]
PUNCT_WORDS = ["https://example.com/watch?v=abc_123&t=42s", "user@example.org", "C:\\Users\\clip.mp4",
               "/home/me/video-01.mkv", "#hashtag", "@someone", "(1/3)", "$5.99", "50%", "A+B=C", "e.g.", "U.S.A.",
               "<b>bold</b>", "[music]", "{json: true}", "a/b/c", "***", "~~~", "^_^", ":-)", ";)", "<3", "->", "=>"]
EMOJI = ["\U0001f600", "\U0001f602", "\U0001f642", "\u2764\ufe0f", "\u2764", "\U0001f525", "\U0001f3b8",
         "\U0001f436", "\U0001f431", "\U0001f355", "\u2728", "\u2705", "\u26bd", "\U0001f3c4", "\U0001f680",
         "\u2603\ufe0f", "\u263a", "\u2122", "\u00a9", "\U0001f1fa\U0001f1f8", "\U0001f1ef\U0001f1f5",
         "\U0001f1eb\U0001f1f7", "\U0001f1e9\U0001f1ea", "\U0001f1fb\U0001f1f3", "\U0001f3f4\u200d\u2620\ufe0f",
         "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", "\U0001f469\u200d\U0001f4bb",
         "\U0001f3f3\ufe0f\u200d\U0001f308", "\U0001f9d1\U0001f3fd\u200d\U0001f373", "1\ufe0f\u20e3", "#\ufe0f\u20e3",
         "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"]
SKIN_BASES = ["\U0001f44d", "\U0001f44b", "\U0001f64f", "\U0001f9d1", "\U0001f3c3", "\u270c"]
SKIN_TONES = ["", "\U0001f3fb", "\U0001f3fc", "\U0001f3fd", "\U0001f3fe", "\U0001f3ff"]
CHINESE = "一个男人在厨房里切西红柿女孩海滩上跑步狗公园玩球视频高清城市夜晚雨中跳舞猫咪睡觉汽车路开快乐的孩子们唱歌学校"
CN_PUNCT = "，。！？、：；“”（）《》"
KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんがぎぐげござじずぜぞっゃゅょ"
KATAKANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンーッャュョ"
JP_PHRASES = ["猫が寝ています。", "東京の夜景", "ラーメンを食べる", "ビデオカメラで撮影", "こんにちは、世界！", "新幹線が走る"]
KO_PHRASES = ["한국어 자막", "강아지가 공원에서 뛰어요", "맛있는 김치찌개", "서울의 밤", "안녕하세요!"]
LATIN = ["Café au lait à Paris", "naïve façade, déjà vu", "Über den Wolken", "Straße in München", "niño jugando "
         "fútbol", "São Paulo à noite", "Kraków, Łódź i Gdańsk", "İstanbul'da çay içmek", "smörgåsbord på Åland",
         "Ærø og Øresund", "crème brûlée", "piñata", "Dvořák", "Þórsmörk", "coração", "ÉCOLE ÉLÉMENTAIRE",
         "SÃO PAULO", "Ñandú"]
VIETNAMESE = ["Một người đàn ông đang nấu ăn trong bếp", "Cô gái chạy trên bãi biển", "Phở bò Hà Nội",
              "Thành phố Hồ Chí Minh về đêm", "Chúc mừng năm mới", "Đà Nẵng", "người", "Tiếng Việt có dấu"]
COMBINING = ["\u0301", "\u0300", "\u0308", "\u0303", "\u0327", "\u030a", "\u0323", "\u0302", "\u0306", "\u031b",
             "\u0345", "\u0342"]
OTHER_SCRIPTS = ["Привет, мир! Собака бежит по пляжу", "Москва ночью", "ЁЛКА и ёжик", "Καλημέρα κόσμε",
                 "ΟΔΟΣ ΣΟΦΊΑΣ", "ἀρχή", "مرحبا بالعالم", "القطة تنام على الأريكة", "٣ قطط", "नमस्ते दुनिया",
                 "एक कुत्ता पार्क में दौड़ रहा है", "क्षत्रिय", "שלום עולם", "สวัสดีชาวโลก",
                 "Українська мова: їжак, ґанок", "Ελληνικά: ψάρι, ωκεανός", "فيديو عالي الدقة ١٠٨٠"]
ENTITIES = ["&amp;", "&lt;3", "&gt;", "&quot;", "&#39;", "&apos;", "&nbsp;", "&eacute;", "&Eacute;", "&copy;",
            "&hellip;", "&mdash;", "&rsquo;", "&#8217;", "&#x2764;", "&#x1F600;", "&#169;", "&amp;amp;", "&amp;lt;",
            "&amp", "&lt", "AT&T", "R&D", "Tom &amp; Jerry", "fish &amp; chips", "I &lt;3 NY", "&euro;5", "&frac12;",
            "&notanentity;", "&#0;", "&#65;&#66;", "&#x41;", "&ampere;", "&ltimes;", "&nbsp&nbsp"]
SPACES = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", " \n ", "\u00a0", "\u3000", "\u2003", "\u2009",
          "\u202f", "\x0c", "\x0b", "\u2028", "\u200b"]
FIXED = ["", " ", "\n", "\t", " \t\n\r ", "\u00a0\u3000", "a", "A", ".", "'", "''", "'s", "0", "12345",
         "A woman slices tomatoes in a kitchen.", "HELLO World", "\U0001f44d\U0001f3fd", "东京", "&amp;", "&lt;3"]


def caption(rng):
    det = rng.choice(["a", "the", "two", "three", "some", "A", "The", "an old", "my"])
    adj = rng.choice(ADJECTIVES) + " " if rng.random() < 0.6 else ""
    subject = rng.choice(SUBJECTS) + ("s" if det in ("two", "three", "some") else "")
    text = f"{rng.choice(OPENERS)}{det} {adj}{subject} {rng.choice(VERBS)} {rng.choice(PLACES)}"
    if rng.random() < 0.3:
        text += f" while {rng.choice(['a', 'the'])} {rng.choice(SUBJECTS)} {rng.choice(VERBS)}"
    text += rng.choice(ENDINGS)
    if rng.random() < 0.15:
        text = text.upper()
    elif rng.random() < 0.5:
        text = text[:1].upper() + text[1:]
    return text


def punctuation(rng):
    parts = []
    for _ in range(rng.randint(1, 10)):
        r = rng.random()
        if r < 0.5:
            parts.append("".join(rng.choice(PUNCT) for _ in range(rng.randint(1, 6))))
        elif r < 0.75:
            parts.append(rng.choice(PUNCT_WORDS))
        else:
            parts.append(rng.choice(SUBJECTS))
    return rng.choice(["", " "]).join(parts)


def emoji(rng):
    parts = []
    for _ in range(rng.randint(1, 6)):
        r = rng.random()
        if r < 0.3:
            parts.append(rng.choice(SKIN_BASES) + rng.choice(SKIN_TONES))
        elif r < 0.8:
            parts.append(rng.choice(EMOJI))
        else:
            parts.append(caption(rng))
    return rng.choice(["", " "]).join(parts)


def cjk(rng):
    r = rng.random()
    if r < 0.35:
        text = "".join(rng.choice(CHINESE) for _ in range(rng.randint(1, 30)))
        return text + rng.choice(["", rng.choice(CN_PUNCT)])
    if r < 0.65:
        pool = rng.choice([KANA, KATAKANA, KANA + KATAKANA + CHINESE])
        return rng.choice(JP_PHRASES + [""]) + "".join(rng.choice(pool) for _ in range(rng.randint(1, 20)))
    if r < 0.85:
        return " ".join(rng.choice(KO_PHRASES) for _ in range(rng.randint(1, 3)))
    hangul = "".join(chr(0xAC00 + rng.randrange(11172)) for _ in range(rng.randint(1, 12)))
    return hangul + " " + "".join(chr(0xFF01 + rng.randrange(94)) for _ in range(rng.randint(0, 5)))


def accented(rng):
    r = rng.random()
    if r < 0.4:
        return rng.choice(LATIN) + rng.choice(["", ".", "!", " " + caption(rng)])
    if r < 0.7:
        return rng.choice(VIETNAMESE) + rng.choice(["", "."])
    base = rng.choice(["cafe", "nai", "resume", "Angstrom", "nguoi", "zalgo", "A", "e"])
    return "".join(c + "".join(rng.choice(COMBINING) for _ in range(rng.randint(0, 3))) for c in base)


def number(rng):
    i = rng.randint
    r = rng.randrange(8)
    if r == 0:
        return str(i(0, 10 ** i(1, 12)))
    if r == 1:
        return f"{rng.uniform(-1000, 1000):.{i(1, 5)}f}"
    if r == 2:
        return f"{i(1, 999)},{i(100, 999)},{i(100, 999)}"
    if r == 3:
        return f"{i(1990, 2030)}-{i(1, 12):02d}-{i(1, 28):02d} {i(0, 23)}:{i(0, 59):02d}"
    if r == 4:
        return f"{i(1, 9)}e{i(-9, 9)}"
    if r == 5:
        return f"+1 ({i(200, 999)}) {i(100, 999)}-{i(1000, 9999)}"
    return rng.choice(["1080p", "4K", "60fps", "3x", "24/7", "No. 5", "#1", "v2.0.1", "½", "²", "①", "Ⅻ", "٣",
                       "१२३", "１２３", "𝟙𝟚", "$1.5M", "-40°C", "3/4"])


def numbers(rng):
    return " ".join(number(rng) for _ in range(rng.randint(1, 6)))


def contractions(rng):
    words = [rng.choice(CONTRACTIONS if rng.random() < 0.5 else SUBJECTS) for _ in range(rng.randint(1, 8))]
    return " ".join(words) + rng.choice(["", ".", "!"])


def whitespace(rng):
    parts = [rng.choice(SPACES)]
    for _ in range(rng.randint(0, 5)):
        parts.append(rng.choice([rng.choice(SUBJECTS), caption(rng), ""]))
        parts.append("".join(rng.choice(SPACES) for _ in range(rng.randint(1, 4))))
    return "".join(parts)


def html_entities(rng):
    parts = [rng.choice(ENTITIES) if rng.random() < 0.5 else rng.choice(SUBJECTS) for _ in range(rng.randint(1, 6))]
    text = rng.choice(["", " "]).join(parts)
    return text if rng.random() < 0.8 else text + "\n<p>" + rng.choice(ENTITIES) + "</p>"


def other_scripts(rng):
    return " ".join(rng.choice(OTHER_SCRIPTS) for _ in range(rng.randint(1, 3)))


KINDS = [(caption, 35), (punctuation, 7), (emoji, 8), (cjk, 8), (accented, 8), (other_scripts, 6),
         (html_entities, 6), (numbers, 5), (contractions, 5), (whitespace, 4)]


def mixed(rng):
    funcs = [f for f, _ in KINDS]
    return rng.choice([" ", "", "\n", ", "]).join(rng.choice(funcs)(rng) for _ in range(rng.randint(2, 5)))


def long_text(rng):
    parts, length = [], 0
    target = rng.randint(2001, 6000)
    while length <= target:
        parts.append(mixed(rng) if rng.random() < 0.3 else caption(rng))
        length += len(parts[-1]) + 1
    return " ".join(parts)


def generate(count, seed):
    rng = random.Random(seed)
    funcs, weights = zip(*(KINDS + [(mixed, 6), (long_text, 2)]))
    texts = FIXED[:count]
    while len(texts) < count:
        texts.append(rng.choices(funcs, weights)[0](rng))
    return texts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=12000, help="number of strings (default 12000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, help="output .jsonl file")
    args = parser.parse_args()

    start = time.monotonic()
    texts = generate(args.count, args.seed)
    ids77 = open_clip.tokenize(texts, context_length=77).tolist()
    ids32 = open_clip.tokenize(texts, context_length=32).tolist()
    flagged = 0
    with open(args.out, "w", encoding="utf-8") as out:
        for text, a, b in zip(texts, ids77, ids32):
            row = {"text": text, "ids77": a, "ids32": b}
            if ftfy.fix_text(text) != ftfy.fix_text(text, fix_encoding=False) or ftfy.fix_encoding(text) != text:
                row["fix_encoding_changes"] = True
                flagged += 1
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(texts)} cases (seed {args.seed}, {sum(len(t) > 2000 for t in texts)} over 2000 chars, "
          f"{flagged} changed by ftfy's fix_encoding) -> {args.out} in {time.monotonic() - start:.1f}s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
