"""Keras's own numbers for aekit evaluate and aekit score (cmd/aekit
TestEvaluateScoreKeras).

Usage: keras_evaluate.py JOBS.json

Each job: {"model": FILE, "input": X.npy, "target": Y.npy or null,
"loss": keras loss name, "batch_size": N, "loader": "keras" (default) or
"tf_keras"}. For each job it loads the model with Keras 3 (TensorFlow
backend) or tf-keras (Keras 2), compiles it with the loss and prints
one JSON line {"evaluate": model.evaluate(x, y, batch_size=N),
"rows": per-row loss}: keras.losses.<loss>(y, model(x)) on the whole
input, which Keras averages over the last axis only (binary_crossentropy
from the logits after a sigmoid output, as on TensorFlow).
"""
import json
import sys

import numpy as np

jobs = json.load(open(sys.argv[1]))
for j in jobs:
    if j.get("loader") == "tf_keras":
        import tf_keras as keras
        m = keras.models.load_model(j["model"], compile=False)
    else:
        import keras
        m = keras.saving.load_model(j["model"], compile=False)
    x = np.load(j["input"]).astype(np.float32)
    y = x if j.get("target") is None else np.load(j["target"]).astype(np.float32)
    m.compile(optimizer="adam", loss=j["loss"])
    ev = m.evaluate(x, y, batch_size=j["batch_size"], verbose=0)
    fn = keras.losses.get(j["loss"])
    rows = np.asarray(fn(y, m(x))).astype(np.float64)
    print(json.dumps({"evaluate": float(ev), "rows": rows.tolist()}), flush=True)
