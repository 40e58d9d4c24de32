#!/usr/bin/env bash
# serve.sh measures `aekit serve` under load on loopback, side by side with
# its transport limit and with KServe's Python model server serving the same
# ONNX model (the peer), and writes bench/serve-YYYY-MM-DD-HHMM.txt (raw JSON
# lines, machine, load averages) ending in a summary table:
#
#   make bench-serve       (or: bash bench/serve.sh after make build kserve-deps)
#
# For each model (784-32-784 "ae32" and 784-128-64-32-64-128-784 "deep",
# trained for one epoch on fixtures/data so the weights are real, exported
# to ONNX) it starts five servers on 127.0.0.1:
#   transport      aekit serve --echo: decodes and encodes tensors of the
#                  model's sizes without running it (the transport limit);
#                  without aekit serve, internal/loadgen's echo server (REST only)
#   aekit          aekit serve with its default dynamic batching
#   aekit-nobatch  aekit serve --max-batch 1
#   kserve         tools/python/kserve/onnx_model.py: KServe's ModelServer
#                  with a custom model running ONNX Runtime (1 worker, the
#                  default)
#   kserve-w2      the same with --workers 2 (one process per core; gRPC is
#                  served by the first process only)
# and runs the load generator (internal/loadgen/cmd/aeload) against them:
# for each protocol (REST JSON, REST binary tensors, gRPC) and each client
# count, all five in turn, so every row of the table is measured under the
# same machine load. Each run is REQUESTS single-row requests (after 2 per
# client of warm-up), bounded by MAX_DURATION; the whole sequence is
# repeated ROUNDS times and the summary shows medians over the rounds.
# With SWEEP=1 (default) it then measures aekit's batching flags (max
# batch × max delay, one server each, interleaved the same way) at 64 and
# 256 clients over binary REST, to choose the defaults.
#
# Environment: AEKIT (binary; default ./aekit, built when missing),
# KSERVE_PY (.venv-kserve/bin/python), MODELS (ae32,deep), PROTOCOLS
# (json,binary,grpc), CLIENTS (1,16,64,256), REQUESTS (3000), ROUNDS (2), MAX_DURATION
# (60s), SWEEP (1), SWEEP_BATCH (8,32,64,128), SWEEP_DELAY (0,200us,1ms),
# OUT (out/bench-serve, models and server logs).
set -euo pipefail
cd "$(dirname "$0")/.."
AEKIT=${AEKIT:-./aekit}
KSERVE_PY=${KSERVE_PY:-.venv-kserve/bin/python}
MODELS=${MODELS:-ae32,deep}
PROTOCOLS=${PROTOCOLS:-json,binary,grpc}
CLIENTS=${CLIENTS:-1,16,64,256}
REQUESTS=${REQUESTS:-3000}
ROUNDS=${ROUNDS:-2}
MAX_DURATION=${MAX_DURATION:-60s}
SWEEP=${SWEEP:-1}
SWEEP_BATCH=${SWEEP_BATCH:-8,32,64,128}
SWEEP_DELAY=${SWEEP_DELAY:-0,200us,1ms}
OUT=${OUT:-out/bench-serve}
RAW=bench/serve-$(date -u +%Y-%m-%d-%H%M).txt
HOST=127.0.0.1

if [ ! -x "$KSERVE_PY" ]; then
	echo "serve.sh: the KServe peer's venv ($KSERVE_PY) is missing: run 'make kserve-deps' first, or use 'make bench-serve'" >&2
	exit 2
fi
[ -x "$AEKIT" ] || go build -o "$AEKIT" ./cmd/aekit
mkdir -p "$OUT"
go build -o "$OUT/aeload" ./internal/loadgen/cmd/aeload
LOAD=$OUT/aeload
if "$AEKIT" serve --help >/dev/null 2>&1; then HAVE_SERVE=1; else HAVE_SERVE=0; fi
if [ "$HAVE_SERVE" = 0 ]; then
	PROTOCOLS=$(echo "$PROTOCOLS" | tr ',' '\n' | grep -v '^grpc$' | paste -sd, -)
	SWEEP=0
fi

# The servers this script started, stopped on exit (only these pids).
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start LOGNAME CMD...: run a server in the background, remember its pid.
start() {
	local log=$OUT/$1.log
	shift
	"$@" >"$log" 2>&1 &
	PIDS+=($!)
}

layers() {
	case $1 in
	ae32) echo "32:relu|784:sigmoid" ;;
	deep) echo "128:relu,64:relu,32:relu|64:relu,128:relu,784:sigmoid" ;;
	*) echo "serve.sh: unknown model $1 (ae32, deep)" >&2; exit 2 ;;
	esac
}

rss() { # the resident memory of this script's servers, in MiB
	for p in "${PIDS[@]}"; do
		ps -o pid=,rss=,args= -p "$p" 2>/dev/null | awk '{printf "  pid %s  rss %.0f MiB  %s %s %s\n", $1, $2/1024, $3, $4, $5}'
	done
}

