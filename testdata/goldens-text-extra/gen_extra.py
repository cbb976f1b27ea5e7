"""Extra text goldens of the same kinds as ../goldens-text (tok_*, pad_*,
pipe_*, gen_*, s2s_*), with other texts, seeds, sizes and arguments, for
the CLI contract test (cmd/rnnconvert/textgolden_test.go). Same file layout
and case.json schema as the shared set, computed by real Keras 3.16 on the
numpy backend (the legacy Tokenizer, keras.utils.pad_sequences, models
with seeded random weights).

    . ../shared/oracle/env.sh
    /usr/bin/python3 testdata/goldens-text-extra/gen_extra.py testdata/goldens-text-extra
"""
import json
import os
import pickle
import shutil
import sys
import types

import numpy as np

import keras
from keras.src.legacy.preprocessing.text import Tokenizer
from keras.utils import pad_sequences

OUT = sys.argv[1]
RNG = np.random.default_rng(20261204)
CASES = []

WORDS = ("the a movie film plot acting actor story ending scene music was is were not very really "
         "good great bad awful boring brilliant funny sad long short slow loved hated liked watched "
         "again never always best worst of and but it this that i we they you too so").split()
PUNCT = [".", ",", "!", "?", "...", ";", " -", "(", ")", ":", "'s", "&"]


def review(n):
    out = []
    for i in range(n):
        w = str(RNG.choice(WORDS))
        r = RNG.random()
        if r < 0.08:
            w = w.upper()
        elif r < 0.2:
            w = w.capitalize()
        out.append(w)
        if RNG.random() < 0.15:
            out[-1] += str(RNG.choice(PUNCT))
    return " ".join(out)


def write_json(d, name, v):
    with open(os.path.join(d, name), "w", encoding="utf-8") as f:
        json.dump(v, f, ensure_ascii=False, indent=1)


def fresh(name):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def alias_class(module):
    """A Tokenizer subclass that pickles under module.Tokenizer, and the
    fake modules to remove afterwards (a fake "tensorflow" would make Keras
    believe TensorFlow is installed)."""
    parts = module.split(".")
    added = []
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name)
            added.append(name)
    cls = type("Tokenizer", (Tokenizer,), {"__module__": module, "__qualname__": "Tokenizer"})
    setattr(sys.modules[module], "Tokenizer", cls)
    return cls, added


def common(c):
    c["keras_version"] = keras.__version__
    c["backend"] = keras.backend.backend()
    return c


# ---------------------------------------------------------------- tokenizer

def tok_case(name, args, fit, texts, alts=()):
    d = fresh(name)
    tok = Tokenizer(**args)
    tok.fit_on_texts(fit)
    seqs = tok.texts_to_sequences(texts)
    back = tok.sequences_to_texts(seqs)
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(tok.to_json())
    write_json(d, "texts.json", texts)
    write_json(d, "sequences.json", seqs)
    write_json(d, "texts_back.json", back)
    mats = {}
    for mode in ["binary", "count", "freq", "tfidf"]:
        np.save(os.path.join(d, "matrix_%s.npy" % mode), tok.texts_to_matrix(texts, mode=mode).astype("float64"))
        mats[mode] = "matrix_%s.npy" % mode
    alt = {}
    for kind, proto, module in alts:
        if kind == "pickle":
            cls, added = alias_class(module)
            obj = cls.__new__(cls)
            obj.__dict__.update(tok.__dict__)
            with open(os.path.join(d, "tokenizer.pickle"), "wb") as f:
                pickle.dump(obj, f, protocol=proto)
            for m in added:
                del sys.modules[m]
            alt["tokenizer.pickle"] = "pickle protocol %d of %s.Tokenizer" % (proto, module)
        elif kind == "twice":
            with open(os.path.join(d, "tokenizer_twice.json"), "w", encoding="utf-8") as f:
                json.dump(tok.to_json(), f)
            alt["tokenizer_twice.json"] = "to_json() saved again with json.dump (a JSON string)"
        elif kind == "word_index":
            with open(os.path.join(d, "word_index.json"), "w", encoding="utf-8") as f:
                json.dump(tok.word_index, f, ensure_ascii=False)
            with open(os.path.join(d, "word_index.pickle"), "wb") as f:
                pickle.dump(tok.word_index, f, protocol=proto)
            alt["word_index.json"] = "json.dump(tokenizer.word_index): default Tokenizer settings apply"
            alt["word_index.pickle"] = "pickle of tokenizer.word_index: default Tokenizer settings apply"
    write_json(d, "case.json", common({
        "family": "tokenizer",
        "description": "Tokenizer(%r) fit on %d texts" % (args, len(fit)),
        "tokenizer_args": args,
        "alt_tokenizers": alt,
        "files": {"tokenizer": "tokenizer.json", "texts": "texts.json", "sequences": "sequences.json",
                  "texts_back": "texts_back.json", "matrices": mats},
        "tolerance": {"atol": 1e-12, "rtol": 1e-12},
    }))
    CASES.append({"name": name, "family": "tokenizer", "description": "Tokenizer(%r) fit on %d texts" % (args, len(fit))})


