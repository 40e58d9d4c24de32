#!/usr/bin/python3
"""torch_bench.py times PyTorch on the models of `aekit bench` and prints one
line per case in aekit bench's format, for bench/compare.sh:

  bench train model=<name> threads=<n> batch=256 samples_per_s=<x>
  bench infer model=<name> threads=<n> batch=<1|256> samples_per_s=<x> latency_us=<x>

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_bench.py \
      [--models seed,ae784,deep] [--threads 1,2] [--infer-threads 1] \
      [--reps 5] [--rep-time 0.4] [--rows 60000] [--mode train|infer|all]

Same models, initialisation and loss as aekit: Dense layers with
Glorot-uniform (xavier_uniform_) weights and zero biases, ReLU inside (the
seed model's third layer is a sigmoid, as in aekit's), a sigmoid output
folded into BCEWithLogitsLoss (mean), batch 256, rows reshuffled every epoch
(torch.randperm). The optimizer is torch.optim.Adam(lr=1e-3, eps=1e-7):
PyTorch's epsilon form, not Keras's epsilon-hat one; the arithmetic is the
same, the point here is speed. Threads: torch.set_num_threads(n); run it
with OPENBLAS_NUM_THREADS=1 (Debian's torch multiplies through OpenBLAS, and
two thread pools fighting make it ~3x slower). Data: Fashion-MNIST for the
784-wide models when present, else uniform random rows in [0, 1).

Each case runs a warm-up (a quarter of --rep-time), then --reps timed
repetitions of about --rep-time seconds; the median is printed.
"""
import argparse
import gzip
import os
import statistics
import sys
import time

import numpy as np
import torch

MODELS = {
    # name: (widths, activations after each layer but the last, which is a sigmoid)
    "seed": ([100, 10, 10, 100, 100], ["relu", "relu", "sigmoid"]),
    "ae784": ([784, 32, 784], ["relu"]),
    "deep": ([784, 128, 64, 32, 64, 128, 784], ["relu"] * 5),
}
FASHION = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def build(name):
    widths, acts = MODELS[name]
    layers = []
    for i in range(1, len(widths)):
        lin = torch.nn.Linear(widths[i - 1], widths[i])
        torch.nn.init.xavier_uniform_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < len(widths) - 1:
            layers.append(torch.nn.ReLU() if acts[i - 1] == "relu" else torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers)  # logits


def data(width, rows, seed=1):
    if width == 784 and os.path.exists(FASHION):
        with gzip.open(FASHION, "rb") as f:
            raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784)
        x = raw[np.arange(rows) % raw.shape[0]].astype(np.float32) / 255
    else:
        x = np.random.default_rng(seed).random((rows, width), dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(x))


def timed(step, batch, reps, rep_time):
    """Returns the medians of samples/s and µs per call of step()."""
    calls, t0 = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - t0 < rep_time / 4:
        step()
        calls += 1
    per_rep = max(1, round(calls / (time.perf_counter() - t0) * rep_time))
    rates, lats = [], []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(per_rep):
            step()
        el = time.perf_counter() - t
        rates.append(per_rep * batch / el)
        lats.append(el / per_rep * 1e6)
    return statistics.median(rates), statistics.median(lats)


def bench_train(name, x, reps, rep_time, batch=256):
    torch.manual_seed(1)
    model = build(name)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    lossf = torch.nn.BCEWithLogitsLoss()
    n = x.shape[0]
    state = {"perm": torch.randperm(n), "pos": 0}

    def step():
        if state["pos"] + batch > n:
            state["perm"], state["pos"] = torch.randperm(n), 0
        idx = state["perm"][state["pos"]:state["pos"] + batch]
        state["pos"] += batch
        xb = x[idx]
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(xb), xb)
        loss.backward()
        opt.step()

    return timed(step, batch, reps, rep_time)[0]


def bench_infer(name, x, batch, reps, rep_time):
    torch.manual_seed(1)
    model = torch.nn.Sequential(build(name), torch.nn.Sigmoid()).eval()
    chunks = x.shape[0] // batch
    state = {"i": 0}

    def step():
        i = state["i"] % chunks
        state["i"] += 1
        with torch.no_grad():
            model(x[i * batch:(i + 1) * batch])

    return timed(step, batch, reps, rep_time)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="seed,ae784,deep")
    ap.add_argument("--threads", default="1,2", help="training thread counts")
    ap.add_argument("--infer-threads", default="1", help="inference thread counts")
    ap.add_argument("--mode", default="all", choices=["train", "infer", "all"])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rep-time", type=float, default=0.4)
    ap.add_argument("--rows", type=int, default=60000)
    a = ap.parse_args()
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        print("torch_bench: warning: OPENBLAS_NUM_THREADS is not 1", file=sys.stderr)
    print(f"# torch {torch.__version__}; {torch.__config__.parallel_info().splitlines()[0]}", file=sys.stderr)
    names = a.models.split(",")
    cache = {}

    def rows(w):
        if w not in cache:
            cache[w] = data(w, a.rows)
        return cache[w]

    if a.mode in ("train", "all"):
        for name in names:
            for t in map(int, a.threads.split(",")):
                torch.set_num_threads(t)
                sps = bench_train(name, rows(MODELS[name][0][0]), a.reps, a.rep_time)
                print(f"bench train model={name} threads={t} batch=256 samples_per_s={sps:.0f}", flush=True)
    if a.mode in ("infer", "all"):
        for name in names:
            for t in map(int, a.infer_threads.split(",")):
                torch.set_num_threads(t)
                for b in (1, 256):
                    sps, lat = bench_infer(name, rows(MODELS[name][0][0]), b, a.reps, a.rep_time)
                    print(f"bench infer model={name} threads={t} batch={b} samples_per_s={sps:.0f} latency_us={lat:.2f}", flush=True)


if __name__ == "__main__":
    main()
