"""Keras 3 goldens for models rnnkit can run only with a user's Go code:
a project-style SimpleAttention layer (the att_weight/att_bias pattern many
public LSTM-attention projects define) and Lambda layers.

Run with the oracle (real Keras 3 on the numpy backend), from the repo root:
    . ../shared/oracle/env.sh && /usr/bin/python3 testdata/custom/generate.py
Each case folder gets model.keras, model.h5, x0.npy (inputs) and y0.npy
(Keras' predict). Weights come from a seeded RNG; nothing is trained.
"""
import json
import os

import numpy as np
import keras
from keras import layers, ops

keras.config.enable_unsafe_deserialization()
HERE = os.path.dirname(os.path.abspath(__file__))


@keras.saving.register_keras_serializable(package="rnnkit_test")
class SimpleAttention(layers.Layer):
    """e = tanh(x.W + b); a = softmax(e, axis=1); out = sum(x * a, axis=1)."""

    def build(self, input_shape):
        self.W = self.add_weight(name="att_weight", shape=(input_shape[-1], 1), initializer="normal")
        self.b = self.add_weight(name="att_bias", shape=(input_shape[1], 1), initializer="zeros")

    def call(self, x):
        e = ops.tanh(ops.matmul(x, self.W) + self.b)
        a = ops.softmax(e, axis=1)
        return ops.sum(x * a, axis=1)


def seeded_weights(model, seed):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.normal(0, 0.5, size=w.shape).astype("float32"))


def save(name, model, inputs, meta):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    model.save(os.path.join(d, "model.keras"))
    model.save(os.path.join(d, "model.h5"))
    ys = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    if not isinstance(ys, (list, tuple)):
        ys = [ys]
    for i, x in enumerate(inputs):
        np.save(os.path.join(d, "x%d.npy" % i), x)
    for i, y in enumerate(ys):
        np.save(os.path.join(d, "y%d.npy" % i), np.asarray(y))
    meta = dict(meta, keras_version=keras.__version__, backend=keras.backend.backend())
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(meta, f, indent=1)


def main():
    rng = np.random.default_rng(1)
    # LSTM -> SimpleAttention -> Dense, the shape of a univariate
    # forecaster with attention over 6 steps of 3 features.
    inp = keras.Input((6, 3))
    h = layers.LSTM(5, return_sequences=True)(inp)
    a = SimpleAttention(name="simple_attention")(h)
    out = layers.Dense(2)(a)
    m = keras.Model(inp, out)
    seeded_weights(m, 2)
    save("simple_attention", m, [rng.normal(size=(4, 6, 3)).astype("float32")],
         {"description": "LSTM(5, return_sequences) -> SimpleAttention -> Dense(2)"})

    # Two Lambdas: a named function on a list of tensors and a lambda on
    # one tensor (the LSTM's last step, scaled).
    def repeat_first(xs):
        first, seq = xs
        return ops.concatenate([seq, ops.repeat(ops.expand_dims(first, 1), ops.shape(seq)[1], axis=1)], axis=-1)

    seq_in = keras.Input((5, 2), name="seq")
    vec_in = keras.Input((3,), name="vec")
    joined = layers.Lambda(repeat_first, name="repeat_first")([vec_in, seq_in])
    h = layers.GRU(4, return_sequences=True)(joined)
    last = layers.Lambda(lambda t: t[:, -1, :] * 2.0 + 1.0, name="last_step")(h)
    out = layers.Dense(3, activation="softmax")(last)
    m = keras.Model([seq_in, vec_in], out)
    seeded_weights(m, 3)
    save("lambda_layers", m, [rng.normal(size=(3, 5, 2)).astype("float32"), rng.normal(size=(3, 3)).astype("float32")],
         {"description": "Lambda(repeat_first)([vec, seq]) -> GRU(4, return_sequences) -> Lambda(t[:, -1] * 2 + 1) -> Dense(3, softmax)"})

    # A model saved before it was built: Keras writes no build_config and
    # no variables for its Dense layer (the real 037 file in ../shared/wild
    # is one such upload).
    m = keras.Sequential([layers.Embedding(47, 8), layers.GlobalAveragePooling1D(), layers.Dense(4)])
    d = os.path.join(HERE, "unbuilt")
    os.makedirs(d, exist_ok=True)
    m.save(os.path.join(d, "model.keras"))


if __name__ == "__main__":
    main()
