package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/aekit/aekit/serve"
)

const serveHelp = `Serves models over the Open Inference Protocol (KServe v2, Triton's
HTTP/REST and gRPC inference.GRPCInferenceService), so Triton's and KServe's
clients work unchanged: REST on --http (JSON tensors and Triton's binary
tensor extension), gRPC on --grpc, Prometheus metrics at /metrics on --http.

Models come from a repository laid out as Triton's, DIR/NAME/VERSION/model.onnx
(or model.keras, model.h5; the highest VERSION is served), or are model files
served under their base names without the extension (version 1). A model
whose output has its input's width also answers the outputs
reconstruction_error (FP32, one per row; the metric of the threshold stored
with the model, else mse) and, with a stored threshold (MODEL.anomaly.json,
written by aekit score --save-threshold, or ONNX metadata), is_anomaly (BOOL)
when a request asks for them.

Concurrent requests for one model are merged into batches of up to
--max-batch rows (dynamic batching), waiting at most --max-delay for more
rows; requests beyond --max-queue waiting rows are refused (HTTP 429, gRPC
RESOURCE_EXHAUSTED).

SIGTERM or SIGINT: readiness goes false, requests in flight are answered,
then aekit exits 0. SIGHUP (or every --repository-poll) reloads the
repository: new and changed models are loaded, removed ones unloaded; a
model that fails to load leaves its old version serving.`

func cmdServe(args []string, stdout, stderr io.Writer) int {
	// --echo (Config.Echo, for the transport-limit benchmark) is kept out
	// of the flags listed in --help and completions.
	echo := false
	var rest []string
	for _, a := range args {
		if a == "--echo" || a == "-echo" {
			echo = true
			continue
		}
		rest = append(rest, a)
	}
	fs := newFlagSet("serve", "[--http ADDR] [--grpc ADDR] (--model-repository DIR | MODEL... | MODEL --model-name NAME)\n\n"+serveHelp, stderr)
	httpAddr := fs.String("http", ":8000", "serve REST and /metrics on `ADDR` (\"\" or off: no HTTP)")
	grpcAddr := fs.String("grpc", ":8001", "serve gRPC on `ADDR` (\"\" or off: no gRPC)")
	repo := fs.String("model-repository", "", "serve the models of the repository `DIR` (DIR/NAME/VERSION/model.onnx|keras|h5)")
	modelName := fs.String("model-name", "", "serve the one MODEL file under `NAME` (default: its base name without the extension)")
	maxBatch := fs.Int("max-batch", serve.DefaultMaxBatch, "largest batch in `rows` run at once (1: no batching)")
	maxDelay := fs.Duration("max-delay", serve.DefaultMaxDelay, "longest `time` a batch waits for more rows, e.g. 500us (default 0: it runs once a worker is free, growing while all are busy)")
	workers := fs.Int("workers", 0, "batches of one model run at once (default: the number of cores)")
	maxQueue := fs.Int("max-queue", serve.DefaultMaxQueue, "largest number of `rows` waiting per model; beyond it requests get 429")
	maxRows := fs.Int("max-rows", serve.DefaultMaxRows, "largest number of `rows` in one request")
	maxBody := fs.Int64("max-body", serve.DefaultMaxBodyBytes, "largest request body or gRPC message in `bytes`")
	maxBuffer := fs.Int64("max-body-buffer", serve.DefaultMaxBodyBuffer, "largest number of `bytes` of request bodies and gRPC messages held at once; beyond it REST requests get 429, gRPC calls wait")
	maxInflight := fs.Int("max-inflight", serve.DefaultMaxInflight, "largest number of inference `requests` in progress; beyond it requests get 429")
	drain := fs.Duration("drain-delay", 0, "on SIGTERM, keep serving this long, not ready, before closing the listeners")
	poll := fs.Duration("repository-poll", 0, "reload the models every `interval` (e.g. 30s), as on SIGHUP (default: only on SIGHUP)")
	logJSON := fs.Bool("log-json", false, "write logs as JSON lines (default: text)")
	verbose := fs.Bool("v", false, "log every refused request (debug level)")
	pos, code, done := parseCommand(fs, rest, 0, -1, stdout, stderr)
	if done {
		return code
	}
	if *repo == "" && len(pos) == 0 {
		fmt.Fprintln(stderr, "aekit serve: give --model-repository DIR or model files")
		fs.Usage()
		return exitUsage
	}
	for _, c := range []struct {
		flag string
		v    int64
	}{{"--max-batch", int64(*maxBatch)}, {"--max-queue", int64(*maxQueue)}, {"--max-rows", int64(*maxRows)},
		{"--max-body", *maxBody}, {"--max-body-buffer", *maxBuffer}, {"--max-inflight", int64(*maxInflight)}} {
		if c.v < 1 {
			return fail(stderr, "serve", fmt.Errorf("%s %d: must be at least 1", c.flag, c.v))
		}
	}
	if *maxDelay < 0 || *workers < 0 || *drain < 0 || *poll < 0 {
		return fail(stderr, "serve", errors.New("--max-delay, --workers, --drain-delay and --repository-poll must not be negative"))
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	var h slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	if *logJSON {
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	}
	log := slog.New(h)
	cfg := serve.Config{Repository: *repo, Models: pos, ModelName: *modelName, MaxBatch: *maxBatch, MaxDelay: *maxDelay, Workers: *workers,
		MaxQueue: *maxQueue, MaxRows: *maxRows, MaxBodyBytes: *maxBody, MaxBodyBuffer: *maxBuffer, MaxInflight: *maxInflight, DrainDelay: *drain, PollInterval: *poll,
		Echo: echo, Logger: log}
	if echo {
		log.Warn("echo mode: answers without running the models (transport benchmark only)")
	}
	// Listen first: a busy port fails before models load.
	listen := func(flag, addr string) (net.Listener, error) {
		if addr == "" || addr == "off" {
			return nil, nil
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		return ln, nil
	}
	hl, err := listen("--http", *httpAddr)
	if err != nil {
		return fail(stderr, "serve", err)
	}
	gl, err := listen("--grpc", *grpcAddr)
	if err != nil {
		if hl != nil {
			hl.Close()
		}
		return fail(stderr, "serve", err)
	}
	if hl == nil && gl == nil {
		return fail(stderr, "serve", errors.New("--http and --grpc are both off: nothing to serve on"))
	}
	s, err := serve.New(cfg)
	if err != nil {
		for _, l := range []net.Listener{hl, gl} {
			if l != nil {
				l.Close()
			}
		}
		return fail(stderr, "serve", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			log.Info("SIGHUP: reloading the models")
			s.Reload() // logs its failures; the old versions serve on
		}
	}()
	if err := s.Run(ctx, hl, gl); err != nil {
		return fail(stderr, "serve", err)
	}
	return exitOK
}
