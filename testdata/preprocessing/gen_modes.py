"""Goldens for preprocessing options beyond ../goldens-text/textvectorization:
TextVectorization ngrams (int and multi_hot), count with pad_to_max_tokens,
tf_idf with its idf weights in model.weights.h5, StringLookup with a config
vocabulary, a mask token and two OOV indices... (see CASES), each followed by
layers real Keras computes.

TextVectorization, StringLookup and IntegerLookup need TensorFlow, which the
oracle (Keras 3.16 on the numpy backend) lacks. So, as the shared goldens do:
  * pre.npy, what the preprocessing layer outputs, is computed here by
    TensorFlow's string ops as Keras calls them (tf.strings.lower: ASCII A-Z
    only; the punctuation regex; split on runs of ASCII whitespace;
    tf.strings.ngrams with separator " "; the IndexLookup vocabulary with ""
    id 0 and "[UNK]" id 1 in int mode, "[UNK]" id 0 otherwise; bincount
    dropping the mask; tf_idf = count * idf);
  * the rest of the model is real Keras: a Sequential model whose input is
    pre.npy, with seeded weights, saved by Keras as .keras, then given the
    string InputLayer and the preprocessing layer's config (as Keras 3.16's
    get_config writes it), its vocabulary asset and, for tf_idf, its
    idf_weights variable (layers/<layer>/vars/idf_weights, where Keras'
    save_own_variables puts it);
  * y0.npy = that Keras model's predict(pre.npy).

Run: . ../../../shared/oracle/env.sh && /usr/bin/python3 gen_modes.py
(from this folder; writes one folder per case).
"""
import json
import os
import re
import shutil
import zipfile

import h5py
import numpy as np

import keras

PUNCT = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
WS = re.compile(r"[ \t\n\v\f\r]+")

TEXTS = [
    "The movie was GREAT, truly great!",
    "I hated it... never again.",
    "great acting, great plot; never boring",
    "Worst. Plot. Ever?",
    "the the plot the acting",
    "",
    "UNSEEN words ONLY here",
    "it was not great, it was not bad",
]


def tf_lower(s):
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


def standardize(s, mode):
    if mode in ("lower", "lower_and_strip_punctuation"):
        s = tf_lower(s)
    if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
        s = PUNCT.sub("", s)
    return s


def split(s, mode):
    if mode == "whitespace":
        return [t for t in WS.split(s) if t]
    if mode == "character":
        return list(s)
    return [s]


def ngrams(tokens, widths):
    out = []
    for w in widths:
        out += [" ".join(tokens[i:i + w]) for i in range(len(tokens) - w + 1)]
    return out


def tokens_of(s, cfg):
    toks = split(standardize(s, cfg["standardize"]), cfg["split"])
    ng = cfg["ngrams"]
    if ng is not None:
        widths = list(range(1, ng + 1)) if isinstance(ng, int) else list(ng)
        toks = ngrams(toks, widths)
    return toks


def adapt_vocab(texts, cfg, limit):
    """Keras' adapt order: by count, high to low, ties by token high to low."""
    counts = {}
    for s in texts:
        for t in tokens_of(s, cfg):
            counts[t] = counts.get(t, 0) + 1
    vocab = [t for t, _ in sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)]
    return vocab[:limit] if limit else vocab


def dtype_policy():
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


def tv_config(cfg, vocab_size):
    return {
        "module": "keras.layers", "class_name": "TextVectorization",
        "config": {
            "name": "text_vectorization", "trainable": True, "dtype": dtype_policy(),
            "max_tokens": cfg.get("max_tokens"), "standardize": cfg["standardize"], "split": cfg["split"],
            "ngrams": cfg["ngrams"], "output_mode": cfg["output_mode"],
            "output_sequence_length": cfg.get("output_sequence_length"),
            "pad_to_max_tokens": cfg.get("pad_to_max_tokens", False), "sparse": False, "ragged": False,
            "vocabulary": None, "idf_weights": None, "encoding": "utf-8", "vocabulary_size": vocab_size,
        },
        "registered_name": None,
    }


