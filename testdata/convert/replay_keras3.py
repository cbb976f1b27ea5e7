"""Loads .keras files in real Keras 3 and replays golden calls on them.

Usage (with the oracle: . ../shared/oracle/env.sh):
    /usr/bin/python3 testdata/convert/replay_keras3.py CASE_DIR...
Each CASE_DIR holds model.keras (the file to check), case.json (the golden
case's calls, or a real-world artifact's expected/case.json) and the
x*.npy / y*.npy it names. Prints one JSON line per case:
{"case": ..., "ok": bool, "max_err": ..., "error": ...}.
"""
import json
import os
import sys
import traceback

import numpy as np
import keras


def calls_of(case):
    if "calls" in case:
        return case["calls"]
    ins = [i["file"] for i in case.get("inputs", [])]
    outs = [o["file"] for o in case.get("outputs", [])]
    return [{"inputs": ins, "outputs": outs, "reset_states_before": True}]


def replay(d):
    case = json.load(open(os.path.join(d, "case.json")))
    tol = case.get("tolerance", {})
    atol, rtol = tol.get("atol", 1e-5), tol.get("rtol", 1e-4)
    model = keras.models.load_model(os.path.join(d, "model.keras"), compile=False, safe_mode=False)
    worst, ok = 0.0, True
    for call in calls_of(case):
        if call.get("reset_states_before", True):
            for layer in model.layers:
                if hasattr(layer, "reset_states") and getattr(layer, "stateful", False):
                    layer.reset_states()
        xs = [np.load(os.path.join(d, f)) for f in call["inputs"]]
        ys = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        if not isinstance(ys, (list, tuple)):
            ys = [ys]
        for f, y in zip(call["outputs"], ys):
            want = np.load(os.path.join(d, f))
            y = np.asarray(y, dtype=np.float64)
            if y.shape != want.shape:
                return {"ok": False, "error": "output %s shape %s, want %s" % (f, y.shape, want.shape)}
            err = np.abs(y - want)
            worst = max(worst, float(err.max()) if err.size else 0.0)
            ok = ok and bool(np.all(err <= atol + rtol * np.abs(want)))
    return {"ok": ok, "max_err": worst}


def main():
    for d in sys.argv[1:]:
        try:
            r = replay(d)
        except Exception as e:
            r = {"ok": False, "error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:300] if str(e) else "")}
        r["case"] = os.path.basename(os.path.normpath(d))
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
