#!/usr/bin/python3
"""Keras 3.16 (numpy backend) outputs of the real ConvLSTM / LRCN files in ../shared/wild.

Usage (from the repository root, after `. ../shared/oracle/env.sh`):

    testdata/goldens-wild-oracle/gen_wild_realfiles.py ../shared/wild > testdata/goldens-wild-oracle/realfiles.json

The files themselves are never copied into the repository: only the outputs for a generated input, which
keras/wild_test.go builds with the same formula, x[i] = float32(0.5 + 0.5 sin(0.37 i + (i*i mod 7)))
over the flat batch-2 input. 244 was written by tf.keras 2.7, whose hard_sigmoid is clip(0.2x + 0.5, 0, 1);
Keras 3 reads the name as its own clip(x/6 + 0.5, 0, 1), so the generator puts the writer's definition back
on its ConvLSTM cells before predicting.
"""

import json
import math
import os
import sys
import warnings

warnings.filterwarnings("ignore")
import keras  # noqa: E402
import numpy as np  # noqa: E402

CASES = [
    ("232_OceanObservation_convlstm_model_h5", "convlstm_model.h5", False),
    ("244_stp_models_convlstm_model_h5", "convlstm_model.h5", True),
    ("235_human_activity_rec_LRCN_model_h5", "LRCN_model.h5", False),
]


def hard_sigmoid_keras2(x):
    return keras.ops.clip(0.2 * x + 0.5, 0.0, 1.0)


def load(path):
    """The model in a legacy .h5: as Keras 3 loads it, or, for a tf.keras 2 file whose config holds
    options Keras 3 dropped (time_major), from its config without them (and without its
    TimeDistributed(Dropout) layers) and its weights group."""
    try:
        return keras.saving.load_model(path, compile=False)
    except ValueError as e:
        if "time_major" not in str(e):
            raise
    import h5py
    from keras.src.legacy.saving import legacy_h5_format, saving_utils

    with h5py.File(path, "r") as f:
        cfg = json.loads(f.attrs["model_config"])

        def strip(o):
            if isinstance(o, dict):
                o.pop("time_major", None)
                for v in o.values():
                    strip(v)
            elif isinstance(o, list):
                for v in o:
                    strip(v)

        strip(cfg)
        # Keras 3 cannot deserialize a tf.keras 2 layer nested in TimeDistributed without its module;
        # 244's are TimeDistributed(Dropout), the identity at inference and without weights: drop them.
        cfg["config"]["layers"] = [
            l for l in cfg["config"]["layers"]
            if not (l["class_name"] == "TimeDistributed" and l["config"]["layer"]["class_name"] == "Dropout")]
        m = saving_utils.model_from_config(cfg)
        legacy_h5_format.load_weights_from_hdf5_group(f["model_weights"], m)
    return m


def main(wild):
    out = {"keras_version": keras.__version__, "backend": keras.backend.backend(),
           "input": "x[i] = float32(0.5 + 0.5*sin(0.37*i + (i*i % 7))), batch 2", "cases": []}
    for d, f, keras2 in CASES:
        m = load(os.path.join(wild, d, f))
        if keras2:
            for l in m.layers:
                cell = getattr(l, "cell", None)
                if cell is not None and getattr(cell, "recurrent_activation", None) is not None:
                    if cell.recurrent_activation.__name__ == "hard_sigmoid":
                        cell.recurrent_activation = hard_sigmoid_keras2
        shape = [2] + [int(s) for s in m.inputs[0].shape[1:]]
        n = int(np.prod(shape))
        x = np.array([0.5 + 0.5 * math.sin(i * 0.37 + (i * i % 7)) for i in range(n)], dtype=np.float64)
        x = x.astype(np.float32).reshape(shape)
        y = np.asarray(m.predict(x, batch_size=2, verbose=0))
        out["cases"].append({"dir": d, "file": f, "input_shape": shape, "output_shape": list(y.shape),
                             "output": [float(v) for v in y.reshape(-1)],
                             "hard_sigmoid": "keras2 (0.2x+0.5)" if keras2 else None})
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
