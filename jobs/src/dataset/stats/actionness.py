"""Actionness of video captions for `clipstream stats`: reads one JSON string (a caption) per line on stdin and
prints one JSON object with verb statistics and the most frequent content words.

Part-of-speech tags come from TextBlob's PatternTagger (the Pattern library's Brill-style English lexicon tagger,
shipped inside the textblob package: no corpus download); lemmas from lemminflect (its tables ship inside the
package). Verbs are tokens tagged VB*; the auxiliaries be/have/do are not counted as actions.
"""
import json
import sys
from collections import Counter
from importlib.metadata import version

from lemminflect import getLemma
from textblob.en.taggers import PatternTagger

AUXILIARIES = {"be", "have", "do"}
MAX_VERBS_BIN = 10


def lemma(word, upos):
    lemmas = getLemma(word.lower(), upos=upos)
    return lemmas[0] if lemmas else word.lower()


def main():
    top = int(sys.argv[1])
    tagger = PatternTagger()
    verbs, words, per_caption = Counter(), Counter(), Counter()
    captions = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        captions += 1
        count = 0
        for word, tag in tagger.tag(json.loads(line)):
            if not word.isalpha():
                continue
            if tag.startswith("VB"):
                verb = lemma(word, "VERB")
                if verb in AUXILIARIES:
                    continue
                verbs[verb] += 1
                words[verb] += 1
                count += 1
            elif tag.startswith("NN"):
                words[lemma(word, "NOUN")] += 1
            elif tag.startswith("JJ"):
                words[word.lower()] += 1
        per_caption[min(count, MAX_VERBS_BIN)] += 1
    total = sum(verbs.values())
    json.dump(
        {
            "tool": f"textblob {version('textblob')} PatternTagger + lemminflect {version('lemminflect')}",
            "captions": captions,
            "verbs": total,
            "distinct_verbs": len(verbs),
            "verbs_per_caption": total / captions if captions else 0.0,
            "captions_with_verb": captions - per_caption[0],
            "verbs_per_caption_counts": [per_caption[i] for i in range(MAX_VERBS_BIN + 1)],
            "top_verbs": verbs.most_common(top),
            "top_words": words.most_common(top),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
