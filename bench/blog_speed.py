#!/usr/bin/python3
"""blog_speed.py trains the Keras blog's Dense autoencoders in PyTorch for
bench/blog_speed.sh, which runs `aekit train` on the same data beside it,
and prints one line per model:

  blog torch model=<name> threads=<n> rows=<n> epochs=<n> samples_per_s=<median over epochs>

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/blog_speed.py DATA.npy \
      [--models simple,dropout,sparse,denoising] [--threads 1] [--epochs 3]

Models (784 inputs, batch 256, rows reshuffled every epoch, Adam lr 1e-3
eps 1e-7, sigmoid output folded into BCEWithLogitsLoss, Glorot-uniform
weights and zero biases, as bench/torch_bench.py):

  simple     Linear(784,32) ReLU Linear(32,784)          aekit "32:relu|784:sigmoid"
  dropout    … ReLU Dropout(0.2) Linear(32,784)           aekit "32:relu:dropout=0.2|784:sigmoid"
  sparse     + 1e-4 · sum|code| / batch (Keras's activity_regularizer=l1(1e-4))
                                                          aekit "32:relu:act_l1=1e-4|784:sigmoid"
  denoising  x + 0.5·N(0,1) in, clean x as the target     aekit --noise gaussian=0.5

DATA.npy: uint8 images (n, 28, 28) or (n, 784), divided by 255. The time of
each epoch is taken around its steps (no data loading); the median epoch's
rows/s is printed.
"""
import argparse
import statistics
import time

import numpy as np
import torch


def build(name):
    l1, l2 = torch.nn.Linear(784, 32), torch.nn.Linear(32, 784)
    for lin in (l1, l2):
        torch.nn.init.xavier_uniform_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
    enc = torch.nn.Sequential(l1, torch.nn.ReLU())
    dec = [torch.nn.Dropout(0.2)] if name == "dropout" else []
    return enc, torch.nn.Sequential(*dec, l2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data")
    ap.add_argument("--models", default="simple,dropout,sparse,denoising")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    raw = np.load(a.data)
    x = torch.from_numpy(raw.reshape(len(raw), 784).astype(np.float32) / 255)
    n = x.shape[0]
    for name in a.models.split(","):
        torch.manual_seed(1)
        enc, dec = build(name)
        enc.train(), dec.train()
        opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3, eps=1e-7)
        lossf = torch.nn.BCEWithLogitsLoss()
        rates = []
        for _ in range(a.epochs):
            t0 = time.perf_counter()
            perm = torch.randperm(n)
            for s in range(0, n, a.batch):
                xb = x[perm[s:s + a.batch]]
                xin = xb + 0.5 * torch.randn_like(xb) if name == "denoising" else xb
                opt.zero_grad(set_to_none=True)
                h = enc(xin)
                loss = lossf(dec(h), xb)
                if name == "sparse":
                    loss = loss + 1e-4 * h.abs().sum() / xb.shape[0]
                loss.backward()
                opt.step()
            rates.append(n / (time.perf_counter() - t0))
        print(f"blog torch model={name} threads={a.threads} rows={n} epochs={a.epochs} "
              f"samples_per_s={statistics.median(rates):.0f}", flush=True)


if __name__ == "__main__":
    main()