EDGE = ["", "   ", "!!! ... ???", "\t\n", "UNSEEN zzz qqq", "ΟΔΟΣ İstanbul Straße 😀 한국어",
        "non\u00a0breaking\u00a0space", "The The THE the", "e-mail: me@x.com"]


def tokenizers():
    fit = [review(int(RNG.integers(3, 18))) for _ in range(14)]
    texts = fit[:6] + [review(9) for _ in range(3)] + EDGE
    tok_case("x_tok_default_reviews", {}, fit, texts,
             [("pickle", 4, "keras.preprocessing.text"), ("twice", 0, ""), ("word_index", 3, "")])
    tok_case("x_tok_numwords_small_oov", {"num_words": 6, "oov_token": "<UNK>"}, fit, texts,
             [("pickle", 2, "keras_preprocessing.text")])
    tok_case("x_tok_numwords_small_no_oov", {"num_words": 3}, fit, texts,
             [("pickle", 5, "keras.src.legacy.preprocessing.text")])
    tok_case("x_tok_char_oov_upper", {"char_level": True, "oov_token": "#", "lower": False}, fit[:5], texts,
             [("pickle", 3, "tensorflow.python.keras.preprocessing.text"), ("twice", 0, "")])
    tok_case("x_tok_char_numwords_lower", {"char_level": True, "num_words": 9}, fit[:5], texts,
             [("pickle", 4, "keras_preprocessing.text")])
    tok_case("x_tok_multichar_split", {"split": ", ", "filters": "!"}, ["a, b, c, a", "b, , c,, d", "x,y, z!"],
             ["a, b", "c,, d, , e", "", ", ", "a b, c"], [("twice", 0, "")])
    tok_case("x_tok_filters_unicode", {"filters": "«»—…é😀", "lower": True, "oov_token": "?"},
             ["«Bonjour» — café… 😀 très", "l'été", "ÉCOLE école"], EDGE + ["«école»—été…"],
             [("pickle", 5, "keras.preprocessing.text")])
    tok_case("x_tok_only_filtered", {}, ["!!!", "...", "hello world"], ["!!!", "", "...hello..."],
             [("word_index", 2, "")])


# ---------------------------------------------------------------------- pad

def pad_case(name, seqs, args):
    d = fresh(name)
    write_json(d, "sequences.json", seqs)
    c = {"family": "pad", "pad_args": args, "files": {"sequences": "sequences.json"}}
    try:
        p = pad_sequences(seqs, **args)
        np.save(os.path.join(d, "padded.npy"), p)
        c["files"]["padded"] = "padded.npy"
        c["description"] = "pad_sequences(%r)" % (args,)
    except Exception as e:  # what Keras refuses
        c["expect_error"] = str(e)
        c["description"] = "pad_sequences(%r) raises" % (args,)
    write_json(d, "case.json", common(c))
    CASES.append({"name": name, "family": "pad", "description": c["description"]})


