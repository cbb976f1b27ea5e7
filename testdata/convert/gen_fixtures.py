#!/usr/bin/python3
"""Writes the legacy Keras HDF5 fixtures of convert's tests and the values
convert must produce from them (expected.json).

Run with Debian's python3-h5py: /usr/bin/python3 testdata/convert/gen_fixtures.py
The files mimic what Keras 1/2 write (root attrs model_config, keras_version,
backend; model_weights/layer_names; per-layer weight_names; split list
attributes layer_names0..; empty lists stored as float64 (0,) arrays). The
expected values are computed here with numpy from the formulas of Keras' own
loader (keras 2.x saving/hdf5_format.py: preprocess_weights_for_loading,
_convert_rnn_weights), independently of the Go code.
"""
import json
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
expected = {}


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def write_list(obj, name, values, split=1):
    """A Keras list attribute: fixed-length strings, split like Keras'
    save_attributes_to_hdf5_group when split > 1, float64 (0,) when empty."""
    if not values:
        obj.attrs[name] = np.zeros((0,), dtype=np.float64)
        return
    arr = np.array([v.encode() for v in values])
    if split == 1:
        obj.attrs[name] = arr
        return
    for i, chunk in enumerate(np.array_split(arr, split)):
        obj.attrs["%s%d" % (name, i)] = chunk


def write_weights(group, layers, split_layers=1):
    """layers: list of (layer_name, [(weight_name, array)], weight_split)."""
    write_list(group, "layer_names", [l[0] for l in layers], split_layers)
    for name, ws, wsplit in layers:
        g = group.create_group(name)
        write_list(g, "weight_names", [w[0] for w in ws], wsplit)
        for wn, arr in ws:
            g.create_dataset(wn, data=arr)


def record(fixture, layer, arrays):
    expected.setdefault(fixture, {})[layer] = [
        {"shape": list(a.shape), "data": [float(x) for x in a.ravel()]} for a in arrays
    ]


def full_model(path, config, layers, version, backend="tensorflow", split_layers=1):
    with h5py.File(os.path.join(HERE, path), "w") as f:
        f.attrs["keras_version"] = version.encode()
        f.attrs["backend"] = backend.encode()
        f.attrs["model_config"] = json.dumps(config).encode()
        mw = f.create_group("model_weights")
        mw.attrs["keras_version"] = version.encode()
        mw.attrs["backend"] = backend.encode()
        write_weights(mw, layers, split_layers)


# 1. Split list attributes, an empty weight list, Theano-style names.
d1k, d1b, d2k, d2b = rand(3, 4), rand(4), rand(4, 2), rand(2)
full_model(
    "split_lists.h5",
    {"class_name": "Sequential", "config": [
        {"class_name": "Dense", "config": {"name": "dense_1", "units": 4, "activation": "relu", "use_bias": True,
                                           "batch_input_shape": [None, 3], "dtype": "float32"}},
        {"class_name": "Dropout", "config": {"name": "dropout_1", "rate": 0.5}},
        {"class_name": "Dense", "config": {"name": "dense_2", "units": 2, "activation": "softmax", "use_bias": True}},
    ]},
    [("dense_1", [("dense_1/kernel", d1k), ("dense_1/bias", d1b)], 2),
     ("dropout_1", [], 1),
     ("dense_2", [("dense_2/kernel", d2k), ("dense_2/bias", d2b)], 1)],
    "2.1.6", backend="theano", split_layers=2)
record("split_lists.h5", "dense_1", [d1k, d1b])
record("split_lists.h5", "dense_2", [d2k, d2b])

# 2. Keras 1 weights-only file: GRU with 9 per-gate arrays (z, r, h) and
#    LSTM with 12 (i, c, f, o); architecture in keras1.json.
gru = {g: (rand(2, 3), rand(3, 3), rand(3)) for g in "zrh"}
lstm = {g: (rand(3, 2), rand(2, 2), rand(2)) for g in "icfo"}
keras1_cfg = {"class_name": "Sequential", "keras_version": "1.2.2", "config": [
    {"class_name": "GRU", "config": {"name": "gru_1", "output_dim": 3, "inner_activation": "hard_sigmoid",
                                     "activation": "tanh", "return_sequences": True, "consume_less": "cpu",
                                     "batch_input_shape": [None, 5, 2], "input_dtype": "float32"}},
    {"class_name": "LSTM", "config": {"name": "lstm_1", "output_dim": 2, "inner_activation": "hard_sigmoid",
                                      "activation": "tanh", "consume_less": "cpu"}},
]}
with open(os.path.join(HERE, "keras1.json"), "w") as f:
    json.dump(keras1_cfg, f, indent=1)
