#!/bin/sh
# blog_speed.sh times training of the Keras blog's Dense autoencoders (the
# simple one, with Dropout(0.2) after the code, with the sparse activity
# regulariser, and denoising with GaussianNoise(0.5) on the input) in
# `aekit train` and in PyTorch (bench/blog_speed.py), side by side, on the
# 60000 Fashion-MNIST training images, and prints samples/s (the median
# epoch's) and the ratio aekit/PyTorch per model and thread count:
#
#   sh bench/blog_speed.sh
#
# The tools run one after the other, ROUNDS times in turn, so that load
# from other processes falls on both alike; the table shows the median over
# rounds and the load average at start and end.
# Environment: AEKIT (binary; default ./aekit, built when missing), ROUNDS
# (3), EPOCHS (3), THREADS (1,2), OUT (out/blog-speed).
set -eu
cd "$(dirname "$0")/.."
AEKIT=${AEKIT:-./aekit}
ROUNDS=${ROUNDS:-3}
EPOCHS=${EPOCHS:-3}
THREADS=${THREADS:-1,2}
OUT=${OUT:-out/blog-speed}
PY=/usr/bin/python3
IDX=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
[ -x "$AEKIT" ] || go build -o "$AEKIT" ./cmd/aekit
mkdir -p "$OUT"
DATA=$OUT/fashion60k.npy
[ -f "$DATA" ] || "$PY" -c "import gzip,sys,numpy as np; np.save(sys.argv[2], np.frombuffer(gzip.open(sys.argv[1]).read(), np.uint8, offset=16).reshape(-1, 784))" "$IDX" "$DATA"
# OpenBLAS as bench/compare.sh gives it to torch.
core=$("$AEKIT" bench --mode infer --model seed --reps 1 --rep-time 1ms --rows 256 2>&1 >/dev/null | sed -n 's/.*; core \([A-Za-z0-9]*\);.*/\1/p' | head -n 1)
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -n "$core" ]; then
	OPENBLAS_CORETYPE=$core
	export OPENBLAS_CORETYPE
fi
RES=$OUT/results.txt
: >"$RES"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); torch: OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-default}"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for th in $(echo "$THREADS" | tr ',' ' '); do
		for m in simple dropout sparse denoising; do
			noise=""
			case $m in
			simple | denoising) spec="32:relu|784:sigmoid" ;;
			dropout) spec="32:relu:dropout=0.2|784:sigmoid" ;;
			sparse) spec="32:relu:act_l1=1e-4|784:sigmoid" ;;
			esac
			[ "$m" = denoising ] && noise="--noise gaussian=0.5"
			# shellcheck disable=SC2086
			"$AEKIT" train --data "$DATA" --layers "$spec" $noise --epochs "$EPOCHS" --seed 1 \
				--threads "$th" --json --no-checkpoint -o "$OUT/$m.keras" 2>/dev/null |
				"$PY" -c "import json,sys,statistics as s; d=json.load(sys.stdin); print('blog aekit model=$m threads=$th samples_per_s=%.0f' % (60000/s.median(d['seconds'])))" >>"$RES"
		done
		OPENBLAS_NUM_THREADS=1 "$PY" bench/blog_speed.py "$DATA" --threads "$th" --epochs "$EPOCHS" |
			sed 's/ rows=[0-9]* epochs=[0-9]*//' >>"$RES"
	done
	r=$((r + 1))
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" - "$RES" <<'PYEOF'
import re, statistics, sys
v = {}
for line in open(sys.argv[1]):
    m = re.match(r"blog (\w+) model=(\w+) threads=(\d+) samples_per_s=(\d+)", line)
    if m:
        v.setdefault((m[2], m[3], m[1]), []).append(float(m[4]))
print("| model | threads | aekit samples/s | PyTorch samples/s | aekit/PyTorch |")
print("|---|---|---|---|---|")
for (model, th) in sorted({(k[0], k[1]) for k in v}, key=lambda k: (k[1], ["simple", "dropout", "sparse", "denoising"].index(k[0]))):
    a, t = statistics.median(v[(model, th, "aekit")]), statistics.median(v[(model, th, "torch")])
    print(f"| {model} | {th} | {a:.0f} | {t:.0f} | {a / t:.2f} |")
PYEOF