def pads():
    seqs = [[int(x) for x in RNG.integers(1, 50, int(RNG.integers(0, 9)))] for _ in range(7)]
    seqs[2] = []
    pad_case("x_pad_default_empty_row", seqs, {})
    pad_case("x_pad_value_negative_post", seqs, {"maxlen": 5, "padding": "post", "truncating": "post", "value": -1})
    pad_case("x_pad_float32_value", seqs, {"maxlen": 10, "value": -0.25, "dtype": "float32", "truncating": "post"})
    pad_case("x_pad_maxlen_zero_post", seqs, {"maxlen": 0, "truncating": "post"})
    pad_case("x_pad_maxlen_zero_pre", seqs, {"maxlen": 0})
    pad_case("x_pad_int_value_fraction", seqs, {"maxlen": 4, "value": 2.7})
    pad_case("x_pad_all_empty", [[], []], {})
    pad_case("x_pad_maxlen_one_pre_post", seqs, {"maxlen": 1, "padding": "pre", "truncating": "post"})
    pad_case("x_pad_bad_padding", seqs, {"maxlen": 3, "padding": "middle"})
    pad_case("x_pad_bad_truncating", seqs, {"maxlen": 3, "truncating": "both"})
    pad_case("x_pad_float32_tenth", [[1, 2], [3, 4, 5, 6]], {"maxlen": 3, "value": 0.1, "dtype": "float32"})


# ------------------------------------------------------------------- models

def randomize(model, scale=0.6):
    for w in model.weights:
        w.assign(RNG.normal(0, scale, w.shape).astype("float32"))


def save_models(model, d):
    model.save(os.path.join(d, "model.keras"))
    model.save(os.path.join(d, "model.h5"))


def pipe_case(name, args, pad, build, fit, texts):
    d = fresh(name)
    tok = Tokenizer(**args)
    tok.fit_on_texts(fit)
    vocab = (args.get("num_words") or len(tok.word_index) + 1)
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(tok.to_json())
    write_json(d, "texts.json", texts)
    x = pad_sequences(tok.texts_to_sequences(texts), **pad)
    model = build(vocab, pad["maxlen"])
    randomize(model)
    y = model.predict(x, verbose=0)
    np.save(os.path.join(d, "x0.npy"), x)
    np.save(os.path.join(d, "y0.npy"), y)
    save_models(model, d)
    desc = "text -> Tokenizer(%r) -> pad_sequences(%s) -> model" % (args, ", ".join("%s=%s" % kv for kv in pad.items()))
    write_json(d, "case.json", common({
        "family": "pipeline", "description": desc, "tokenizer_args": args, "pad_args": pad,
        "files": {"tokenizer": "tokenizer.json", "texts": "texts.json", "ids": "x0.npy", "output": "y0.npy",
                  "models": ["model.keras", "model.h5"]},
        "tolerance": {"atol": 1e-5, "rtol": 1e-4},
    }))
    CASES.append({"name": name, "family": "pipeline", "description": desc})


L = keras.layers


def simplernn_sentiment(vocab, n):
    i = keras.Input((n,), dtype="int32")
    h = L.Embedding(vocab, 8, mask_zero=True)(i)
    h = L.SimpleRNN(6)(h)
    return keras.Model(i, L.Dense(3, activation="softmax")(h))


def bigru_sentiment(vocab, n):
    i = keras.Input((n,), dtype="int32")
    h = L.Embedding(vocab, 8)(i)
    h = L.Bidirectional(L.GRU(5))(h)
    return keras.Model(i, L.Dense(1, activation="sigmoid")(h))


def lstm_tagger(vocab, n):
    i = keras.Input((n,), dtype="int32")
    h = L.Embedding(vocab, 6, mask_zero=True)(i)
    h = L.LSTM(7, return_sequences=True)(h)
    return keras.Model(i, L.TimeDistributed(L.Dense(4, activation="softmax"))(h))