with h5py.File(os.path.join(HERE, "keras1_weights.h5"), "w") as f:
    gl = []
    for g in "zrh":
        for kind, arr in zip("WUb", gru[g]):
            gl.append(("gru_1_%s_%s" % (kind, g), arr))
    ll = []
    for g in "icfo":
        for kind, arr in zip("WUb", lstm[g]):
            ll.append(("lstm_1_%s_%s" % (kind, g), arr))
    write_weights(f, [("gru_1", gl, 1), ("lstm_1", ll, 1)])
# preprocess_weights_for_loading: GRU kernel = concat([W_z, W_r, W_h]) ...
record("keras1_weights.h5", "gru_1", [np.concatenate([gru[g][i] for g in "zrh"], axis=-1) for i in range(3)])
# ... LSTM = concat([W_i, W_f, W_c, W_o]).
record("keras1_weights.h5", "lstm_1", [np.concatenate([lstm[g][i] for g in "ifco"], axis=-1) for i in range(3)])


# 3. CuDNNLSTM and CuDNNGRU (Keras 2.1.5), converted as Keras'
#    _convert_rnn_weights does for a CuDNN source and a plain target.
def transform_kernels(kernels, func, n_gates):
    return np.hstack([func(k) for k in np.hsplit(kernels, n_gates)])


def transpose_input_from_cudnn(kernel):
    return kernel.T.reshape(kernel.shape, order="F")


def convert_lstm(w):
    k = transform_kernels(w[0], transpose_input_from_cudnn, 4)
    r = transform_kernels(w[1], lambda x: x.T, 4)
    b = np.sum(np.split(w[2], 2, axis=0), axis=0)
    return [k, r, b]


def convert_gru(w):
    k = transform_kernels(w[0], transpose_input_from_cudnn, 3)
    r = transform_kernels(w[1], lambda x: x.T, 3)
    b = np.array(w[2]).reshape((2, -1))
    return [k, r, b]


cl = [rand(4, 12), rand(3, 12), rand(24)]
cg = [rand(3, 6), rand(2, 6), rand(12)]
full_model(
    "cudnn.h5",
    {"class_name": "Sequential", "config": [
        {"class_name": "CuDNNLSTM", "config": {"name": "cu_dnnlstm_1", "units": 3, "return_sequences": True,
                                               "batch_input_shape": [None, None, 4], "dtype": "float32"}},
        {"class_name": "CuDNNGRU", "config": {"name": "cu_dnngru_1", "units": 2}},
    ]},
    [("cu_dnnlstm_1", [("cu_dnnlstm_1/kernel:0", cl[0]), ("cu_dnnlstm_1/recurrent_kernel:0", cl[1]),
                       ("cu_dnnlstm_1/bias:0", cl[2])], 1),
     ("cu_dnngru_1", [("cu_dnngru_1/kernel:0", cg[0]), ("cu_dnngru_1/recurrent_kernel:0", cg[1]),
                      ("cu_dnngru_1/bias:0", cg[2])], 1)],
    "2.1.5")
record("cudnn.h5", "cu_dnnlstm_1", convert_lstm(cl))
record("cudnn.h5", "cu_dnngru_1", convert_gru(cg))


# 4. A nested Sequential in a functional model: the nested layer lists all
#    trainable weights of its sublayers, then all non-trainable ones.
def nested(path, names):
    da_k, da_b, bn1 = rand(3, 4), rand(4), [rand(4) for _ in range(4)]
    db_k, db_b, bn2 = rand(4, 2), rand(2), [rand(2) for _ in range(4)]
    bn2[3] = np.abs(bn2[3])
    bn1[3] = np.abs(bn1[3])
    inner = {"class_name": "Sequential", "config": {"name": "sub", "layers": [
        {"class_name": "Dense", "config": {"name": "da", "units": 4, "batch_input_shape": [None, 3]}},
        {"class_name": "BatchNormalization", "config": {"name": "bn1"}},
        {"class_name": "Dense", "config": {"name": "db", "units": 2}},
        {"class_name": "BatchNormalization", "config": {"name": "bn2"}},
    ]}}
    cfg = {"class_name": "Model", "config": {"name": "outer", "layers": [
        {"name": "x", "class_name": "InputLayer", "config": {"name": "x", "batch_input_shape": [None, 3]},
         "inbound_nodes": []},
        dict(inner, name="sub", inbound_nodes=[[["x", 0, 0, {}]]]),
    ], "input_layers": [["x", 0, 0]], "output_layers": [["sub", 0, 0]]}}
    order = [("da", "kernel", da_k), ("da", "bias", da_b), ("bn1", "gamma", bn1[0]), ("bn1", "beta", bn1[1]),
             ("db", "kernel", db_k), ("db", "bias", db_b), ("bn2", "gamma", bn2[0]), ("bn2", "beta", bn2[1]),
             ("bn1", "moving_mean", bn1[2]), ("bn1", "moving_variance", bn1[3]),
             ("bn2", "moving_mean", bn2[2]), ("bn2", "moving_variance", bn2[3])]
    ws = [(names(layer, var), arr) for layer, var, arr in order]
    full_model(path, cfg, [("x", [], 1), ("sub", ws, 1)], "2.2.4")
    record(path, "sub/da", [da_k, da_b])
    record(path, "sub/bn1", bn1)
    record(path, "sub/db", [db_k, db_b])
    record(path, "sub/bn2", bn2)


