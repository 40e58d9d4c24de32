"""Runs ONNX models in ONNX Runtime (the Python package, CPU, one thread)
on float32 .npy inputs and writes the outputs as float32 .npy files: the
Python twin of tools/node/ort_run.mjs, with the same job protocol. aekit's
interop tests run it in the reference environment (.venv).

    python ort_run.py MODEL.onnx IN.npy OUT.npy
    python ort_run.py --jobs JOBS.json

JOBS.json is a list of {"model": ..., "input": ..., "output": ...} paths,
run in one process to save start-up time. A job may name the model output
to write with "name" (default: the first); a bool output is then written
as float32 0/1 (the Node twin does not read "name"). For each job it prints one JSON
line: {"output": path, "dims": [...]} or {"output": path, "error": msg}.
The exit status is 1 if any job failed.
"""
import json
import sys

import numpy as np
import onnxruntime as ort


def run(job):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(job["model"], so, providers=["CPUExecutionProvider"])
    x = np.load(job["input"]).astype(np.float32, copy=False)
    inp = sess.get_inputs()[0]
    # (n, 28, 28) images feed a model whose input is (n, 784): flatten the
    # sample axes when the model's input has rank 2.
    if len(inp.shape) == 2 and x.ndim > 2:
        x = x.reshape(x.shape[0], -1)
    name = job.get("name")
    y = sess.run([name] if name else None, {inp.name: x})[0]
    if name and y.dtype == np.bool_:
        y = y.astype(np.float32)
    if y.dtype != np.float32:
        raise TypeError("output type %s" % y.dtype)
    np.save(job["output"], y)
    return list(y.shape)


def main(argv):
    if len(argv) == 2 and argv[0] == "--jobs":
        with open(argv[1]) as f:
            jobs = json.load(f)
    elif len(argv) == 3:
        jobs = [{"model": argv[0], "input": argv[1], "output": argv[2]}]
    else:
        sys.stderr.write("usage: python ort_run.py MODEL.onnx IN.npy OUT.npy | --jobs JOBS.json\n")
        return 2
    failed = False
    for job in jobs:
        try:
            print(json.dumps({"output": job["output"], "dims": run(job)}), flush=True)
        except Exception as e:  # one job's failure is reported, the others run
            failed = True
            print(json.dumps({"output": job["output"], "error": str(e)}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