def tv_case(name, cfg, downstream, seed):
    rng = np.random.default_rng(seed)
    tokens = adapt_vocab(TEXTS, cfg, cfg.get("vocab_limit"))
    mode = cfg["output_mode"]
    special = ["", "[UNK]"] if mode == "int" else ["[UNK]"]
    vocab = special + tokens
    ids = {t: i for i, t in enumerate(vocab)}
    oov = ids["[UNK]"]
    rows = [[ids.get(t, oov) for t in tokens_of(s, cfg)] for s in TEXTS]
    depth = cfg["max_tokens"] if cfg.get("pad_to_max_tokens") else len(vocab)
    idf = None
    if mode == "int":
        width = cfg.get("output_sequence_length") or max(len(r) for r in rows)
        pre = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            r = r[:width]
            pre[i, :len(r)] = r
    else:
        pre = np.zeros((len(rows), depth), dtype=np.float32)
        for i, r in enumerate(rows):
            for t in r:
                if t < depth:
                    pre[i, t] = 1 if mode == "multi_hot" else pre[i, t] + 1
        if mode == "tf_idf":
            idf = rng.uniform(0.1, 2.0, size=depth).astype(np.float32)
            pre = (pre * idf).astype(np.float32)
    model = downstream(pre.shape[1], depth)
    for w in model.weights:
        w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32))
    y = model.predict(pre, verbose=0)
    os.makedirs(name, exist_ok=True)
    tmp = os.path.join(name, "downstream.keras")
    model.save(tmp)
    layer_cfg = tv_config(cfg, len(vocab))
    asset = "assets/layers/text_vectorization/"
    write_model(name, tmp, layer_cfg, {asset + "vocabulary.txt": "\n".join(vocab),
                                       asset + "_lookup_layer/vocabulary.txt": "\n".join(vocab)},
                {"layers/text_vectorization/vars/idf_weights": idf} if idf is not None else {})
    np.save(os.path.join(name, "pre.npy"), pre)
    np.save(os.path.join(name, "y0.npy"), y)
    with open(os.path.join(name, "texts.json"), "w") as f:
        json.dump(TEXTS, f, ensure_ascii=False, indent=1)
    with open(os.path.join(name, "case.json"), "w") as f:
        json.dump({"name": name, "layer": layer_cfg["config"], "keras_version": keras.__version__,
                   "notes": "pre.npy follows TensorFlow's string ops as this generator's docstring says; y0.npy is real Keras"}, f, indent=1)


