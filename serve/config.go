package serve

import (
	"log/slog"
	"time"
)

// Defaults of Config's zero fields.
const (
	// DefaultMaxBatch is the default largest batch, in rows, that the
	// dynamic batcher runs at once. Provisional: to be set from the load
	// measurements (BENCHMARKS.md).
	DefaultMaxBatch = 64
	// DefaultMaxDelay is the default longest time the first request of
	// a batch waits for others. Provisional, as DefaultMaxBatch. Zero
	// delay still batches: requests that arrive while every worker is
	// busy are merged.
	DefaultMaxDelay = 0
	// DefaultMaxQueue is the default largest number of rows waiting for
	// a worker, per model; beyond it requests are refused (HTTP 429,
	// gRPC RESOURCE_EXHAUSTED).
	DefaultMaxQueue = 4096
	// DefaultMaxRows is the default largest number of rows in one
	// request.
	DefaultMaxRows = 4096
	// DefaultMaxBodyBytes is the default largest request body (HTTP) or
	// message (gRPC), in bytes: 64 MiB.
	DefaultMaxBodyBytes = 64 << 20
	// DefaultMaxInflight is the default largest number of inference
	// requests being decoded, queued or run at once; beyond it requests
	// are refused before their bodies are read.
	DefaultMaxInflight = 1024
	// DefaultMaxBodyBuffer is the default bound on the request bodies
	// being read or held at once (REST), in bytes: 256 MiB.
	DefaultMaxBodyBuffer = 256 << 20
	// DefaultShutdownTimeout bounds how long Run waits for in-flight
	// requests after its context is done.
	DefaultShutdownTimeout = 30 * time.Second
)

// Config configures a Server. The zero value of every field but the
// models selects the default named beside it.
type Config struct {
	// Repository is a model repository laid out as Triton's:
	// DIR/NAME/VERSION/model.{onnx,keras,h5}, VERSION a positive
	// integer; the highest version of each model is served (Triton's
	// default policy). A sidecar threshold model.EXT.anomaly.json beside
	// the model file is read with it.
	Repository string
	// Models are model files served under their base names without the
	// extension, as version "1".
	Models []string
	// ModelName, when set, is the name the single file of Models is
	// served under (a KServe InferenceService's name, for example)
	// instead of its base name.
	ModelName string

	// MaxBatch is the largest batch in rows the dynamic batcher runs at
	// once (DefaultMaxBatch); 1 turns batching off.
	MaxBatch int
	// MaxDelay is how long the first request of a batch waits for more
	// rows before the batch runs (DefaultMaxDelay, 0).
	MaxDelay time.Duration
	// Workers is the number of batches of one model run at once, each on
	// one goroutine (default GOMAXPROCS).
	Workers int
	// MaxQueue is the largest number of rows waiting per model
	// (DefaultMaxQueue).
	MaxQueue int
	// MaxRows is the largest number of rows in one request
	// (DefaultMaxRows), at most MaxQueue.
	MaxRows int
	// MaxBodyBytes bounds a request body or gRPC message
	// (DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// MaxInflight bounds the inference requests in progress
	// (DefaultMaxInflight).
	MaxInflight int
	// MaxBodyBuffer bounds the bytes of request bodies and gRPC messages
	// being read or held at once. A REST body counts its Content-Length
	// (a body of unknown length counts MaxBodyBytes) and is refused with
	// 429 before it is read when they are not free; a gRPC call waits
	// for MaxBodyBytes of them before reading its message and keeps the
	// message's size until answered (DefaultMaxBodyBuffer). It is raised
	// to MaxBodyBytes if smaller.
	MaxBodyBuffer int64
	// ShutdownTimeout bounds the wait for in-flight requests when Run's
	// context is done (DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
	// DrainDelay is how long Run keeps serving, not ready, after its
	// context is done and before it stops accepting connections, so
	// that a load balancer polling readiness stops sending first
	// (default 0).
	DrainDelay time.Duration

	// PollInterval, when positive, makes Run reload the repository
	// (Reload) at this interval, as Triton's --repository-poll-secs.
	PollInterval time.Duration

	// Echo answers every inference request with output tensors of the
	// model's output shape, the input's values copied (or zeros), without
	// batching or running the model: it measures what the transport alone
	// costs (decoding and encoding tensors of the same sizes). For
	// benchmarks only.
	Echo bool

	// Logger receives the server's structured logs (default
	// slog.Default()).
	Logger *slog.Logger
}

func (c *Config) withDefaults() Config {
	d := *c
	if d.MaxBatch <= 0 {
		d.MaxBatch = DefaultMaxBatch
	}
	if d.MaxDelay < 0 {
		d.MaxDelay = 0
	}
	if d.MaxQueue <= 0 {
		d.MaxQueue = DefaultMaxQueue
	}
	if d.MaxRows <= 0 {
		d.MaxRows = DefaultMaxRows
	}
	// A request of more rows than a queue holds could never run: it is
	// refused as too large (400), not as overload (429, retried).
	d.MaxRows = min(d.MaxRows, d.MaxQueue)
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if d.MaxBodyBuffer <= 0 {
		d.MaxBodyBuffer = DefaultMaxBodyBuffer
	}
	d.MaxBodyBuffer = max(d.MaxBodyBuffer, d.MaxBodyBytes)
	if d.MaxInflight <= 0 {
		d.MaxInflight = DefaultMaxInflight
	}
	if d.ShutdownTimeout <= 0 {
		d.ShutdownTimeout = DefaultShutdownTimeout
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return d
}
