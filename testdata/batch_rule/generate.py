"""Generates the batch-rule cases and records which input checks Keras 3 enforces.

Run from the repository root with the Keras 3 oracle (real Keras 3.16 on numpy,
see ../shared/oracle/README.md):

    . ../shared/oracle/env.sh && /usr/bin/python3 testdata/batch_rule/generate.py

Writes, next to this script:
  fixed_batch_stateless/  Input(batch_shape=(32, 7)) -> Embedding -> LSTM -> Dense,
                          predicted by Keras on a batch of 2 (the fixed batch is advisory)
  fixed_batch_stateful/   the same with LSTM(stateful=True) and batch_shape (4, 7),
                          predicted on its batch of 4 (Keras refuses other batches)
  input_checks.txt        what Keras 3 does with inputs that do not match the declared shape
"""
import json
import os

import numpy as np
import keras
from keras import layers

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(10)


def seeded(model):
    for w in model.weights:
        w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype("float32"))


def build(batch, stateful):
    inp = keras.Input(batch_shape=(batch, 7), dtype="int32", name="tokens")
    x = layers.Embedding(20, 4, name="embedding")(inp)
    x = layers.LSTM(5, stateful=stateful, name="lstm")(x)
    out = layers.Dense(3, name="dense")(x)
    m = keras.Model(inp, out, name="fixed_batch")
    seeded(m)
    return m


def write_case(name, model, x, description, stateful):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    y = model.predict(x, verbose=0)
    np.save(os.path.join(d, "x0.npy"), x)
    np.save(os.path.join(d, "y0.npy"), y)
    model.save(os.path.join(d, "model.keras"))
    model.save(os.path.join(d, "model.h5"))
    case = {
        "name": name,
        "description": description,
        "keras_version": keras.__version__,
        "backend": "numpy",
        "stateful": stateful,
        "formats": ["keras", "h5"],
        "format_files": {"keras": ["model.keras"], "h5": ["model.h5"]},
        "calls": [{"inputs": ["x0.npy"], "outputs": ["y0.npy"], "reset_states_before": True}],
        "tolerance": {"atol": 1e-05, "rtol": 0.0001},
    }
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(case, f, indent=1)
        f.write("\n")


ids = lambda b: rng.integers(0, 20, size=(b, 7)).astype("int32")

write_case("fixed_batch_stateless", build(32, False), ids(2),
           "InputLayer batch_shape (32, 7), stateless: Keras 3 predicts on a batch of 2", False)
stateful = build(4, True)
write_case("fixed_batch_stateful", stateful, ids(4),
           "InputLayer batch_shape (4, 7), stateful LSTM: Keras 3 predicts on its batch of 4 only", True)


def probe(what, f):
    try:
        r = f()
        return f"{what}: runs, output shape {tuple(r.shape)}"
    except Exception as e:  # Keras' own verdict, recorded as is
        return f"{what}: {type(e).__name__}: {str(e).splitlines()[0][:160]}"


fn = build(32, False)
seq = keras.Sequential([keras.Input(batch_shape=(32, 7, 3)), layers.GRU(4), layers.Dense(2)])
seeded(seq)
open_time = keras.Sequential([keras.Input(shape=(None, 3)), layers.GRU(4)])
seeded(open_time)
z = lambda *s, dt="float32": np.zeros(s, dt)
lines = [
    f"Keras {keras.__version__}, backend {keras.backend.backend()}",
    probe("Functional, batch_shape (32, 7), batch 2", lambda: fn.predict(z(2, 7, dt="int32"), verbose=0)),
    probe("Functional, batch_shape (32, 7), time 9", lambda: fn.predict(z(2, 9, dt="int32"), verbose=0)),
    probe("Functional, batch_shape (32, 7), rank 3 (2, 7, 1)", lambda: fn.predict(z(2, 7, 1, dt="int32"), verbose=0)),
    probe("Functional, batch_shape (32, 7), rank 1 (7,)", lambda: fn.predict(z(7, dt="int32"), verbose=0)),
    probe("Sequential, batch_shape (32, 7, 3), batch 2", lambda: seq.predict(z(2, 7, 3), verbose=0)),
    probe("Sequential, batch_shape (32, 7, 3), time 9", lambda: seq.predict(z(2, 9, 3), verbose=0)),
    probe("Sequential, batch_shape (32, 7, 3), features 4", lambda: seq.predict(z(2, 7, 4), verbose=0)),
    probe("Sequential, batch_shape (32, 7, 3), rank 2", lambda: seq.predict(z(2, 7), verbose=0)),
    probe("Sequential, shape (None, 3), features 4", lambda: open_time.predict(z(2, 7, 4), verbose=0)),
    probe("stateful, batch_shape (4, 7), batch 4", lambda: stateful.predict(z(4, 7, dt="int32"), verbose=0)),
    probe("stateful, batch_shape (4, 7), batch 2", lambda: stateful.predict(z(2, 7, dt="int32"), verbose=0)),
    probe("stateful, batch_shape (4, 7), batch 8", lambda: stateful.predict(z(8, 7, dt="int32"), verbose=0)),
    probe("Embedding(20), id 20", lambda: fn.predict(np.full((2, 7), 20, "int32"), verbose=0)),
    probe("Embedding(20), id -1", lambda: fn.predict(np.full((2, 7), -1, "int32"), verbose=0)),
    probe("Embedding(20), float id 2.7", lambda: fn.predict(np.full((2, 7), 2.7, "float32"), verbose=0)),
]
e = fn.predict(np.full((1, 7), 2.7, "float32"), verbose=0)
f = fn.predict(np.full((1, 7), 2, "int32"), verbose=0)
lines.append(f"Embedding(20), float id 2.7 gives the output of id 2: {bool(np.array_equal(e, f))}")
with open(os.path.join(HERE, "input_checks.txt"), "w") as out:
    out.write("\n".join(lines) + "\n")
print("\n".join(lines))
