"""Keras 3's legacy Tokenizer.sequences_to_texts on sequences holding ids
that are not in index_word (padding 0, negative, beyond the vocabulary) and
ids >= num_words, for SequencesToTextsLenient.

    . ../shared/oracle/env.sh
    /usr/bin/python3 text/testdata/gen_lenient_ids.py text/testdata/lenient_ids.json
"""
import json
import sys

from keras.src.legacy.preprocessing.text import Tokenizer

TEXTS = ["the cat sat on the mat", "the dog ate the cat", "a b c d e f g h"]
SEQS = [[0, 0, 1, 2, 3], [-1, 1, 999, 2], [], [0], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]]
CONFIGS = [
    {},
    {"oov_token": "<OOV>"},
    {"num_words": 5},
    {"num_words": 5, "oov_token": "<OOV>"},
    {"char_level": True, "oov_token": "~"},
    {"char_level": True, "num_words": 4},
]

out = []
for cfg in CONFIGS:
    tok = Tokenizer(**cfg)
    tok.fit_on_texts(TEXTS)
    out.append({"args": cfg, "to_json": tok.to_json(), "sequences": SEQS,
                "texts": tok.sequences_to_texts(SEQS)})
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False, indent=0)
