#!/usr/bin/python3
"""blog_losses.py trains the Keras blog's Dense autoencoders with `aekit
train` (the one-line commands of the README) and prints a Markdown table of
final losses next to real Keras's, from fixtures/train/blog/keras-50.json
(written by fixtures/train/keras_blog.py):

  python3 bench/blog_losses.py [--aekit ./aekit] [--seeds 1,2,3,4] [--out out/blog]

Each model runs once per seed with `--seed N` (aekit's own initialisation,
shuffling and noise; Keras's seeds draw other numbers), on the rows, epochs
and batch size the Keras run used (the shipped 4000 Fashion-MNIST training
images, validation on the 1000 test images). The table shows the mean final
loss and val_loss over seeds, the range over seeds (Keras's own spread),
the ratio aekit/Keras of the means, and the wall seconds of a run (aekit:
the whole command; Keras: Model.fit). Load average is printed, as timings
on a shared machine depend on it.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--aekit", default=os.path.join(ROOT, "aekit"))
    ap.add_argument("--seeds", default="1,2,3,4")
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "blog"))
    a = ap.parse_args()
    k = json.load(open(os.path.join(ROOT, "fixtures", "train", "blog", "keras-50.json")))
    if (k["rows"], k["val_rows"]) != (4000, 1000):
        sys.exit("blog_losses.py: keras-50.json did not run on the whole shipped files (4000 and 1000 rows)")
    os.makedirs(a.out, exist_ok=True)
    print(f"load average at start: {os.getloadavg()}; Keras {k['keras']} (TF {k['tensorflow']}), "
          f"{k['rows']} rows, val {k['val_rows']}, {k['epochs']} epochs, batch {k['batch_size']}", file=sys.stderr)
    print("| model | aekit loss | Keras loss | aekit/Keras | aekit val_loss | Keras val_loss | aekit/Keras | epochs | rows | aekit s | Keras s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, m in k["models"].items():
        ae = {"loss": [], "val_loss": [], "s": []}
        for seed in a.seeds.split(","):
            cmd = [a.aekit, "train", "--data", os.path.join(ROOT, "fixtures", "data", "fashion-train.npy"),
                   "--validation-data", os.path.join(ROOT, "fixtures", "data", "fashion-test.npy"),
                   "--layers", m["layers"], "--epochs", str(k["epochs"]), "--batch-size", str(k["batch_size"]),
                   "--seed", seed, "--json", "--no-checkpoint", "-o", os.path.join(a.out, name + ".keras")]
            if m["noise"]:
                cmd += ["--noise", m["noise"]]
            t0 = time.perf_counter()
            d = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            ae["s"].append(time.perf_counter() - t0)
            ae["loss"].append(d["loss"][-1])
            ae["val_loss"].append(d["val_loss"][-1])
        ks = m["seeds"].values()
        kl = [s["loss"][-1] for s in ks]
        kv = [s["val_loss"][-1] for s in ks]
        ksec = [s["seconds"] for s in ks]

        def cell(v):
            return f"{statistics.mean(v):.5f} ({min(v):.5f}–{max(v):.5f})"

        al, av = statistics.mean(ae["loss"]), statistics.mean(ae["val_loss"])
        print(f"| {name} | {cell(ae['loss'])} | {cell(kl)} | {al / statistics.mean(kl):.4f} "
              f"| {cell(ae['val_loss'])} | {cell(kv)} | {av / statistics.mean(kv):.4f} "
              f"| {k['epochs']} | {k['rows']} | {statistics.median(ae['s']):.1f} | {statistics.median(ksec):.1f} |", flush=True)
    print(f"load average at end: {os.getloadavg()}", file=sys.stderr)


if __name__ == "__main__":
    main()
