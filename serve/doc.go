// Package serve serves aekit models over the Open Inference Protocol
// ("v2", shared by KServe, Triton, Seldon MLServer and OpenVINO Model
// Server), so that Triton's and KServe's clients work unchanged (the
// gRPC service of internal/oip):
//
//   - REST (Server.Handler): GET /v2/health/live, /v2/health/ready, /v2,
//     /v2/models/NAME[/versions/V], /v2/models/NAME[/versions/V]/ready
//     and POST /v2/models/NAME[/versions/V]/infer with JSON tensors
//     ("data", flat or nested) or Triton's binary tensor extension: a
//     JSON header of Inference-Header-Content-Length bytes followed by
//     the inputs' raw little-endian data (binary_data_size parameters);
//     outputs are answered as binary data when the output's binary_data
//     parameter or the request's binary_data_output parameter says so.
//     Readiness is in the status code (200, or 400 for not ready), with
//     a JSON body ({"ready": true}). Errors are {"error": "..."} with
//     status 400 (a bad request, naming the tensor), 404 (unknown model
//     or version), 429 (overloaded) or 503 (unavailable). Request bodies
//     may be gzip or deflate encoded. GET /metrics serves Prometheus
//     metrics.
//   - gRPC (Server.NewGRPCServer): inference.GRPCInferenceService's
//     ServerLive, ServerReady, ModelReady, ServerMetadata, ModelMetadata
//     and ModelInfer, inputs in raw_input_contents or fp32_contents,
//     outputs in raw_output_contents; errors INVALID_ARGUMENT, NOT_FOUND,
//     RESOURCE_EXHAUSTED, UNAVAILABLE.
//
// Triton's other extensions (model repository control, streaming,
// shared memory, statistics, trace, logging, model configuration,
// classification) are not served.
//
// Each model takes one FP32 input of shape [n, its input shape...] and
// answers its output, FP32 [n, its output shape...]; a model whose output
// has its input's width also answers, when asked, reconstruction_error
// (FP32 [n], package score's metric: the stored threshold's, else mse)
// and, when a threshold is stored with the model (score.Stored),
// is_anomaly (BOOL [n]). Tensor names are those aekit's ONNX writer
// gives the graph (the model's input name, its output name or last
// layer).
//
// # Dynamic batching
//
// Requests for one model are queued; a collector takes the first,
// adds requests while the batch has fewer than Config.MaxBatch rows, and
// hands the batch to one of Config.Workers workers once Config.MaxDelay
// has passed or the batch is full; while every worker is busy the batch
// keeps growing, so that under load batches grow with no delay set. A
// worker runs the batch in one Model.Predict call and splits the outputs
// back, so a request's outputs are those of Model.Predict on the batch it
// was part of (bit for bit those of aekit predict when the batch is the
// same). At most Config.MaxQueue rows wait per model and at most
// Config.MaxInflight requests are in progress: beyond them requests are
// refused at once (429 / RESOURCE_EXHAUSTED), as are REST requests whose
// bodies would take the bytes held past Config.MaxBodyBuffer: memory
// stays bounded whatever the load. gRPC calls are refused before their
// messages are read when MaxInflight requests are in progress; at most
// MaxInflight gRPC calls are open, each within ReadTimeout+WriteTimeout;
// a call reads its message only after taking MaxBodyBytes of
// MaxBodyBuffer (waiting for them: a slow sender holds its share, not
// more of the server's memory); a gRPC message over MaxBodyBytes gets
// RESOURCE_EXHAUSTED from the gRPC library (see Server.NewGRPCServer).
//
// # Lifecycle
//
// New loads the models; Run serves until its context is done, then
// readiness goes false, the listeners close (after Config.DrainDelay),
// requests in flight are answered and the models unloaded. Reload scans
// the repository again: a model that fails to load leaves the version
// already served serving.
//
// gRPC comes from google.golang.org/grpc (the protocol's reference
// implementation; the generated code of internal/oip needs it) and the
// metrics from github.com/prometheus/client_golang (the exposition format
// and process metrics a Prometheus scrape expects), each Server with a
// registry of its own.
package serve