def pipes():
    fit = [review(int(RNG.integers(4, 14))) for _ in range(12)]
    texts = fit[:3] + [review(20), review(2)] + ["", "!!!", "UNSEEN words only", "Great GREAT great!"]
    pipe_case("x_pipe_simplernn_oov_pre", {"num_words": 15, "oov_token": "<OOV>"},
              {"maxlen": 7, "padding": "pre", "truncating": "post", "value": 0}, simplernn_sentiment, fit, texts)
    pipe_case("x_pipe_bigru_char_post", {"char_level": True},
              {"maxlen": 20, "padding": "post", "truncating": "pre"}, bigru_sentiment, fit, texts)
    pipe_case("x_pipe_lstm_tagger_default", {},
              {"maxlen": 11, "padding": "post", "truncating": "post"}, lstm_tagger, fit, texts)


# --------------------------------------------------------------- generation

def gen_case(name, args, fit, window, steps, seeds, cell):
    d = fresh(name)
    tok = Tokenizer(**args)
    tok.fit_on_texts(fit)
    vocab = len(tok.word_index) + 1
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(tok.to_json())
    i = keras.Input((window,), dtype="int32")
    h = L.Embedding(vocab, 8)(i)
    h = cell(12)(h)
    model = keras.Model(i, L.Dense(vocab, activation="softmax")(h))
    randomize(model, 0.8)
    # The padding id 0 is never a word: keep it improbable.
    k, b = model.layers[-1].get_weights()
    b[0] = -20
    model.layers[-1].set_weights([k, b])
    sep = "" if args.get("char_level") else " "
    out = []
    for seed in seeds:
        ids = tok.texts_to_sequences([seed])[0]
        new = []
        margin = 1.0
        for _ in range(steps):
            x = pad_sequences([ids], maxlen=window, padding="pre")
            p = model.predict(x, verbose=0)[0]
            top = np.sort(p)[-2:]
            margin = min(margin, float(top[1] - top[0]))
            nxt = int(np.argmax(p))
            ids.append(nxt)
            new.append(nxt)
        out.append({"seed": seed, "ids": new, "text": sep.join(tok.index_word[j] for j in new), "min_margin": margin})
    write_json(d, "generated.json", out)
    save_models(model, d)
    desc = "greedy %d-step continuation, window %d, pre-padded, Tokenizer(%r)" % (steps, window, args)
    write_json(d, "case.json", common({
        "family": "generate", "description": desc, "window": window, "steps": steps, "padding": "pre",
        "files": {"tokenizer": "tokenizer.json", "generated": "generated.json", "models": ["model.keras", "model.h5"]},
    }))
    CASES.append({"name": name, "family": "generate", "description": desc})


def gens():
    fit = [review(int(RNG.integers(5, 15))) for _ in range(10)]
    gen_case("x_gen_word_lstm_w3", {}, fit, 3, 9, ["the movie", "", "UNSEEN", "Great acting, really GOOD ending"], L.LSTM)
    gen_case("x_gen_char_gru_w16", {"char_level": True}, fit[:4], 16, 30, ["the plot ", "a", "ÉÉ", ""], L.GRU)
    gen_case("x_gen_char_simplernn_oov", {"char_level": True, "oov_token": "~", "lower": False},
             ["안녕하세요 세계", "Hello World"], 5, 12, ["안녕", "Hello", "xyz"], L.SimpleRNN)


# ------------------------------------------------------------------ seq2seq

