#!/usr/bin/python3
"""table.py prints the comparison table of bench/compare.sh from the
`bench ...` lines in DIR/aekit.txt, DIR/torch.txt and DIR/ort.txt, with the
run's header (DIR/header.txt) above it.

  /usr/bin/python3 bench/table.py DIR

Each cell is min / median / max samples/s over the rounds; the ratios divide
aekit's median by the other tool's. For batch-1 inference the median
latency per call (µs) is shown as well. The last two columns are aekit's
median GFLOP/s of the case's products over the whole case and its fraction of
threads × the peak, and, for training, the products' own rate (their FLOPs
per second of the time spent inside them, per thread) and its fraction of one
core's peak; then where the training steps went, and each training
product's own rate (the `bench product` lines).
"""
import os
import re
import statistics
import sys

LINE = re.compile(r"^bench (train|infer) model=(\w+) threads=(\d+) batch=(\d+) samples_per_s=([\d.]+)(?: latency_us=([\d.]+))?(?: gflops=([\d.]+) peak_frac=([\d.]+))?(?: products_gflops=([\d.]+) products_peak_frac=([\d.]+) (.*))?$")
LIMIT = re.compile(r"^bench (peak|sgemm) (.*)$")
PRODUCT = re.compile(r"^bench product model=(\w+) threads=(\d+) layer=(\S+) kind=(\w+) m=(\d+) n=(\d+) k=(\d+) gflops=([\d.]+) peak_frac=([\d.]+) share=([\d.]+)$")
TOOLS = ("aekit", "torch", "ort")
ORDER = {"seed": 0, "ae784": 1, "deep": 2}


def read(path, fracs=None, limits=None, prods=None, steps=None, byprod=None):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            m = LINE.match(line.strip())
            if m:
                key = (m[1], m[2], int(m[3]), int(m[4]))
                out.setdefault(key, []).append((float(m[5]), float(m[6]) if m[6] else None))
                if m[8] and fracs is not None:
                    fracs.setdefault(key, []).append((float(m[7]), float(m[8])))
                if m[10] and prods is not None:
                    prods.setdefault(key, []).append((float(m[9]), float(m[10])))
                    if steps is not None:
                        steps.setdefault(key, []).append({k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", m[11])})
                continue
            m = PRODUCT.match(line.strip())
            if m:
                if byprod is not None:
                    key = (m[1], int(m[2]), m[3], m[4], f"{m[5]}×{m[6]}×{m[7]}")
                    byprod.setdefault(key, []).append((float(m[8]), float(m[9]), float(m[10])))
                continue
            m = LIMIT.match(line.strip())
            if m and limits is not None:
                limits.setdefault(m[1] + " " + re.sub(r" (gflops|peak_frac|clock_ghz|fma_per_cycle)=[\d.]+", "", m[2]), []).append(line.strip())
    return out


def frac_cell(v):
    """median GFLOP/s and fraction of peak of aekit's runs of a case."""
    if not v:
        return "—"
    g = statistics.median(x for x, _ in v)
    f = statistics.median(x for _, x in v)
    return f"{g:.1f} / {f:.0%}"


def limit_lines(limits):
    """one line per peak or sgemm measurement: the median run's line."""
    out = []
    for k in sorted(limits):
        runs = limits[k]
        vals = [float(re.search(r"gflops=([\d.]+)", r)[1]) for r in runs]
        med = statistics.median(vals)
        out.append(f"{k}: gflops min/median/max {min(vals):.1f} / {med:.1f} / {max(vals):.1f} over {len(runs)} runs")
    return out


def cell(v):
    if not v:
        return "—"
    s = sorted(x for x, _ in v)
    return f"{s[0]:,.0f} / {statistics.median(s):,.0f} / {s[-1]:,.0f}"


def med(v):
    return statistics.median(x for x, _ in v) if v else None


def lat(v):
    ls = [l for _, l in v if l is not None]
    return f"{statistics.median(ls):.1f}" if ls else "—"


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "—"


def main():
    d = sys.argv[1]
    fracs, limits, prods, steps, byprod = {}, {}, {}, {}, {}
    data = {t: read(os.path.join(d, t + ".txt"), fracs if t == "aekit" else None, limits if t == "aekit" else None,
                    prods if t == "aekit" else None, steps if t == "aekit" else None,
                    byprod if t == "aekit" else None) for t in TOOLS}
    hdr = os.path.join(d, "header.txt")
    if os.path.exists(hdr):
        print(open(hdr).read().rstrip())
        print()
    if limits:
        for line in limit_lines(limits):
            print(line)
        print()
    keys = sorted(set().union(*[set(v) for v in data.values()]),
                  key=lambda k: (k[0] != "train", ORDER.get(k[1], 9), k[2], k[3]))
    print("| case | aekit samples/s (min / median / max) | PyTorch | ONNX Runtime | aekit/PyTorch | aekit/ORT | batch-1 latency µs aekit / PyTorch / ORT | aekit GFLOP/s / fraction of peak | products alone GFLOP/s / fraction |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k in keys:
        a, t, o = (data[x].get(k, []) for x in TOOLS)
        lat1 = f"{lat(a)} / {lat(t)} / {lat(o)}" if k[0] == "infer" and k[3] == 1 else ""
        print(f"| {k[0]} {k[1]} threads={k[2]} batch={k[3]} | {cell(a)} | {cell(t)} | {cell(o)} | "
              f"{ratio(med(a), med(t))} | {ratio(med(a), med(o))} | {lat1} | {frac_cell(fracs.get(k))} | "
              f"{frac_cell(prods.get(k)) if k in prods else ''} |")

    if steps:
        print()
        print("Where aekit's training steps went (medians over the runs; the phases as fractions of a step's wall-clock time, the products as a fraction of the threads' time):")
        print()
        print("| case | step µs | data | forward | loss | backward | weights | in products |")
        print("|---|---|---|---|---|---|---|---|")
        for k in sorted(steps, key=lambda k: (ORDER.get(k[1], 9), k[2])):
            v = steps[k]
            mid = lambda f: statistics.median(x.get(f, 0) for x in v)
            print(f"| {k[0]} {k[1]} threads={k[2]} | {mid('step_us'):,.0f} | " + " | ".join(f"{mid(f):.0%}" for f in ("data", "forward", "loss", "backward", "weights", "products")) + " |")

    if byprod:
        print()
        print("aekit's training products one by one (medians over the runs; GFLOP/s per thread, fraction of one core's peak, share of the time in all products):")
        print()
        print("| model, threads | layer | product | m×n×k | GFLOP/s | fraction of peak | share of product time |")
        print("|---|---|---|---|---|---|---|")
        for k in byprod:  # in the order of the step, model by model
            v = byprod[k]
            mid = lambda i: statistics.median(x[i] for x in v)
            name = {"forward": "x·W", "backward": "δ·Wᵀ", "weights": "xᵀ·δ"}.get(k[3], k[3])
            print(f"| {k[0]} threads={k[1]} | {k[2]} | {name} | {k[4]} | {mid(0):.1f} | {mid(1):.0%} | {mid(2):.0%} |")


if __name__ == "__main__":
    main()
