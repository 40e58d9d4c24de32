package serve

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/aekit/aekit/internal/oip"
	"github.com/aekit/aekit/modelfile"
	"github.com/aekit/aekit/train"
)

// benchModels are the models, as train.Build specs.
var benchModels = []struct{ name, spec string }{
	{"ae784", "32:relu|784:sigmoid"},
	{"deep", "128:relu,64:relu,32:relu|64:relu,128:relu,784:sigmoid"},
}

// BenchmarkServe measures single-row requests from 64 concurrent
// clients on loopback, in process: REST with binary tensors, REST JSON
// and gRPC, with dynamic batching (the defaults; one worker; a 200 µs
// delay), without (MaxBatch 1) and the transport alone (Echo). It reports requests/s and the mean
// batch. Run: go test ./serve -run '^$' -bench Serve -benchtime 2000x
func BenchmarkServe(b *testing.B) {
	for _, bm := range benchModels {
		m, err := train.Build(784, train.MustParseArch(bm.spec), "glorot_uniform", 1)
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), bm.name+".onnx")
		if err := modelfile.Save(path, m, nil); err != nil {
			b.Fatal(err)
		}
		for _, mode := range []struct {
			name string
			cfg  Config
		}{{"batching", Config{}}, {"1worker", Config{Workers: 1}}, {"delay200us", Config{MaxDelay: 200 * time.Microsecond}},
			{"nobatch", Config{MaxBatch: 1}}, {"echo", Config{Echo: true}}} {
			for _, proto := range []string{"binary", "json", "grpc"} {
				b.Run(bm.name+"/"+mode.name+"/"+proto, func(b *testing.B) {
					cfg := mode.cfg
					cfg.Models, cfg.Logger = []string{path}, quiet()
					benchServe(b, cfg, bm.name, proto)
				})
			}
		}
	}
}

func benchServe(b *testing.B, cfg Config, name, proto string) {
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	hl, _ := net.Listen("tcp", "127.0.0.1:0")
	gl, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, hl, gl) }()
	defer func() { cancel(); <-done }()
	mo, _ := s.lookup(name, "")
	x := make([]float32, mo.inW)
	for i := range x {
		x[i] = float32(i%255) / 255
	}
	url := "http://" + hl.Addr().String() + "/v2/models/" + name + "/infer"
	var body []byte
	var head string
	switch proto {
	case "binary":
		head = fmt.Sprintf(`{"inputs":[{"name":%q,"shape":[1,%d],"datatype":"FP32","parameters":{"binary_data_size":%d}}],"parameters":{"binary_data_output":true}}`, mo.in, mo.inW, 4*mo.inW)
		body = appendRaw([]byte(head), &outTensor{datatype: "FP32", f32: x})
	case "json":
		body = []byte(jsonBody(mo.in, x, 1, mo.inW))
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, DisableCompression: true}}
	conn, err := grpc.NewClient(gl.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	gc := oip.NewGRPCInferenceServiceClient(conn)
	greq := &oip.ModelInferRequest{ModelName: name, Inputs: []*oip.ModelInferRequest_InferInputTensor{{Name: mo.in, Datatype: "FP32", Shape: []int64{1, int64(mo.inW)}}},
		RawInputContents: [][]byte{appendRaw(nil, &outTensor{datatype: "FP32", f32: x})}}
	c0, s0 := batchStats(b, s)
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0))) // 64 clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var buf bytes.Buffer
		for pb.Next() {
			if proto == "grpc" {
				if _, err := gc.ModelInfer(context.Background(), greq); err != nil {
					b.Error(err)
					return
				}
				continue
			}
			req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
			if head != "" {
				req.Header.Set(HeaderLength, strconv.Itoa(len(head)))
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			buf.Reset()
			buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("%d %s", resp.StatusCode, buf.Bytes())
				return
			}
		}
	})
	b.StopTimer()
	c1, s1 := batchStats(b, s)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	if c1 > c0 {
		b.ReportMetric((s1-s0)/float64(c1-c0), "rows/batch")
	}
}
