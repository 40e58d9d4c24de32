#!/usr/bin/python3
"""torch_norm_bench.py times PyTorch training steps of the models of aekit's
BenchmarkFitStepNorm (train/norm_bench_test.go) and prints one line per
model:

  bench train model=<name> threads=1 batch=256 samples_per_s=<x>

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_norm_bench.py [--reps 5] [--rep-time 0.4]

A 784-128-32-128-784 autoencoder (ReLU inside, a sigmoid output folded into
BCEWithLogitsLoss), plain ("plain"), with BatchNorm1d (momentum 0.01 =
Keras's 0.99, eps 1e-3) after both encoder layers ("bn"), with LayerNorm
(eps 1e-3) there ("ln"), or with Dropout(0.2) after the first layer
("dropout"); Adam(lr=1e-3, eps=1e-7), batch 256, shuffled Fashion-MNIST rows
(torch.randperm), one thread. Timing as bench/torch_bench.py (its helpers).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import data, timed  # noqa: E402


def build(kind):
    L = torch.nn
    enc = [L.Linear(784, 128), L.ReLU()]
    if kind == "bn":
        enc.append(L.BatchNorm1d(128, eps=1e-3, momentum=0.01))
    elif kind == "ln":
        enc.append(L.LayerNorm(128, eps=1e-3))
    elif kind == "dropout":
        enc.append(L.Dropout(0.2))
    enc += [L.Linear(128, 32), L.ReLU()]
    if kind == "bn":
        enc.append(L.BatchNorm1d(32, eps=1e-3, momentum=0.01))
    elif kind == "ln":
        enc.append(L.LayerNorm(32, eps=1e-3))
    m = L.Sequential(*enc, L.Linear(32, 128), L.ReLU(), L.Linear(128, 784))
    for mod in m:
        if isinstance(mod, L.Linear):
            L.init.xavier_uniform_(mod.weight)
            L.init.zeros_(mod.bias)
    return m.train()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="plain,bn,ln,dropout")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rep-time", type=float, default=0.4)
    a = ap.parse_args()
    torch.set_num_threads(1)
    x = data(784, 60000)
    n, batch = x.shape[0], 256
    for kind in a.models.split(","):
        torch.manual_seed(1)
        model = build(kind)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        lossf = torch.nn.BCEWithLogitsLoss()
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

        sps = timed(step, batch, a.reps, a.rep_time)[0]
        print(f"bench train model={kind} threads=1 batch=256 samples_per_s={sps:.0f}", flush=True)


if __name__ == "__main__":
    main()
