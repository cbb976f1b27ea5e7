"""Writes keras3_defaults.json: for every Keras 3 layer class, the config
Keras 3.16's get_config() returns for a default instance (built with the
fewest constructor arguments the class takes), its module, and whether its
constructor rejects unknown keyword arguments. rnnkit's .keras writer fills
every option a source file lacks with these defaults and writes only the
keys Keras 3 itself writes.

Run with the oracle (real Keras 3 on the numpy backend), from the repo root:
    . ../shared/oracle/env.sh && /usr/bin/python3 convert/keras3/gen_defaults.py
"""
import json
import os

import keras
from keras import layers

CANDIDATE_ARGS = [
    {},
    {"units": 1},
    {"input_dim": 2, "output_dim": 2},
    {"filters": 1, "kernel_size": 1},
    {"kernel_size": 1},
    {"rate": 0.5},
    {"stddev": 0.5},
    {"target_shape": [1]},
    {"dims": [1]},
    {"n": 1},
    {"num_heads": 1, "key_dim": 1},
    {"activation": "relu"},
    {"axes": 1},
    {"pool_size": 2},
    {"shape": [1]},
    {"layer": None},
    {"cell": None},
    {"cells": None},
]


def build(cls, args):
    a = dict(args)
    if "layer" in a:
        a["layer"] = layers.LSTM(1)
    if "cell" in a:
        a["cell"] = layers.LSTMCell(1)
    if "cells" in a:
        a["cells"] = [layers.LSTMCell(1)]
    return cls(**a)


def main():
    out = {}
    for name in sorted(dir(layers)):
        cls = getattr(layers, name)
        if not isinstance(cls, type) or not issubclass(cls, layers.Layer) or name in ("Layer", "InputSpec"):
            continue
        for args in CANDIDATE_ARGS:
            try:
                obj = build(cls, args)
                cfg = obj.get_config()
            except Exception:
                continue
            ser = keras.saving.serialize_keras_object(obj)
            cfg = json.loads(json.dumps(cfg, default=lambda o: None))
            for k in ("name",):
                cfg.pop(k, None)
            out[name] = {"module": ser.get("module"), "registered_name": ser.get("registered_name"),
                         "required": sorted(args), "config": cfg}
            break
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras3_defaults.json")
    with open(path, "w") as f:
        json.dump({"keras_version": keras.__version__, "layers": out}, f, indent=1, sort_keys=True)
    print(len(out), "classes")


if __name__ == "__main__":
    main()