nested("nested_named.h5", lambda layer, var: "%s/%s:0" % (layer, var))
# Keras 3.0-3.2's legacy writer used bare variable names: order decides.
nested("nested_bare.h5", lambda layer, var: "%s_%s" % (var, layer[-1]))

# 5. A Conv1D saved by the Theano backend (Keras 2.0.4): Theano convolves,
#    so multi-backend Keras flipped the spatial axis when loading on
#    TensorFlow (conv_utils.convert_kernel).
ck, cb = rand(3, 2, 4), rand(4)
full_model(
    "theano_conv.h5",
    {"class_name": "Sequential", "config": [
        {"class_name": "Conv1D", "config": {"name": "conv1d_1", "filters": 4, "kernel_size": [3], "strides": [1],
                                            "padding": "valid", "activation": "linear", "use_bias": True,
                                            "batch_input_shape": [None, 6, 2], "dtype": "float32"}},
    ]},
    [("conv1d_1", [("conv1d_1/kernel", ck), ("conv1d_1/bias", cb)], 1)],
    "2.0.4", backend="theano")
slices = [slice(None, None, -1)] * ck.ndim
slices[-2:] = [slice(None, None), slice(None, None)]
record("theano_conv.h5", "conv1d_1", [np.copy(ck[tuple(slices)]), cb])

# 6. tf.keras 2.12-2.15 .weights.h5 layout: the layer tree sits under
#    "_layer_checkpoint_dependencies" instead of "layers" (Keras' loader
#    falls back to it). Architecture: configs/stacked_rnn_cells.json.
sk = [rand(5, 32), rand(8, 32), rand(32)]
sg = [rand(8, 18), rand(6, 18), rand(2, 18)]
with h5py.File(os.path.join(HERE, "tfkeras_ckptdeps.weights.h5"), "w") as f:
    f.create_group("vars")
    base = "_layer_checkpoint_dependencies/rnn/cell/cells/"
    for name, ws in (("lstm_cell", sk), ("gru_cell", sg)):
        for i, w in enumerate(ws):
            f.create_dataset(base + name + "/vars/%d" % i, data=w)
    f.create_group("_layer_checkpoint_dependencies/rnn/vars")
record("tfkeras_ckptdeps.weights.h5", "rnn/lstm_cell", sk)
record("tfkeras_ckptdeps.weights.h5", "rnn/gru_cell", sg)

# 7. Keras 1 Convolution1D kernels, in the Keras 1.2 layout (filter_length,
#    1, input_dim, nb_filter) and the Keras 1.1 one (nb_filter, input_dim,
#    filter_length, 1), converted as preprocess_weights_for_loading does.
k12, k11, kb = rand(3, 1, 2, 4), rand(4, 2, 3, 1), rand(4)
conv_cfg = {"class_name": "Sequential", "keras_version": "1.2.2", "config": [
    {"class_name": "Convolution1D", "config": {"name": "conv_a", "nb_filter": 4, "filter_length": 3,
                                               "border_mode": "same", "subsample_length": 1, "bias": True,
                                               "activation": "relu", "batch_input_shape": [None, 6, 2]}},
    {"class_name": "Convolution1D", "config": {"name": "conv_b", "nb_filter": 4, "filter_length": 3,
                                               "border_mode": "valid", "subsample_length": 1, "bias": True,
                                               "activation": "linear"}},
]}
with open(os.path.join(HERE, "keras1_conv.json"), "w") as f:
    json.dump(conv_cfg, f, indent=1)
with h5py.File(os.path.join(HERE, "keras1_conv_weights.h5"), "w") as f:
    write_weights(f, [("conv_a", [("conv_a_W", k12), ("conv_a_b", kb)], 1),
                      ("conv_b", [("conv_b_W", k11), ("conv_b_b", kb)], 1)])
record("keras1_conv_weights.h5", "conv_a", [k12[:, 0, :, :], kb])
record("keras1_conv_weights.h5", "conv_b", [np.transpose(k11, (2, 3, 1, 0))[:, 0, :, :], kb])

with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump(expected, f, indent=0)
