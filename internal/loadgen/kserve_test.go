package loadgen

import (
	"bytes"
	"context"
	"math"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/onnx"
	"github.com/aekit/aekit/train"
)

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// TestKServePeer starts the serve benchmark's peer (KServe's model server
// with tools/python/kserve/onnx_model.py) on an ONNX model aekit writes,
// drives it with the load generator over JSON and binary REST, and checks
// that it serves that model: no failed request, and an answer equal to
// aekit's forward pass (1e-5 absolute on sigmoid outputs).
func TestKServePeer(t *testing.T) {
	py := interop.KServePython(t)
	root, err := interop.Root()
	if err != nil {
		t.Fatal(err)
	}
	m, err := train.Build(784, train.MustParseArch("32:relu|784:sigmoid"), "", 7)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "ae.onnx")
	if err := onnx.WriteFile(model, m, nil); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 2)
	cmd := exec.Command(py, filepath.Join(root, "tools", "python", "kserve", "onnx_model.py"),
		"--model_name", "ae", "--model_path", model, "--bind", "127.0.0.1",
		"--http_port", strconv.Itoa(ports[0]), "--grpc_port", strconv.Itoa(ports[1]),
		"--enable_latency_logging", "false")
	cmd.Env = interop.Env()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	base := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	ctx := context.Background()
	client := &http.Client{Timeout: 10 * time.Second}
	if err := WaitReady(ctx, client, base, 60*time.Second); err != nil {
		t.Fatalf("%v\nserver log:\n%s", err, logs.String())
	}
	info, err := Discover(ctx, client, base, "ae")
	if err != nil || info.Width != 784 {
		t.Fatalf("metadata: %+v, %v", info, err)
	}
	for _, p := range []Protocol{JSON, Binary} {
		res, err := Run(ctx, Config{BaseURL: base, Model: "ae", Input: info.Input, Width: info.Width, Protocol: p, Clients: 16, Requests: 200, MaxDuration: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if res.OK != 200 || res.Errors != 0 {
			t.Errorf("%s: %d ok, %d errors (first: %s)", p, res.OK, res.Errors, res.FirstError)
		}
	}
	row := make([]float32, 784)
	for i := range row {
		row[i] = float32(i%17) / 16
	}
	want, err := m.Predict(nil, row)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Protocol{JSON, Binary} {
		body, headerLen := inferOnce(t, base+"/v2/models/ae/infer", p, info.Input, row)
		got := decodeValues(t, body, headerLen)
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", p, len(got), len(want))
		}
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-5 {
				t.Fatalf("%s: output %d = %v, aekit %v", p, i, got[i], want[i])
			}
		}
	}
	if strings.Contains(logs.String(), "Traceback") {
		t.Errorf("the peer logged a traceback:\n%s", logs.String())
	}
}
