"""Drives `aekit serve` with the official tritonclient (HTTP and gRPC).

Usage: python serve_triton.py SPEC.json
SPEC: {"http": "127.0.0.1:PORT", "grpc": "127.0.0.1:PORT", "models": [
  {"name", "input", "output", "x": X.npy, "y": Y.npy (aekit predict),
   "scores": S.npy (aekit score) or null, "threshold": float or null}]}
Prints one JSON object: per model and client, what the server answered
compared with aekit predict's outputs; the Go test asserts on it.
"""
import json
import sys

import numpy as np
import tritonclient.grpc as tg
import tritonclient.http as th
from tritonclient.utils import InferenceServerException


def bits_equal(a, b):
    a = np.ascontiguousarray(a, dtype=np.float32)
    b = np.ascontiguousarray(b, dtype=np.float32)
    return a.shape == b.shape and a.view(np.uint32).tobytes() == b.view(np.uint32).tobytes()


def max_rel(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def err(fn):
    try:
        fn()
    except InferenceServerException as e:
        return {"status": str(e.status()), "message": e.message()}
    return None


def run(spec):
    out = {"models": {}}
    clients = {
        "http": (th, th.InferenceServerClient(spec["http"])),
        "grpc": (tg, tg.InferenceServerClient(spec["grpc"])),
    }
    for proto, (mod, c) in clients.items():
        md = c.get_server_metadata()
        if proto == "grpc":
            md = {"name": md.name, "version": md.version, "extensions": list(md.extensions)}
        out[proto] = {"live": c.is_server_live(), "ready": c.is_server_ready(), "server": md}
    for m in spec["models"]:
        x = np.load(m["x"]).astype(np.float32)
        y = np.load(m["y"])
        res = out["models"][m["name"]] = {}
        for proto, (mod, c) in clients.items():
            r = res[proto] = {}
            r["model_ready"] = c.is_model_ready(m["name"])
            md = c.get_model_metadata(m["name"])
            if proto == "grpc":
                md = {"name": md.name, "versions": list(md.versions), "platform": md.platform,
                      "inputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in md.inputs],
                      "outputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in md.outputs]}
            r["metadata"] = md
            modes = [True, False] if proto == "http" else [True]
            for binary in modes:
                key = "binary" if binary else "json"
                if proto == "grpc":
                    key = "raw"
                # The whole batch in one request: the served batch is
                # aekit predict's batch, so the outputs are bit-identical.
                inp = mod.InferInput(m["input"], list(x.shape), "FP32")
                if proto == "http":
                    inp.set_data_from_numpy(x, binary_data=binary)
                    outs = [mod.InferRequestedOutput(m["output"], binary_data=binary)]
                else:
                    inp.set_data_from_numpy(x)
                    outs = [mod.InferRequestedOutput(m["output"])]
                if m.get("scores"):
                    outs.append(mod.InferRequestedOutput("reconstruction_error", binary_data=binary) if proto == "http"
                                else mod.InferRequestedOutput("reconstruction_error"))
                if m.get("threshold") is not None:
                    outs.append(mod.InferRequestedOutput("is_anomaly", binary_data=binary) if proto == "http"
                                else mod.InferRequestedOutput("is_anomaly"))
                a = c.infer(m["name"], [inp], outputs=outs, request_id="req-7")
                got = a.as_numpy(m["output"])
                d = {"id": a.get_response()["id"] if proto == "http" else a.get_response().id,
                     "shape": list(got.shape), "dtype": str(got.dtype),
                     "batch_bit_identical": bits_equal(got, y)}
                if m.get("scores"):
                    s = np.load(m["scores"])
                    gs = a.as_numpy("reconstruction_error")
                    d["scores_bit_identical"] = bits_equal(gs, s)
                    d["scores_max_rel"] = max_rel(gs, s)
                if m.get("threshold") is not None:
                    an = a.as_numpy("is_anomaly")
                    d["anomaly_dtype"] = str(an.dtype)
                    d["anomaly_matches"] = bool(np.array_equal(an, np.load(m["scores"]) > np.float32(m["threshold"])))
                    d["anomalous"] = int(an.sum())
                # The same batch, the request compressed with gzip.
                kw = {"request_compression_algorithm": "gzip"} if proto == "http" else {"compression_algorithm": "gzip"}
                d["gzip_bit_identical"] = bits_equal(c.infer(m["name"], [inp], outputs=outs[:1], **kw).as_numpy(m["output"]), y)
                # One row per request (no outputs named: all as binary):
                # the served batch differs, so 1e-6.
                rel = 0.0
                for i in range(x.shape[0]):
                    inp = mod.InferInput(m["input"], [1] + list(x.shape[1:]), "FP32")
                    if proto == "http":
                        inp.set_data_from_numpy(x[i:i + 1], binary_data=binary)
                    else:
                        inp.set_data_from_numpy(x[i:i + 1])
                    rel = max(rel, max_rel(c.infer(m["name"], [inp]).as_numpy(m["output"]), y[i:i + 1]))
                d["rows_max_rel"] = rel
                r[key] = d
            if m.get("ort"):
                # An ONNX file with its own reconstruction_error output
                # (aekit convert --score): ONNX Runtime's outputs agree.
                import onnxruntime
                sess = onnxruntime.InferenceSession(m["ort"])
                ort = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {sess.get_inputs()[0].name: x})))
                inp = mod.InferInput(m["input"], list(x.shape), "FP32")
                inp.set_data_from_numpy(x)
                a = c.infer(m["name"], [inp], outputs=[mod.InferRequestedOutput(m["output"]), mod.InferRequestedOutput("reconstruction_error")])
                r["ort_output_max_rel"] = max_rel(a.as_numpy(m["output"]), ort[m["output"]])
                r["ort_scores_max_rel"] = max_rel(a.as_numpy("reconstruction_error"), ort["reconstruction_error"])
            # Errors the client understands.
            bad = mod.InferInput(m["input"], [1, x.shape[1] - 1], "FP32")
            bad.set_data_from_numpy(x[:1, :-1])
            r["bad_shape"] = err(lambda: c.infer(m["name"], [bad]))
            ok = mod.InferInput(m["input"], [1, x.shape[1]], "FP32")
            ok.set_data_from_numpy(x[:1])
            r["unknown_model"] = err(lambda: c.infer("no_such_model", [ok]))
            r["unknown_model_ready"] = c.is_model_ready("no_such_model")
    return out


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    print(json.dumps(run(spec)))