def write_model(name, downstream_path, layer_cfg, assets, extra_vars, input_dtype="string", input_shape=(None,)):
    """Rewrites Keras' .keras of the downstream model: a string InputLayer
    and layer_cfg in front of its layers, the assets, extra variables."""
    with zipfile.ZipFile(downstream_path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    os.remove(downstream_path)
    cfg = json.loads(files["config.json"])
    layers = cfg["config"]["layers"]
    assert layers[0]["class_name"] == "InputLayer"
    layers[0]["config"]["batch_shape"] = list(input_shape)
    layers[0]["config"]["dtype"] = input_dtype
    layers.insert(1, layer_cfg)
    files["config.json"] = json.dumps(cfg).encode()
    if extra_vars:
        wpath = os.path.join(name, "w.h5")
        with open(wpath, "wb") as f:
            f.write(files["model.weights.h5"])
        with h5py.File(wpath, "a") as h:
            for path, value in extra_vars.items():
                h.create_dataset(path, data=value)
        with open(wpath, "rb") as f:
            files["model.weights.h5"] = f.read()
        os.remove(wpath)
    for n, s in assets.items():
        files[n] = s.encode()
    with zipfile.ZipFile(os.path.join(name, "model.keras"), "w", zipfile.ZIP_STORED) as z:
        for n in ["metadata.json", "config.json", "model.weights.h5"] + sorted(assets):
            z.writestr(n, files[n])


def dense_head(width, depth):
    return keras.Sequential([keras.Input((width,)), keras.layers.Dense(4, activation="tanh"),
                             keras.layers.Dense(3, activation="softmax")])


def embedding_gru(width, depth):
    return keras.Sequential([keras.Input((width,), dtype="int64"), keras.layers.Embedding(depth, 6, mask_zero=True),
                             keras.layers.GRU(5), keras.layers.Dense(2, activation="sigmoid")])


def string_lookup_case(name, seed):
    """StringLookup(vocabulary=[...] in the config, mask_token="", num_oov_indices=1)
    on a (None, 4) string input -> Embedding -> GlobalAveragePooling1D -> Dense."""
    rng = np.random.default_rng(seed)
    vocab = ["red", "green", "blue", "cyan"]
    data = [["red", "blue", "", ""], ["cyan", "pink", "red", ""], ["green", "green", "green", "blue"]]
    ids = {t: i + 2 for i, t in enumerate(vocab)}
    pre = np.array([[0 if t == "" else ids.get(t, 1) for t in row] for row in data], dtype=np.int64)
    model = keras.Sequential([keras.Input((4,), dtype="int64"), keras.layers.Embedding(6, 3),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(2)])
    for w in model.weights:
        w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32))
    y = model.predict(pre, verbose=0)
    os.makedirs(name, exist_ok=True)
    tmp = os.path.join(name, "downstream.keras")
    model.save(tmp)
    layer_cfg = {"module": "keras.layers", "class_name": "StringLookup", "config": {
        "name": "string_lookup", "trainable": True, "dtype": dtype_policy(), "invert": False, "max_tokens": None,
        "num_oov_indices": 1, "oov_token": "[UNK]", "mask_token": "", "output_mode": "int", "sparse": False,
        "pad_to_max_tokens": False, "vocabulary_dtype": "string", "idf_weights": None, "vocabulary": vocab,
        "vocabulary_size": 6, "oov_method": "floormod", "salt": None, "encoding": "utf-8"}, "registered_name": None}
    write_model(name, tmp, layer_cfg, {}, {}, input_shape=(None, 4))
    np.save(os.path.join(name, "pre.npy"), pre)
    np.save(os.path.join(name, "y0.npy"), y)
    with open(os.path.join(name, "texts.json"), "w") as f:
        json.dump(data, f, indent=1)
    with open(os.path.join(name, "case.json"), "w") as f:
        json.dump({"name": name, "layer": layer_cfg["config"], "keras_version": keras.__version__,
                   "notes": "pre.npy by IndexLookup's rules (mask '' -> 0, OOV -> 1, vocabulary from 2); y0.npy is real Keras"}, f, indent=1)


CASES = [
    ("tv_ngrams2_multi_hot", {"standardize": "lower_and_strip_punctuation", "split": "whitespace", "ngrams": 2,
                              "output_mode": "multi_hot"}, dense_head),
    ("tv_count_pad_to_max", {"standardize": "lower", "split": "whitespace", "ngrams": None, "output_mode": "count",
                             "max_tokens": 40, "pad_to_max_tokens": True, "vocab_limit": 30}, dense_head),
    ("tv_tf_idf", {"standardize": "lower_and_strip_punctuation", "split": "whitespace", "ngrams": None,
                   "output_mode": "tf_idf"}, dense_head),
    ("tv_ngrams12_int_gru", {"standardize": "lower_and_strip_punctuation", "split": "whitespace", "ngrams": [1, 2],
                             "output_mode": "int", "output_sequence_length": 10}, embedding_gru),
    ("tv_max_tokens_ragged_gru", {"standardize": "lower_and_strip_punctuation", "split": "whitespace", "ngrams": None,
                                  "output_mode": "int", "max_tokens": 12, "vocab_limit": 10}, embedding_gru),
]

if __name__ == "__main__":
    for i, (name, cfg, head) in enumerate(CASES):
        if os.path.isdir(name):
            shutil.rmtree(name)
        tv_case(name, cfg, head, seed=10 + i)
    string_lookup_case("stringlookup_mask_embedding", seed=30)
