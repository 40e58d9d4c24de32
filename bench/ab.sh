#!/bin/sh
# ab.sh: two aekit binaries measured in turn (A, B, A, B, ...) with the same
# `aekit bench` cases, so that load drift falls on both alike; prints every
# result line and a table of B/A ratios of the medians per case.
#
#   sh bench/ab.sh OLD_AEKIT NEW_AEKIT            # e.g. a binary built at the base commit and ./aekit
#
# Environment: ROUNDS (3), THREADS (1,2), REPS (5), REP_TIME (0.3 seconds),
# MODELS (seed,ae784,deep), MODES (train infer).
set -eu
A=$1
B=$2
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-1,2}
REPS=${REPS:-5}
REP_TIME=${REP_TIME:-0.3}
MODELS=${MODELS:-seed,ae784,deep}
MODES=${MODES:-train infer}
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
echo "# A=$A B=$B rounds=$ROUNDS threads=$THREADS reps=$REPS rep_time=${REP_TIME}s $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for side in A B; do
		if [ "$side" = A ]; then bin=$A; else bin=$B; fi
		echo "# round $r $side $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
		for mode in $MODES; do
			"$bin" bench --mode "$mode" --model "$MODELS" --threads "$THREADS" --reps "$REPS" --rep-time "${REP_TIME}s" 2>/dev/null |
				sed "s/^/$side /" | tee -a "$OUT"
		done
	done
	r=$((r + 1))
done
echo "# B/A of the medians over rounds (samples per second; > 1: B faster)"
python3 - "$OUT" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    side, rest = line.split(" ", 1)
    m = re.search(r"samples_per_s=([0-9.]+)", rest)
    if not m:
        continue
    case = re.sub(r" samples_per_s=.*", "", rest.strip())
    runs.setdefault(case, {}).setdefault(side, []).append(float(m.group(1)))
print("| case | A | B | B/A |")
print("|---|---|---|---|")
for case, v in runs.items():
    a, b = statistics.median(v.get("A", [0])), statistics.median(v.get("B", [0]))
    print(f"| {case.replace('bench ', '')} | {a:,.0f} | {b:,.0f} | {b / a if a else float('nan'):.2f} |")
PY
