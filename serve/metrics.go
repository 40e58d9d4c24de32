package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are a Server's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // model, protocol, code
	latency  *prometheus.HistogramVec // model, protocol
	batch    *prometheus.HistogramVec // model
	queue    *prometheus.GaugeVec     // model
	inflight prometheus.Gauge
	loads    *prometheus.CounterVec // model, result
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aekit_inference_requests_total",
			Help: "Inference requests answered, by model, protocol (http, grpc) and status (the HTTP status code).",
		}, []string{"model", "protocol", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aekit_inference_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, decoding and encoding included, by model and protocol.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 18), // 50 µs to 6.5 s
		}, []string{"model", "protocol"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aekit_batch_rows",
			Help:    "Rows in each batch the dynamic batcher ran, by model.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13), // 1 to 4096
		}, []string{"model"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "aekit_queue_rows",
			Help: "Rows waiting for a batch, by model.",
		}, []string{"model"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "aekit_inflight_requests",
			Help: "Inference requests being decoded, queued, run or answered.",
		}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aekit_model_loads_total",
			Help: "Model loads, by model and result (ok, error).",
		}, []string{"model", "result"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.batch, m.queue, m.inflight, m.loads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