def s2s_case(name, pairs, latent, inputs):
    d = fresh(name)
    src = sorted(set("".join(p[0] for p in pairs)))
    tgt = sorted(set("".join("\t" + p[1] + "\n" for p in pairs)))
    max_dec = max(len(p[1]) for p in pairs) + 2
    ne, nd = len(src), len(tgt)
    ei = keras.Input((None, ne), name="encoder_inputs")
    _, sh, sc = L.LSTM(latent, return_state=True, name="encoder_lstm")(ei)
    di = keras.Input((None, nd), name="decoder_inputs")
    dl = L.LSTM(latent, return_sequences=True, return_state=True, name="decoder_lstm")
    do, _, _ = dl(di, initial_state=[sh, sc])
    dd = L.Dense(nd, activation="softmax", name="decoder_dense")
    model = keras.Model([ei, di], dd(do))
    randomize(model, 0.7)
    enc = keras.Model(ei, [sh, sc])
    hs, cs = keras.Input((latent,)), keras.Input((latent,))
    o, h, c = dl(di, initial_state=[hs, cs])
    dec = keras.Model([di, hs, cs], [dd(o), h, c])
    decoded = []
    for text in inputs:
        x = np.zeros((1, max(len(text), 1), ne), "float32")
        for t, ch in enumerate(text):
            if ch in src:
                x[0, t, src.index(ch)] = 1
        h, c = enc.predict(x, verbose=0)
        y = np.zeros((1, 1, nd), "float32")
        y[0, 0, tgt.index("\t")] = 1
        s, margin = "", 1.0
        while True:
            p, h, c = dec.predict([y, h, c], verbose=0)
            top = np.sort(p[0, -1])[-2:]
            margin = min(margin, float(top[1] - top[0]))
            k = int(np.argmax(p[0, -1]))
            ch = tgt[k]
            if ch == "\n" or len(s) >= max_dec:
                break
            s += ch
            y = np.zeros((1, 1, nd), "float32")
            y[0, 0, k] = 1
        decoded.append({"input": text, "decoded": s, "min_margin": margin})
    write_json(d, "vocab.json", {"source_chars": src, "target_chars": tgt, "start": "\t", "stop": "\n",
                                 "max_decoder_len": max_dec})
    write_json(d, "decoded.json", decoded)
    save_models(model, d)
    desc = "character seq2seq (Keras lstm_seq2seq example), latent %d, greedy" % latent
    write_json(d, "case.json", common({
        "family": "seq2seq", "description": desc,
        "files": {"models": ["model.keras", "model.h5"], "vocab": "vocab.json", "decoded": "decoded.json"},
        "layers": {"encoder_inputs": "encoder_inputs", "encoder_lstm": "encoder_lstm",
                   "decoder_inputs": "decoder_inputs", "decoder_lstm": "decoder_lstm", "decoder_dense": "decoder_dense"},
    }))
    CASES.append({"name": name, "family": "seq2seq", "description": desc})


def s2s():
    pairs = [("hi.", "salut."), ("run!", "cours !"), ("i see.", "je vois."), ("thanks!", "merci !"),
             ("cheers!", "santé !"), ("wait.", "attends."), ("he ran.", "il a couru.")]
    s2s_case("x_s2s_char_lstm_small", pairs, 10, ["hi.", "run!", "wait!", "he saw.", "xyz", "HI.", "cheers, i see."])


# ONLY=pad (a family's function name) regenerates that family alone and
# keeps the other entries of index.json (the models stay byte-identical).
ONLY = os.environ.get("ONLY")
FAMILY = {"tokenizers": "tokenizer", "pads": "pad", "pipes": "pipeline", "gens": "generate", "s2s": "seq2seq"}
for i, fn in enumerate([tokenizers, pads, pipes, gens, s2s]):
    RNG = np.random.default_rng([20261204, i])  # each family its own stream
    if ONLY in (None, fn.__name__):
        fn()
if ONLY:
    with open(os.path.join(OUT, "index.json"), encoding="utf-8") as f:
        old = json.load(f)["cases"]
    CASES = [c for c in old if c["family"] != FAMILY[ONLY]] + CASES
    order = list(FAMILY.values())
    CASES.sort(key=lambda c: order.index(c["family"]))
write_json(OUT, "index.json", {"keras_version": keras.__version__, "seed": 20261204, "cases": CASES})
