// Package loadgen drives Open Inference Protocol (KServe v2 / Triton) servers
// with concurrent single-row infer requests and measures them: throughput,
// latency percentiles, errors and, from the server's Prometheus /metrics, the
// mean batch size the server formed.
//
// It speaks the protocol's REST form with JSON tensors and with Triton's
// binary-tensor extension (the Inference-Header-Content-Length header). Every
// request carries one row of the model's input (shape [1, width], FP32); the
// request bodies are encoded once before the run so the measured time is the
// server's and the transport's, not the client's encoder.
//
// Echo is a minimal OIP REST server that decodes each request and answers
// with an output tensor of the same size without running any model: run
// against it, the same clients measure the transport limit, the throughput
// a server could reach if its model took no time.
//
// Runs are bounded: a fixed request count and a deadline (Config.MaxDuration).
// The package is meant for loopback benchmarks (bench/serve.sh); it is not a
// general-purpose HTTP load tool.
package loadgen
