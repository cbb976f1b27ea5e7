"""Unicode pins: CPython's str.lower (what the Keras Tokenizer calls) against
TensorFlow's ASCII-only tf.strings.lower (what TextVectorization calls), and
Keras 3's legacy Tokenizer (keras.src.legacy.preprocessing.text, the same
code as tf.keras 2.x) on the same texts.

Run from the project root with the oracle environment (see
/work/shared/oracle/README.md):

    . ../shared/oracle/env.sh
    /usr/bin/python3 text/testdata/gen_unicode_pins.py text/testdata/unicode_pins.json
"""
import json
import sys
import unicodedata

from keras.src.legacy.preprocessing.text import Tokenizer

TEXTS = [
    # Greek: final sigma at word ends, medial sigma, a lone capital sigma,
    # sigma after an apostrophe and before a combining mark.
    "ΟΔΟΣ ΣΟΦΟΣ Σ ΑΣ. ΣΑΣ ΑΣ'Σ ΑΣ\u0308 ΑΣ\u0308Α ΌΣΟΣ",
    "ὈΔΥΣΣΕΎΣ ΐ Ϊ́",
    # Turkish dotted capital I: Python gives "i" + U+0307.
    "İstanbul DİYARBAKIR İİ ıI",
    # Sharp s: str.lower leaves ß; capital ẞ lowers to ß.
    "Straße STRASSE ẞ",
    # Combining marks, precomposed and decomposed.
    "Café CAFE\u0301 É\u0301 A\u030a Å",
    # Emoji, skin tone, ZWJ family, flags: unchanged.
    "emoji 😀 👍🏽 👨\u200d👩\u200d👧 🇰🇷 GREAT😀",
    # No-break and other non-ASCII spaces: not split by split=' '.
    "non\u00a0breaking SPACE\u00a0Here em\u2003space ideo\u3000graphic",
    # Korean and Japanese: uncased.
    "안녕하세요 세계 한국어 텍스트 ÀB 日本語テキスト",
    # Titlecase digraphs, compatibility capitals.
    "ǅungla ǈ ǋ Ǳ \u212a \u212b \u2126 ﬁ ﬀ",
    # Cyrillic, Armenian, Cherokee, Georgian Mtavruli.
    "ПРИВЕТ Мир ԱԲԳ ᏣᎳᎩ ᲒᲐᲛᲐᲠᲯᲝᲑᲐ",
    # Fullwidth and circled letters.
    "ＡＢＣ ⒶⒷ ⅠⅡ",
    # Only filtered characters, and only spaces.
    "!!! ... ???",
    "   ",
    "",
    # Mixed: the same word in different cases must meet in one id when
    # lowered by Python, but not by TF.
    "ΣΑΣ σας ΣΑς İi i\u0307 MÜNCHEN münchen",
]

TOKENIZER_CONFIGS = [
    {},
    {"lower": False},
    {"char_level": True},
    {"char_level": True, "lower": False, "oov_token": "<OOV>"},
    {"oov_token": "<OOV>", "num_words": 12},
]


def tf_lower(s):
    # tf.strings.lower(s) with no encoding: bytes A-Z only.
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in s)


def main(path):
    out = {
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
        "texts": TEXTS,
        "python_lower": [t.lower() for t in TEXTS],
        "ascii_lower": [tf_lower(t) for t in TEXTS],
        # What str.split() (no argument: Unicode whitespace) and
        # str.split(' ') (the Tokenizer's default) give.
        "python_split_none": [t.split() for t in TEXTS],
        "python_split_space": [t.split(" ") for t in TEXTS],
        "tokenizers": [],
    }
    for cfg in TOKENIZER_CONFIGS:
        tok = Tokenizer(**cfg)
        tok.fit_on_texts(TEXTS)
        seqs = tok.texts_to_sequences(TEXTS)
        out["tokenizers"].append(
            {
                "args": cfg,
                "word_index": tok.word_index,
                "sequences": seqs,
                "texts_back": tok.sequences_to_texts(seqs),
                "to_json": tok.to_json(),
            }
        )
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main(sys.argv[1])
