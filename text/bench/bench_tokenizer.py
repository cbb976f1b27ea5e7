"""CPython baseline for BenchmarkTokenize (text/bench_test.go): Keras 3's
legacy Tokenizer (keras.src.legacy.preprocessing.text, the same code as
tf.keras 2.x's keras.preprocessing.text.Tokenizer) on the corpus of
corpus.py.

    . ../shared/oracle/env.sh
    /usr/bin/python3 text/bench/bench_tokenizer.py
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus import checksum, corpus  # noqa: E402

from keras.src.legacy.preprocessing.text import Tokenizer  # noqa: E402


def best(fn, repeat=3):
    """Best wall time and best CPU time (process_time) of repeat runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return (min(walls), min(cpus)), out


def main():
    texts = corpus()
    print("corpus", checksum(texts), len(texts), "texts")
    print(sys.version.split()[0])
    tok = Tokenizer(num_words=20000, oov_token="<OOV>")
    fmt = "%-20s wall %8.1f ms   cpu %8.1f ms"
    t, _ = best(lambda: Tokenizer(num_words=20000, oov_token="<OOV>").fit_on_texts(texts), 1)
    print(fmt % ("fit_on_texts", t[0] * 1e3, t[1] * 1e3))
    tok.fit_on_texts(texts)
    t, seqs = best(lambda: tok.texts_to_sequences(texts))
    print(fmt % ("texts_to_sequences", t[0] * 1e3, t[1] * 1e3), "(%d ids)" % sum(map(len, seqs)))
    t, _ = best(lambda: tok.sequences_to_texts(seqs))
    print(fmt % ("sequences_to_texts", t[0] * 1e3, t[1] * 1e3))


if __name__ == "__main__":
    main()
