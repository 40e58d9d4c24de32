#!/usr/bin/python3
"""table.py prints the comparison table of bench/compare.sh from the
`bench ...` lines in DIR/aekit.txt, DIR/torch.txt and DIR/ort.txt, with the
run's header (DIR/header.txt) above it.

  /usr/bin/python3 bench/table.py DIR

Each cell is min / median / max samples/s over the rounds; the ratios divide
aekit's median by the other tool's. For batch-1 inference the median
latency per call (µs) is shown as well.
"""
import os
import re
import statistics
import sys

LINE = re.compile(r"^bench (train|infer) model=(\w+) threads=(\d+) batch=(\d+) samples_per_s=([\d.]+)(?: latency_us=([\d.]+))?$")
TOOLS = ("aekit", "torch", "ort")
ORDER = {"seed": 0, "ae784": 1, "deep": 2}


def read(path):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            m = LINE.match(line.strip())
            if m:
                key = (m[1], m[2], int(m[3]), int(m[4]))
                out.setdefault(key, []).append((float(m[5]), float(m[6]) if m[6] else None))
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
    data = {t: read(os.path.join(d, t + ".txt")) for t in TOOLS}
    hdr = os.path.join(d, "header.txt")
    if os.path.exists(hdr):
        print(open(hdr).read().rstrip())
        print()
    keys = sorted(set().union(*[set(v) for v in data.values()]),
                  key=lambda k: (k[0] != "train", ORDER.get(k[1], 9), k[2], k[3]))
    print("| case | aekit samples/s (min / median / max) | PyTorch | ONNX Runtime | aekit/PyTorch | aekit/ORT | batch-1 latency µs aekit / PyTorch / ORT |")
    print("|---|---|---|---|---|---|---|")
    for k in keys:
        a, t, o = (data[x].get(k, []) for x in TOOLS)
        lat1 = f"{lat(a)} / {lat(t)} / {lat(o)}" if k[0] == "infer" and k[3] == 1 else ""
        print(f"| {k[0]} {k[1]} threads={k[2]} batch={k[3]} | {cell(a)} | {cell(t)} | {cell(o)} | "
              f"{ratio(med(a), med(t))} | {ratio(med(a), med(o))} | {lat1} |")


if __name__ == "__main__":
    main()
