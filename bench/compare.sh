#!/bin/sh
# compare.sh runs aekit, PyTorch and ONNX Runtime side by side on the models
# of `aekit bench` and prints a table of samples/s (min/median/max over
# rounds) with the ratios aekit/PyTorch and aekit/ORT:
#
#   make compare        (or: sh bench/compare.sh)
#
# Training is compared with PyTorch (bench/torch_bench.py), inference with
# ONNX Runtime (tools/node/ort_bench.mjs, on the models written by
# bench/export) and PyTorch. The tools run one after the other, ROUNDS times
# in turn, so that load from other processes falls on all of them alike;
# each run prints the median of REPS repetitions per case, and the table
# shows the min, median and max of those medians.
#
# PyTorch multiplies through the system OpenBLAS. It gets
# OPENBLAS_NUM_THREADS=1 (its own pool does the threading) and the
# OPENBLAS_CORETYPE aekit's OpenBLAS runs (Debian's OpenBLAS 0.3.21 does not
# recognise recent CPUs and falls back to SSE3 kernels, ~1.7x slower for
# torch), unless OPENBLAS_CORETYPE is already set.
#
# aekit runs with --peak: each of its runs also prints the core's measured
# FMA peak and sgemm rates, and every aekit case its GFLOP/s and fraction
# of the peak (threads × one core's), which the table shows.
#
# Environment: AEKIT (binary; default ./aekit, built when missing), ROUNDS
# (3), REPS (5), REP_TIME (seconds per repetition, 0.4), MODELS
# (seed,ae784,deep), THREADS (training threads, 1,2), INFER_THREADS
# (inference threads, 1,2), OUT (out/compare).
set -eu
cd "$(dirname "$0")/.."
AEKIT=${AEKIT:-./aekit}
ROUNDS=${ROUNDS:-3}
REPS=${REPS:-5}
REP_TIME=${REP_TIME:-0.4}
MODELS=${MODELS:-seed,ae784,deep}
THREADS=${THREADS:-1,2}
INFER_THREADS=${INFER_THREADS:-1,2}
OUT=${OUT:-out/compare}
PY=/usr/bin/python3

if [ ! -d tools/node/node_modules/onnxruntime-node ] || ! "$PY" -c 'import torch' 2>/dev/null; then
	echo "compare.sh: ONNX Runtime (tools/node/node_modules) or PyTorch ($PY) is missing: run 'make deps' first, or use 'make compare'" >&2
	exit 2
fi
[ -x "$AEKIT" ] || go build -o "$AEKIT" ./cmd/aekit
mkdir -p "$OUT"
rm -f "$OUT/aekit.txt" "$OUT/torch.txt" "$OUT/ort.txt"
go run ./bench/export -o "$OUT"
"$AEKIT" bench --mode infer --model seed --reps 1 --rep-time 1ms --rows 256 2>"$OUT/kernel.txt" >/dev/null
core=$(sed -n 's/.*; core \([A-Za-z0-9]*\);.*/\1/p' "$OUT/kernel.txt" | head -n 1)
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -n "$core" ]; then
	OPENBLAS_CORETYPE=$core
	export OPENBLAS_CORETYPE
fi
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "aekit $(grep '^# kernel' "$OUT/kernel.txt" | sed 's/^# //')"
	echo "torch: OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-default}"
	echo "threads: training $THREADS, inference $INFER_THREADS; rounds $ROUNDS x reps $REPS x ${REP_TIME}s"
} >"$OUT/header.txt"

for r in $(seq "$ROUNDS"); do
	echo "round $r/$ROUNDS: aekit" >&2
	echo "# load average $(cut -d' ' -f1-3 /proc/loadavg) before round $r" >>"$OUT/aekit.txt"
	"$AEKIT" bench --peak --mode train --model "$MODELS" --threads "$THREADS" --reps "$REPS" --rep-time "${REP_TIME}s" 2>/dev/null >>"$OUT/aekit.txt"
	"$AEKIT" bench --peak --mode infer --model "$MODELS" --threads "$INFER_THREADS" --reps "$REPS" --rep-time "${REP_TIME}s" 2>/dev/null >>"$OUT/aekit.txt"
	echo "round $r/$ROUNDS: PyTorch" >&2
	OPENBLAS_NUM_THREADS=1 "$PY" bench/torch_bench.py --models "$MODELS" --threads "$THREADS" --infer-threads "$INFER_THREADS" \
		--reps "$REPS" --rep-time "$REP_TIME" 2>/dev/null >>"$OUT/torch.txt"
	echo "round $r/$ROUNDS: ONNX Runtime" >&2
	node tools/node/ort_bench.mjs --dir "$OUT" --models "$MODELS" --threads "$INFER_THREADS" --reps "$REPS" --rep-time "$REP_TIME" >>"$OUT/ort.txt"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/header.txt"
"$PY" bench/table.py "$OUT" | tee "$OUT/table.md"
