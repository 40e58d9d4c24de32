#!/bin/sh
# train_side.sh: training only, side by side: one or more aekit binaries and
# PyTorch (bench/torch_bench.py) in turn, ROUNDS times, so that load drift
# falls on all of them alike; prints every result line and, per case, the
# median over rounds of each side's samples/s and its ratio to PyTorch's.
# A quicker check of the training goal than compare.sh (no inference, no
# ONNX Runtime).
#
#   sh bench/train_side.sh NEW_AEKIT [OLD_AEKIT ...]
#
# Environment: ROUNDS (5), MODELS (deep), THREADS (1), REPS (5), REP_TIME
# (0.4 seconds). PyTorch gets OPENBLAS_NUM_THREADS=1 and the
# OPENBLAS_CORETYPE of aekit's OpenBLAS, as in compare.sh.
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
MODELS=${MODELS:-deep}
THREADS=${THREADS:-1}
REPS=${REPS:-5}
REP_TIME=${REP_TIME:-0.4}
PY=/usr/bin/python3
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
core=$("$1" bench --mode infer --model seed --reps 1 --rep-time 1ms --rows 256 2>&1 >/dev/null | sed -n 's/.*; core \([A-Za-z0-9]*\);.*/\1/p' | head -n 1)
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -n "$core" ]; then
	OPENBLAS_CORETYPE=$core
	export OPENBLAS_CORETYPE
fi
echo "# train_side $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); models $MODELS threads $THREADS; rounds $ROUNDS x reps $REPS x ${REP_TIME}s; torch OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-default}"
for r in $(seq "$ROUNDS"); do
	for bin in "$@"; do
		echo "# round $r $bin $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
		"$bin" bench --mode train --model "$MODELS" --threads "$THREADS" --reps "$REPS" --rep-time "${REP_TIME}s" 2>/dev/null |
			sed "s|^|$bin |" | tee -a "$OUT"
	done
	echo "# round $r torch $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
	OPENBLAS_NUM_THREADS=1 "$PY" bench/torch_bench.py --mode train --models "$MODELS" --threads "$THREADS" \
		--reps "$REPS" --rep-time "$REP_TIME" 2>/dev/null | sed "s|^|torch |" | tee -a "$OUT"
done
echo "# end $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# medians over rounds (samples per second) and ratio to PyTorch's"
"$PY" - "$OUT" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    side, rest = line.split(" ", 1)
    m = re.search(r"samples_per_s=([0-9.]+)", rest)
    if not m:
        continue
    case = re.sub(r" samples_per_s=.*", "", rest.strip()).replace("bench ", "")
    runs.setdefault(case, {}).setdefault(side, []).append(float(m.group(1)))
print("| case | side | min / median / max | / PyTorch |")
print("|---|---|---|---|")
for case, sides in runs.items():
    t = statistics.median(sides.get("torch", [float("nan")]))
    for side, v in sides.items():
        med = statistics.median(v)
        print(f"| {case} | {side} | {min(v):,.0f} / {med:,.0f} / {max(v):,.0f} | {med / t:.2f}× |")
PY
