"""Loads model files in real Keras and reports what Keras sees, as JSON: the
judge of aekit's Keras writer (keras/keraslive_test.go, cmd/aekit tests).

    .venv/bin/python tools/python/keras_load_check.py REQUEST.json > RESULT.json

REQUEST.json: {"cases": [{"file": path, "loader": "keras" | "tf_keras",
                          "input": path of a float32 .npy, "fit": bool}, ...]}
  loader "keras" is keras.saving.load_model (Keras 3), "tf_keras"
  tf_keras.models.load_model (Keras 2 API).

RESULT: {"versions": {"keras": ..., "tf_keras": ..., "tensorflow": ...},
         "results": [one object per case, in order:
           {"file", "loader",
            "error": null, or the exception (type: message) that stopped
                     loading or predicting,
            "output": model.predict(input) as nested lists (float32 values),
            "tree": {"name", "class", "layers": [layer, ...]} where a layer
                    is {"name", "class", "activation": serialized activation
                    or null, "params": activation-layer parameters,
                    "regularizers": {kernel_regularizer, bias_regularizer,
                    activity_regularizer: {"class", "l1", "l2"} or null},
                    "trainable": layer.trainable} or a nested tree (with its
                    own "trainable"); InputLayers are left out,
            "count_params": model.count_params(),
            "trainable_params": the number of values in
                                model.trainable_weights (what fit updates),
            "summary": the text of model.summary(),
            "fit_error": null, or the exception of compile('adam',
                         'binary_crossentropy') + one fit epoch on the input
                         rows with targets in [0, 1] (when "fit"),
            "fit_loss": that epoch's loss}]}
Every case runs even when another fails; the exit status is 0 unless the
request itself cannot be read. The caller judges the results.
"""
import json
import os
import sys
import traceback

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import warnings  # noqa: E402

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
import tf_keras  # noqa: E402

tf.get_logger().setLevel("ERROR")
# One thread each: the results do not depend on it, and test machines run
# other jobs beside this one.
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
MODELS = (keras.Model, tf_keras.Model)
INPUTS = (keras.layers.InputLayer, tf_keras.layers.InputLayer)
PARAMS = ("max_value", "negative_slope", "threshold", "alpha", "theta", "axis")


def plain(v):
    """JSON-able copy of a config value."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (np.floating, np.integer, np.ndarray)):
        return v.tolist()  # tf-keras keeps ReLU's max_value as a 0-d array
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)


REGULARIZERS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer")


def regularizer(r):
    """A layer's regulariser as Keras holds it: {"l1", "l2"} (float64
    values as its get_config gives them), or None."""
    if r is None:
        return None
    c = r.get_config()
    return {"class": type(r).__name__, "l1": float(c.get("l1", 0.0) or 0.0), "l2": float(c.get("l2", 0.0) or 0.0)}


def tree(model):
    out = {"name": model.name, "class": type(model).__name__, "trainable": bool(model.trainable), "layers": []}
    for l in model.layers:
        if isinstance(l, INPUTS):
            continue
        if isinstance(l, MODELS):
            out["layers"].append(tree(l))
            continue
        cfg = l.get_config()
        out["layers"].append({
            "name": l.name,
            "class": type(l).__name__,
            "activation": plain(cfg.get("activation")),
            "params": {k: plain(cfg[k]) for k in PARAMS if k in cfg},
            "regularizers": {k: regularizer(getattr(l, k, None)) for k in REGULARIZERS},
            "trainable": bool(l.trainable),
        })
    return out


def err(e):
    return f"{type(e).__name__}: {e}"


def check(case):
    res = {"file": case["file"], "loader": case["loader"], "error": None, "output": None,
           "tree": None, "count_params": None, "trainable_params": None, "summary": None,
           "fit_error": None, "fit_loss": None}
    try:
        if case["loader"] == "keras":
            model = keras.saving.load_model(case["file"])
        elif case["loader"] == "tf_keras":
            model = tf_keras.models.load_model(case["file"])
        else:
            raise ValueError(f"unknown loader {case['loader']!r}")
        x = np.load(case["input"]).astype(np.float32)
        y = model.predict(x, verbose=0).astype(np.float32)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"predict gave {np.sum(~np.isfinite(y))} non-finite values")
        res["output"] = y.tolist()
        res["tree"] = tree(model)
        res["count_params"] = int(model.count_params())
        res["trainable_params"] = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
        lines = []
        model.summary(print_fn=lambda s, *a, **k: lines.append(s))
        res["summary"] = "\n".join(lines)
    except Exception as e:  # reported to the caller, which fails the test
        res["error"] = err(e)
        res["trace"] = traceback.format_exc(limit=4)
        return res
    if case.get("fit"):
        try:
            y = np.asarray(res["output"], dtype=np.float32)
            y = 1 / (1 + np.exp(-y))  # targets in (0, 1) of the output's shape
            model.compile(optimizer="adam", loss="binary_crossentropy")
            h = model.fit(x, y, epochs=1, batch_size=2, shuffle=False, verbose=0)
            loss = float(h.history["loss"][-1])
            if np.isfinite(loss):
                res["fit_loss"] = loss
            else:  # JSON has no NaN
                res["fit_error"] = f"the epoch's loss is {loss}"
        except Exception as e:
            res["fit_error"] = err(e)
    return res


def main():
    with open(sys.argv[1]) as f:
        req = json.load(f)
    out = {"versions": {"keras": keras.__version__, "tf_keras": tf_keras.__version__,
                        "tensorflow": tf.__version__},
           "results": []}
    for case in req["cases"]:
        keras.backend.clear_session()
        tf_keras.backend.clear_session()
        out["results"].append(check(case))
    json.dump(out, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