{
	echo "# aekit serve benchmark (bench/serve.sh)"
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "aekit: $("$AEKIT" version 2>/dev/null | head -n 1 || echo unknown); serve: $([ "$HAVE_SERVE" = 1 ] && echo yes || echo "NO (aekit serve missing: transport is loadgen's echo, no aekit rows)")"
	echo "kserve: $("$KSERVE_PY" -c 'import importlib.metadata as m; print(m.version("kserve"), "onnxruntime", m.version("onnxruntime"))')"
	echo "requests per run: $REQUESTS; rounds: $ROUNDS; clients: $CLIENTS; protocols: $PROTOCOLS; models: $MODELS"
} | tee "$RAW"

port=18100
for model in ${MODELS//,/ }; do
	onnx=$OUT/$model.onnx
	"$AEKIT" train --data fixtures/data/fashion-train.npy --layers "$(layers "$model")" \
		--epochs 1 --quiet --no-checkpoint -o "$onnx" >/dev/null
	targets=() metrics=() grpc=()
	# transport limit
	if [ "$HAVE_SERVE" = 1 ]; then
		start "$model-transport" "$AEKIT" serve --echo --http $HOST:$port --grpc $HOST:$((port + 1)) "$onnx"
		grpc+=(-grpc-target transport=$HOST:$((port + 1)))
	else
		start "$model-transport" "$LOAD" echo -http $HOST:$port -model "$model" -width 784
	fi
	targets+=(-target transport=http://$HOST:$port)
	port=$((port + 10))
	if [ "$HAVE_SERVE" = 1 ]; then
		start "$model-aekit" "$AEKIT" serve --http $HOST:$port --grpc $HOST:$((port + 1)) "$onnx"
		targets+=(-target aekit=http://$HOST:$port)
		metrics+=(-metrics aekit=http://$HOST:$port/metrics)
		grpc+=(-grpc-target aekit=$HOST:$((port + 1)))
		port=$((port + 10))
		start "$model-aekit-nobatch" "$AEKIT" serve --max-batch 1 --http $HOST:$port --grpc $HOST:$((port + 1)) "$onnx"
		targets+=(-target aekit-nobatch=http://$HOST:$port)
		metrics+=(-metrics aekit-nobatch=http://$HOST:$port/metrics)
		grpc+=(-grpc-target aekit-nobatch=$HOST:$((port + 1)))
		port=$((port + 10))
	fi
	for w in 1 2; do
		label=kserve
		[ "$w" = 1 ] || label=kserve-w$w
		start "$model-$label" "$KSERVE_PY" tools/python/kserve/onnx_model.py --model_name "$model" \
			--model_path "$onnx" --bind $HOST --http_port $port --grpc_port $((port + 1)) \
			--enable_latency_logging false --workers $w
		targets+=(-target $label=http://$HOST:$port)
		grpc+=(-grpc-target $label=$HOST:$((port + 1)))
		port=$((port + 10))
	done
	[ "$HAVE_SERVE" = 1 ] || grpc=()

	echo "## $model ($(layers "$model")), load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RAW"
	"$LOAD" run -model "$model" -protocols "$PROTOCOLS" -clients "$CLIENTS" -requests "$REQUESTS" -rounds "$ROUNDS" \
		-max-duration "$MAX_DURATION" -batch-metric aekit_batch_rows \
		"${targets[@]}" "${metrics[@]}" "${grpc[@]}" | tee -a "$RAW"
	{
		echo "## $model: load average after: $(cut -d' ' -f1-3 /proc/loadavg); server memory after the runs:"
		rss
	} | tee -a "$RAW"
	cleanup

	if [ "$SWEEP" = 1 ]; then
		# Every flag pair gets its own server, all started at once and
		# measured in turn, ROUNDS times over, as the main comparison.
		sweep=() sweepm=()
		for b in ${SWEEP_BATCH//,/ }; do
			for d in ${SWEEP_DELAY//,/ }; do
				start "$model-sweep-b$b-d$d" "$AEKIT" serve --max-batch "$b" --max-delay "$d" --http $HOST:$port --grpc off "$onnx"
				sweep+=(-target "aekit-b$b-d$d=http://$HOST:$port")
				sweepm+=(-metrics "aekit-b$b-d$d=http://$HOST:$port/metrics")
				port=$((port + 10))
			done
		done
		echo "## $model: batching sweep (binary REST, 64 and 256 clients), load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RAW"
		"$LOAD" run -model "$model" -protocols binary -clients 64,256 -requests "$REQUESTS" -rounds "$ROUNDS" \
			-max-duration "$MAX_DURATION" -batch-metric aekit_batch_rows "${sweep[@]}" "${sweepm[@]}" | tee -a "$RAW"
		cleanup
	fi
done

{
	echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "## summary (req/s; p99 in ms; batch = aekit's mean rows per batch from /metrics;"
	echo "## % of transport = aekit/transport throughput; × kserve(-w2) = aekit/kserve(-w2) throughput;"
	echo "## batching gain = aekit/aekit-nobatch throughput)"
	"$LOAD" summary "$RAW"
} | tee -a "$RAW.summary"
cat "$RAW.summary" >>"$RAW" && rm -f "$RAW.summary"
echo "written: $RAW"
