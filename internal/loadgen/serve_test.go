package loadgen

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/serve"
	"github.com/aekit/aekit/train"
)

// TestLoadAekitServe is the bounded load test of aekit serve: 256
// concurrent clients over REST JSON, REST binary tensors and gRPC against
// an in-process server with dynamic batching, every answer decoded and
// compared with the model's own forward pass of the row that request
// carried (1e-6 relative: a batch runs other kernels than one row), so a
// batcher that mixed up rows, dropped or failed a request fails it. It
// also reads the server's mean batch from /metrics and requires batching
// to have merged requests (2 ms max delay, 256 clients waiting).
func TestLoadAekitServe(t *testing.T) {
	m, err := train.Build(784, train.MustParseArch("128:relu,32:relu|128:relu,784:sigmoid"), "", 11)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ae.onnx")
	if err := onnx.WriteFile(path, m, nil); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(serve.Config{Models: []string{path}, MaxDelay: 2 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, hl, gl) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server shutdown: %v", err)
		}
	})
	base := "http://" + hl.Addr().String()

	const seed = 9
	rows := InputRows(seed, 784)
	want := make([][]float32, len(rows))
	for i, r := range rows {
		if want[i], err = m.Predict(nil, r); err != nil {
			t.Fatal(err)
		}
	}
	verify := func(row int, out []float32) error {
		for j, v := range out {
			w := want[row][j]
			if math.Abs(float64(v-w)) > 1e-6*math.Max(1, math.Abs(float64(w))) {
				return fmt.Errorf("value %d = %v, the forward pass %v", j, v, w)
			}
		}
		return nil
	}
	info, err := Discover(ctx, http.DefaultClient, base, "ae")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Protocol{JSON, Binary, GRPC} {
		const n = 1500
		res, err := Run(ctx, Config{
			BaseURL: base, GRPCAddr: gl.Addr().String(), Model: "ae", Input: info.Input, Width: info.Width,
			Protocol: p, Clients: 256, Requests: n, MaxDuration: 2 * time.Minute, Seed: seed, Verify: verify,
			MetricsURL: base + "/metrics", BatchMetric: "aekit_batch_rows",
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.OK != n || res.Errors != 0 || res.Cut {
			t.Errorf("%s: %d of %d answered correctly, %d errors (statuses %v; first: %s)", p, res.OK, n, res.Errors, res.Statuses, res.FirstError)
		}
		if !(res.MeanBatch > 1) {
			t.Errorf("%s: mean batch %v with 256 clients and a 2 ms delay: requests were not merged", p, res.MeanBatch)
		}
		t.Logf("%s: %.0f req/s, p99 %v, mean batch %.1f (not a benchmark: see bench/serve.sh)", p, res.Throughput, res.P99, res.MeanBatch)
	}
}
