#!/usr/bin/python3
"""Writes tf.keras 2.x legacy HDF5 files of a BiLSTM tagger ending with
tensorflow-addons' CRF layer (tfa.layers.CRF, registered as "Addons>CRF").

Run with Debian's python3-h5py from the repo root:
    /usr/bin/python3 testdata/tfacrf/generate.py

TensorFlow and tensorflow-addons cannot be installed where this was
written, so the files are written with h5py in the layout tf.keras 2.x's
model.save("x.h5") produces (root attrs model_config, keras_version,
backend; model_weights/<layer>/weight_names and one dataset per weight
name, nested groups for the "/" in it), with a config as tf.keras 2.11
would serialize it. The CRF's weights are named as tfa creates them:
chain_kernel, left_boundary and right_boundary by add_weight in
CRF.__init__ (outside any name scope), then its inner Dense's kernel and
bias, built in the CRF's call, in that order (layer.weights order).
Weights come from a seeded RNG; nothing is trained.

The expected numbers are NOT from tfa: the Go test computes them with a
float64 port of tfa's published equations (layers/crf.py, text/crf.py).

tagger.h5 outputs the CRF's four outputs, as Model(tokens, crf(x)) does;
probe.h5 is the same model with the BiLSTM output added in front, so the
test can feed the reference the CRF's exact input.
"""
import json
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB, EMB, LSTM, TAGS = 20, 6, 5, 4
rng = np.random.default_rng(11)


def rand(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def glorot():
    return {"class_name": "GlorotUniform", "config": {"seed": None}}


def lstm_config(name):
    return {"class_name": "LSTM", "config": {
        "name": name, "trainable": True, "dtype": "float32", "return_sequences": True,
        "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
        "time_major": False, "units": LSTM, "activation": "tanh", "recurrent_activation": "sigmoid",
        "use_bias": True, "kernel_initializer": glorot(),
        "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "unit_forget_bias": True,
        "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
        "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
        "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2}}


def model_config(probe):
    layers = [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, None], "dtype": "int32",
                                                "sparse": False, "ragged": False, "name": "tokens"},
         "name": "tokens", "inbound_nodes": []},
        {"class_name": "Embedding", "config": {
            "name": "embedding", "trainable": True, "batch_input_shape": [None, None], "dtype": "float32",
            "input_dim": VOCAB, "output_dim": EMB,
            "embeddings_initializer": {"class_name": "RandomUniform",
                                       "config": {"minval": -0.05, "maxval": 0.05, "seed": None}},
            "embeddings_regularizer": None, "activity_regularizer": None, "embeddings_constraint": None,
            "mask_zero": True, "input_length": None},
         "name": "embedding", "inbound_nodes": [[["tokens", 0, 0, {}]]]},
        {"class_name": "Bidirectional", "config": {
            "name": "bidirectional", "trainable": True, "dtype": "float32",
            "layer": lstm_config("lstm"), "merge_mode": "concat"},
         "name": "bidirectional", "inbound_nodes": [[["embedding", 0, 0, {}]]]},
        {"class_name": "Addons>CRF", "config": {
            "name": "crf", "trainable": True, "dtype": "float32", "units": TAGS,
            "chain_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}},
            "use_boundary": True,
            "boundary_initializer": {"class_name": "Zeros", "config": {}},
            "use_kernel": True},
         "name": "crf", "inbound_nodes": [[["bidirectional", 0, 0, {}]]]},
    ]
    outputs = [["crf", 0, i] for i in range(4)]
    if probe:
        outputs = [["bidirectional", 0, 0]] + outputs
    return {"class_name": "Functional", "config": {
        "name": "probe" if probe else "tagger", "trainable": True, "layers": layers,
        "input_layers": [["tokens", 0, 0]], "output_layers": outputs},
        "keras_version": "2.11.0", "backend": "tensorflow"}


def lstm_weights(prefix):
    return [(prefix + "/kernel:0", rand(EMB, 4 * LSTM)),
            (prefix + "/recurrent_kernel:0", rand(LSTM, 4 * LSTM)),
            (prefix + "/bias:0", rand(4 * LSTM))]


WEIGHTS = [
    ("tokens", []),
    ("embedding", [("embedding/embeddings:0", rand(VOCAB, EMB, scale=1.0))]),
    ("bidirectional", lstm_weights("bidirectional/forward_lstm/lstm_cell_1")
     + lstm_weights("bidirectional/backward_lstm/lstm_cell_2")),
    ("crf", [("chain_kernel:0", rand(TAGS, TAGS, scale=1.0)),
             ("left_boundary:0", rand(TAGS, scale=1.0)),
             ("right_boundary:0", rand(TAGS, scale=1.0)),
             ("crf/dense/kernel:0", rand(2 * LSTM, TAGS, scale=1.5)),
             ("crf/dense/bias:0", rand(TAGS))]),
]


def write(path, probe):
    with h5py.File(os.path.join(HERE, path), "w") as f:
        f.attrs["keras_version"] = b"2.11.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(model_config(probe)).encode()
        mw = f.create_group("model_weights")
        mw.attrs["keras_version"] = b"2.11.0"
        mw.attrs["backend"] = b"tensorflow"
        mw.attrs["layer_names"] = np.array([n.encode() for n, _ in WEIGHTS])
        for name, ws in WEIGHTS:
            g = mw.create_group(name)
            if not ws:
                g.attrs["weight_names"] = np.zeros((0,), dtype=np.float64)
                continue
            g.attrs["weight_names"] = np.array([w.encode() for w, _ in ws])
            for wn, arr in ws:
                g.create_dataset(wn, data=arr)


write("tagger.h5", False)
write("probe.h5", True)
# Token ids, 0 = padding (Embedding mask_zero): lengths 6, 3, 1 and 0.
ids = np.array([[3, 7, 1, 12, 5, 9],
                [4, 4, 18, 0, 0, 0],
                [11, 0, 0, 0, 0, 0],
                [0, 0, 0, 0, 0, 0]], dtype=np.int32)
np.save(os.path.join(HERE, "ids.npy"), ids)
