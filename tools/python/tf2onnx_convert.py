"""Converts Keras models to ONNX with tf2onnx, in one process (importing
TensorFlow costs seconds), for aekit's tf2onnx interop test:

    python tf2onnx_convert.py JOBS.json

JOBS.json is a list of jobs {"name", "file", "arch", "writer", "input",
"opsets", "out"}: the model file (with its model.to_json() or config.json
in "arch" for weights-only files, else null) is loaded with the Keras that
wrote it ("writer": "keras3" for Keras 3, "tf_keras" for Keras 2 files),
its predict() on the float32 .npy "input" is saved as OUT.keras.npy, and
for each opset the tf2onnx conversion is saved as OUT.opsetN.onnx.
tf_keras models are converted with tf2onnx.convert.from_keras; Keras 3
models with tf2onnx.convert.from_function on a tf.function with an input
signature (tf2onnx 1.17's from_keras fails on Keras 3 models with a
KeyError on output names). Activity regularizers are removed before the
conversion (they do not change predict's outputs, and tf2onnx fails on
the loss op they add).

For each job it prints one JSON line: {"name", "keras": path, "onnx":
{opset: path}, "seconds"} or {"name", "error": message}. The exit status is
1 if any job failed.
"""
import json
import sys
import time

import numpy as np
import tensorflow as tf
import tf2onnx


# from_keras and from_function trace and freeze the model (half the time of
# a conversion), then call _convert_common on the frozen graph. The first
# opset of a job goes through the public call; its frozen graph and
# arguments are kept and converted again at the job's other opsets.
_convert_common = tf2onnx.convert._convert_common
_captured = {}


def _capture(frozen_graph, **kw):
    _captured["graph"], _captured["kw"] = frozen_graph, kw
    return _convert_common(frozen_graph, **kw)


tf2onnx.convert._convert_common = _capture


def load(job):
    if job["writer"] == "tf_keras":
        import tf_keras as lib
    elif job["writer"] == "keras3":
        import keras as lib
    else:
        raise ValueError("unknown writer %r" % job["writer"])
    if job.get("arch"):
        with open(job["arch"]) as f:
            model = lib.models.model_from_json(f.read())
        model.load_weights(job["file"])
        return model
    return lib.models.load_model(job["file"], compile=False)


def convert(job):
    t0 = time.time()
    model = load(job)
    x = np.load(job["input"]).astype(np.float32, copy=False)
    want = model.predict(x, verbose=0)
    keras_out = job["out"] + ".keras.npy"
    np.save(keras_out, np.asarray(want, dtype=np.float32))
    # A Keras 3 activity regularizer adds a loss op to the traced call that
    # tf2onnx 1.17's graph freezing cannot fetch ("Failed to import
    # metagraph"); it has no effect at inference, so it is dropped.
    stripped = []
    for layer in model._flatten_layers(include_self=True, recursive=True):
        if getattr(layer, "activity_regularizer", None) is not None:
            layer.activity_regularizer = None
            stripped.append(layer.name)
    # The input is named as from_keras names it: after the Keras input.
    name = model.inputs[0].name.split(":")[0] if getattr(model, "inputs", None) else "input"
    spec = (tf.TensorSpec((None,) + tuple(model.input_shape[1:]), tf.float32, name=name),)
    paths = {}
    for i, opset in enumerate(job["opsets"]):
        path = "%s.opset%d.onnx" % (job["out"], opset)
        if i > 0:
            # The same frozen graph and arguments as the first conversion,
            # at another opset.
            kw = dict(_captured["kw"], opset=opset, output_path=path)
            _convert_common(_captured["graph"], **kw)
        elif job["writer"] == "tf_keras":
            tf2onnx.convert.from_keras(model, opset=opset, output_path=path)
        else:
            @tf.function(input_signature=spec, autograph=False)
            def fn(t):
                return model(t, training=False)

            tf2onnx.convert.from_function(fn, input_signature=spec, opset=opset, output_path=path)
        paths[opset] = path
    return {"name": job["name"], "keras": keras_out, "onnx": paths, "stripped_activity_regularizers": stripped,
            "seconds": round(time.time() - t0, 2)}


def main(argv):
    if len(argv) != 1:
        sys.stderr.write("usage: python tf2onnx_convert.py JOBS.json\n")
        return 2
    with open(argv[0]) as f:
        jobs = json.load(f)
    failed = False
    for job in jobs:
        try:
            r = convert(job)
        except Exception as e:  # one job's failure is reported, the others run
            failed = True
            r = {"name": job["name"], "error": "%s: %s" % (type(e).__name__, str(e).replace("\n", " "))}
        print(json.dumps(r), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
