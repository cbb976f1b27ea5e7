"""Keras 3's legacy .h5 of models whose config holds operation nodes
(Embedding(mask_zero) records NotEqual): Keras 3 writes them without the
op's module and cannot read them back itself. Each folder here is the golden
case of the same name, re-saved as model.h5 by Keras 3 from the golden's
model.keras; the golden's x*/y* (Keras' outputs) are the expected values.

    . ../shared/oracle/env.sh && /usr/bin/python3 testdata/keras3_h5_ops/generate.py
"""
import json
import os
import shutil

import keras

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDENS = os.path.join(HERE, "..", "goldens")

for case in ["multi_input_multi_output", "seq2seq_lstm"]:
    src = os.path.join(GOLDENS, case)
    dst = os.path.join(HERE, case)
    os.makedirs(dst, exist_ok=True)
    m = keras.models.load_model(os.path.join(src, "model.keras"), compile=False)
    m.save(os.path.join(dst, "model.h5"))
    for f in os.listdir(src):
        if f.endswith(".npy") or f == "case.json":
            shutil.copy(os.path.join(src, f), dst)
    p = os.path.join(dst, "case.json")
    c = json.load(open(p))
    c["formats"], c["format_files"], c["formats_failed"] = ["h5"], {"h5": ["model.h5"]}, {}
    c.setdefault("notes", []).append("re-saved as legacy .h5 by Keras 3 (testdata/keras3_h5_ops/generate.py); Keras itself cannot reload it")
    json.dump(c, open(p, "w"), indent=1)
