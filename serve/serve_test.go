package serve

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/aekit/aekit/internal/oip"
	"github.com/aekit/aekit/modelfile"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/score"
)

const (
	aeFile  = "../fixtures/keras/gen/k3_autoencoder.keras" // 16 → 16, input input_layer_2, output decoder
	aeInput = "../fixtures/keras/gen/k3_autoencoder.keras.input.npy"
	aeName  = "k3_autoencoder"
	aeIn    = "input_layer_2"
	aeOut   = "decoder"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Models == nil && cfg.Repository == "" {
		cfg.Models = []string{aeFile}
	}
	cfg.Logger = quiet()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts
}

// reference returns the fixture's rows and the model's outputs and mse
// scores on the whole batch.
func reference(t *testing.T) (x []float32, n int, y, sc []float32) {
	t.Helper()
	a, err := npy.ReadFile(aeInput)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := modelfile.Open(aeFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	n = a.Shape[0]
	if y, err = m.Predict(nil, a.Data); err != nil {
		t.Fatal(err)
	}
	if sc, err = score.Rows(m, a.Data, n, score.MSE, 256); err != nil {
		t.Fatal(err)
	}
	return a.Data, n, y, sc
}

func jsonBody(name string, x []float32, n, w int, outputs ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"id":"r1","inputs":[{"name":%q,"shape":[%d,%d],"datatype":"FP32","data":[`, name, n, w)
	for i, v := range x {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(appendJSONFloat(nil, v))
	}
	b.WriteString("]}]")
	if len(outputs) > 0 {
		b.WriteString(`,"outputs":[`)
		for i, o := range outputs {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":%q}`, o)
		}
		b.WriteString("]")
	}
	b.WriteString("}")
	return b.String()
}

type jsonAnswer struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	ID           string `json:"id"`
	Outputs      []struct {
		Name       string          `json:"name"`
		Datatype   string          `json:"datatype"`
		Shape      []int64         `json:"shape"`
		Data       []float64       `json:"data"`
		Parameters map[string]int  `json:"parameters"`
		Raw        json.RawMessage `json:"-"`
	} `json:"outputs"`
	Error string `json:"error"`
}

func post(t *testing.T, url, body string, hdr map[string]string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func sameBits(t *testing.T, what string, got []float32, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v (bit for bit)", what, i, got[i], want[i])
		}
	}
}

func f32(v []float64) []float32 {
	r := make([]float32, len(v))
	for i, x := range v {
		r[i] = float32(x)
	}
	return r
}

// The whole batch in one request, JSON or binary, answers Model.Predict's
// outputs and score.Rows's scores on that batch, bit for bit.
func TestInferHTTP(t *testing.T) {
	x, n, y, sc := reference(t)
	_, ts := newServer(t, Config{MaxDelay: time.Millisecond})
	url := ts.URL + "/v2/models/" + aeName + "/infer"

	code, b, _ := post(t, url, jsonBody(aeIn, x, n, 16, aeOut, ScoreOutput), nil)
	var a jsonAnswer
	if err := json.Unmarshal(b, &a); err != nil || code != 200 {
		t.Fatalf("%d %s %v", code, b, err)
	}
	if a.ModelName != aeName || a.ModelVersion != "1" || a.ID != "r1" || len(a.Outputs) != 2 {
		t.Fatalf("answer %s", b)
	}
	if fmt.Sprint(a.Outputs[0].Shape) != fmt.Sprintf("[%d 16]", n) || a.Outputs[1].Datatype != "FP32" {
		t.Fatalf("answer %s", b)
	}
	sameBits(t, "JSON output", f32(a.Outputs[0].Data), y)
	sameBits(t, "JSON reconstruction_error", f32(a.Outputs[1].Data), sc)

	// Binary in, binary out (tritonclient's default).
	head := fmt.Sprintf(`{"inputs":[{"name":%q,"shape":[%d,16],"datatype":"FP32","parameters":{"binary_data_size":%d}}],"parameters":{"binary_data_output":true}}`, aeIn, n, 4*len(x))
	body := []byte(head)
	for _, v := range x {
		body = binary.LittleEndian.AppendUint32(body, math.Float32bits(v))
	}
	code, b, h := post(t, url, string(body), map[string]string{HeaderLength: fmt.Sprint(len(head))})
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	hl := 0
	fmt.Sscan(h.Get(HeaderLength), &hl)
	if hl <= 0 || hl > len(b) {
		t.Fatalf("%s %q", HeaderLength, h.Get(HeaderLength))
	}
	a = jsonAnswer{}
	if err := json.Unmarshal(b[:hl], &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Outputs) != 1 || a.Outputs[0].Name != aeOut || a.Outputs[0].Parameters["binary_data_size"] != 4*len(y) || len(b)-hl != 4*len(y) {
		t.Fatalf("binary answer header %s, %d bytes after it", b[:hl], len(b)-hl)
	}
	sameBits(t, "binary output", decodeFP32(make([]float32, len(y)), b[hl:]), y)
}

// Bad requests get 400 naming the tensor, unknown models 404, in the
// protocol's {"error": ...} body.
func TestHTTPErrors(t *testing.T) {
	x, _, _, _ := reference(t)
	_, ts := newServer(t, Config{MaxRows: 4, MaxBodyBytes: 4096})
	url := ts.URL + "/v2/models/" + aeName + "/infer"
	row := x[:16]
	for _, c := range []struct {
		name, url, body string
		hdr             map[string]string
		code            int
		want            string
	}{
		{"bad shape", url, jsonBody(aeIn, x[:15], 1, 15), nil, 400, `input \"input_layer_2\": shape [1 15], want [n, 16]`},
		{"too few values", url, strings.Replace(jsonBody(aeIn, row, 1, 16), "[1,16]", "[2,16]", 1), nil, 400, `input \"input_layer_2\": 16 values, the shape takes 32`},
		{"too many rows", url, jsonBody(aeIn, x[:80], 5, 16), nil, 400, `input \"input_layer_2\": shape [5 16]: 5 rows, want 1 to 4`},
		{"unknown input", url, jsonBody("x", row, 1, 16), nil, 400, `unknown input \"x\"`},
		{"datatype", url, strings.Replace(jsonBody(aeIn, row, 1, 16), "FP32", "INT32", 1), nil, 400, `datatype \"INT32\"`},
		{"unknown output", url, jsonBody(aeIn, row, 1, 16, "nope"), nil, 400, `unknown output \"nope\"`},
		{"no threshold", url, jsonBody(aeIn, row, 1, 16, AnomalyOutput), nil, 400, `unknown output \"is_anomaly\"`},
		{"not JSON", url, "{", nil, 400, "request JSON"},
		{"string data", url, strings.Replace(jsonBody(aeIn, row, 1, 16), `"data":[`, `"data":["a",`, 1), nil, 400, `input \"input_layer_2\": data: unexpected`},
		{"header length", url, jsonBody(aeIn, row, 1, 16), map[string]string{HeaderLength: "100000"}, 400, "larger than the body"},
		{"binary size", url, `{"inputs":[{"name":"input_layer_2","shape":[1,16],"datatype":"FP32","parameters":{"binary_data_size":64}}]}` + "abcd",
			map[string]string{HeaderLength: "107"}, 400, "binary_data_size 64, but 4 bytes"},
		{"body limit", url, jsonBody(aeIn, x[:64], 4, 16) + strings.Repeat(" ", 4096), nil, 400, "larger than the limit"},
		{"unknown model", ts.URL + "/v2/models/nope/infer", jsonBody(aeIn, row, 1, 16), nil, 404, `unknown model \"nope\"`},
		{"unknown version", ts.URL + "/v2/models/" + aeName + "/versions/2/infer", jsonBody(aeIn, row, 1, 16), nil, 404, `has no version \"2\"`},
	} {
		code, b, _ := post(t, c.url, c.body, c.hdr)
		if code != c.code || !strings.Contains(string(b), c.want) || !strings.HasPrefix(string(b), `{"error":`) {
			t.Errorf("%s: %d %s, want %d and %s", c.name, code, b, c.code, c.want)
		}
	}
	// The version served answers.
	if code, b, _ := post(t, ts.URL+"/v2/models/"+aeName+"/versions/1/infer", jsonBody(aeIn, row, 1, 16), nil); code != 200 {
		t.Errorf("version 1: %d %s", code, b)
	}
}

func TestHealthAndMetadata(t *testing.T) {
	s, ts := newServer(t, Config{})
	get := func(p string) (int, string) {
		resp, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for p, want := range map[string]int{"/v2/health/live": 200, "/v2/health/ready": 200, "/v2/models/" + aeName + "/ready": 200,
		"/v2/models/" + aeName + "/versions/1/ready": 200, "/v2/models/nope/ready": 404, "/v2/models/nope": 404} {
		if c, b := get(p); c != want {
			t.Errorf("GET %s: %d %s, want %d", p, c, b, want)
		}
	}
	if c, b := get("/v2"); c != 200 || !strings.Contains(b, `"name":"aekit"`) || !strings.Contains(b, "binary_tensor_data") {
		t.Errorf("GET /v2: %d %s", c, b)
	}
	if c, b := get("/v2/health/ready"); c != 200 || b != `{"ready":true}` {
		t.Errorf("ready: %d %s", c, b)
	}
	s.SetReady(false)
	if c, b := get("/v2/health/ready"); c != 400 || b != `{"ready":false}` {
		t.Errorf("not ready: %d %s", c, b)
	}
	if c, b := get("/v2/models/" + aeName + "/ready"); c != 400 || b != `{"name":"k3_autoencoder","ready":false}` {
		t.Errorf("model not ready: %d %s", c, b)
	}
	if c, b := get("/v2/health/live"); c != 200 || b != `{"live":true}` {
		t.Errorf("live: %d %s", c, b)
	}
	x, _, _, _ := reference(t)
	post(t, ts.URL+"/v2/models/"+aeName+"/infer", jsonBody(aeIn, x[:16], 1, 16), nil)
	post(t, ts.URL+"/v2/models/"+aeName+"/infer", jsonBody(aeIn, x[:15], 1, 15), nil)
	c, b := get("/metrics")
	for _, want := range []string{
		`aekit_inference_requests_total{code="200",model="k3_autoencoder",protocol="http"} 1`,
		`aekit_inference_requests_total{code="400",model="k3_autoencoder",protocol="http"} 1`,
		`aekit_inference_request_duration_seconds_count{model="k3_autoencoder",protocol="http"} 2`,
		`aekit_batch_rows_sum{model="k3_autoencoder"} 1`,
		`aekit_queue_rows{model="k3_autoencoder"} 0`,
		`aekit_model_loads_total{model="k3_autoencoder",result="ok"} 1`,
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if c != 200 || !strings.Contains(b, want) {
			t.Errorf("/metrics: %d, no %s", c, want)
		}
	}
}

func grpcClient(t *testing.T, s *Server) oip.GRPCInferenceServiceClient {
	t.Helper()
	c, _ := grpcServe(t, s)
	return c
}

// grpcServe serves s's gRPC server on a loopback port and returns a
// client of it and its address.
func grpcServe(t *testing.T, s *Server) (oip.GRPCInferenceServiceClient, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := s.NewGRPCServer()
	go g.Serve(ln)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); g.Stop() })
	return oip.NewGRPCInferenceServiceClient(conn), ln.Addr().String()
}

func TestGRPC(t *testing.T) {
	x, n, y, sc := reference(t)
	s, _ := newServer(t, Config{})
	c := grpcClient(t, s)
	ctx := context.Background()
	if r, err := c.ServerReady(ctx, &oip.ServerReadyRequest{}); err != nil || !r.Ready {
		t.Fatal(r, err)
	}
	md, err := c.ModelMetadata(ctx, &oip.ModelMetadataRequest{Name: aeName})
	if err != nil || md.Inputs[0].Name != aeIn || fmt.Sprint(md.Inputs[0].Shape) != "[-1 16]" || md.Outputs[0].Name != aeOut {
		t.Fatal(md, err)
	}
	raw := make([]byte, 0, 4*len(x))
	for _, v := range x {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	in := []*oip.ModelInferRequest_InferInputTensor{{Name: aeIn, Datatype: "FP32", Shape: []int64{int64(n), 16}}}
	r, err := c.ModelInfer(ctx, &oip.ModelInferRequest{ModelName: aeName, Id: "g", Inputs: in, RawInputContents: [][]byte{raw},
		Outputs: []*oip.ModelInferRequest_InferRequestedOutputTensor{{Name: aeOut}, {Name: ScoreOutput}}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Id != "g" || len(r.Outputs) != 2 || len(r.RawOutputContents) != 2 || fmt.Sprint(r.Outputs[0].Shape) != fmt.Sprintf("[%d 16]", n) {
		t.Fatalf("answer %v", r)
	}
	sameBits(t, "gRPC output", decodeFP32(make([]float32, len(y)), r.RawOutputContents[0]), y)
	sameBits(t, "gRPC reconstruction_error", decodeFP32(make([]float32, n), r.RawOutputContents[1]), sc)

	// fp32_contents instead of raw bytes.
	in[0].Contents = &oip.InferTensorContents{Fp32Contents: x}
	r, err = c.ModelInfer(ctx, &oip.ModelInferRequest{ModelName: aeName, Inputs: in})
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "gRPC fp32_contents output", decodeFP32(make([]float32, len(y)), r.RawOutputContents[0]), y)

	for _, e := range []struct {
		req  *oip.ModelInferRequest
		code codes.Code
		want string
	}{
		{&oip.ModelInferRequest{ModelName: "nope", Inputs: in}, codes.NotFound, `unknown model "nope"`},
		{&oip.ModelInferRequest{ModelName: aeName, Inputs: []*oip.ModelInferRequest_InferInputTensor{{Name: aeIn, Datatype: "FP32", Shape: []int64{1, 15}}},
			RawInputContents: [][]byte{raw[:60]}}, codes.InvalidArgument, `input "input_layer_2": shape [1 15]`},
		{&oip.ModelInferRequest{ModelName: aeName, Inputs: []*oip.ModelInferRequest_InferInputTensor{{Name: aeIn, Datatype: "FP32", Shape: []int64{2, 16}}},
			RawInputContents: [][]byte{raw[:64]}}, codes.InvalidArgument, `input "input_layer_2": 64 bytes of data, shape [2 16] takes 128`},
	} {
		_, err := c.ModelInfer(ctx, e.req)
		if st, _ := status.FromError(err); st.Code() != e.code || !strings.Contains(st.Message(), e.want) {
			t.Errorf("got %v, want %v %s", err, e.code, e.want)
		}
	}
}

// Concurrent single-row requests are merged into batches, and each gets
// its own row's outputs.
func TestDynamicBatching(t *testing.T) {
	x, n, y, _ := reference(t)
	s, ts := newServer(t, Config{MaxBatch: 64, MaxDelay: 300 * time.Millisecond, Workers: 1})
	url := ts.URL + "/v2/models/" + aeName + "/infer"
	const clients = 20
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Go(func() {
			i := c % n
			req, _ := http.NewRequest("POST", url, strings.NewReader(jsonBody(aeIn, x[i*16:(i+1)*16], 1, 16)))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var a jsonAnswer
			if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 {
				errs <- fmt.Errorf("%d %v %s", resp.StatusCode, err, a.Error)
				return
			}
			got := f32(a.Outputs[0].Data)
			for k, v := range got {
				w := y[i*16+k]
				if math.Abs(float64(v-w)) > 1e-6*math.Max(1, math.Abs(float64(w))) {
					errs <- fmt.Errorf("row %d[%d] = %v, want %v", i, k, v, w)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	count, sum := batchStats(t, s)
	if sum != clients || count >= clients {
		t.Errorf("%g rows in %d batches: no batching", sum, count)
	}
	t.Logf("%g rows in %d batches", sum, count)
}

func batchStats(t testing.TB, s *Server) (count uint64, sum float64) {
	mfs, err := s.met.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "aekit_batch_rows" {
			for _, m := range mf.GetMetric() {
				count += m.GetHistogram().GetSampleCount()
				sum += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return count, sum
}

// Rows beyond MaxQueue are refused with 429 at once; the ones queued are
// answered.
func TestOverload(t *testing.T) {
	x, _, _, _ := reference(t)
	s, ts := newServer(t, Config{MaxQueue: 2, MaxDelay: time.Second, MaxBatch: 64})
	url := ts.URL + "/v2/models/" + aeName + "/infer"
	body := jsonBody(aeIn, x[:16], 1, 16)
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for range 2 {
		wg.Go(func() {
			c, _, _ := post(t, url, body, nil)
			codes <- c
		})
	}
	mo, _ := s.lookup(aeName, "")
	for mo.b.queued.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	c, b, _ := post(t, url, body, nil)
	if c != http.StatusTooManyRequests || !strings.Contains(string(b), "overloaded") {
		t.Errorf("third request: %d %s, want 429", c, b)
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("queued request: %d", c)
		}
	}
}

// Reload: a new version replaces the old; a version that fails to load
// leaves the old one serving.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	put := func(ver, src string) {
		d := filepath.Join(dir, "ae", ver)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(src)
		if err != nil {
			b = []byte(src) // not a file: the content itself
		}
		if err := os.WriteFile(filepath.Join(d, "model.keras"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("1", aeFile)
	s, ts := newServer(t, Config{Repository: dir})
	x, _, _, _ := reference(t)
	infer := func(ver string) (int, string) {
		c, b, _ := post(t, ts.URL+"/v2/models/ae/versions/"+ver+"/infer", jsonBody(aeIn, x[:16], 1, 16), nil)
		return c, string(b)
	}
	if c, b := infer("1"); c != 200 {
		t.Fatalf("version 1: %d %s", c, b)
	}
	put("2", "not a model")
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), filepath.Join("ae", "2", "model.keras")) {
		t.Errorf("Reload with a broken version 2: %v", err)
	}
	if c, b := infer("1"); c != 200 {
		t.Errorf("version 1 after the failed reload: %d %s", c, b)
	}
	put("3", aeFile)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if c, b := infer("3"); c != 200 {
		t.Errorf("version 3: %d %s", c, b)
	}
	if c, _ := infer("1"); c != 404 {
		t.Errorf("version 1 after version 3 loaded: %d, want 404", c)
	}
}

// Run: once its context is done, every request it accepted is answered
// and it returns nil.
func TestRunShutdown(t *testing.T) {
	x, _, _, _ := reference(t)
	s, err := New(Config{Models: []string{aeFile}, Logger: quiet(), MaxDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hl, _ := net.Listen("tcp", "127.0.0.1:0")
	gl, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, hl, gl) }()
	url := "http://" + hl.Addr().String() + "/v2/models/" + aeName + "/infer"
	body := jsonBody(aeIn, x[:16], 1, 16)
	var mu sync.Mutex
	ok, other := 0, 0
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 16 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(url, "application/json", strings.NewReader(body))
				if err != nil {
					continue // not accepted: refused or closed before the request was read
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode == 200 {
					ok++
				} else {
					other++
				}
				mu.Unlock()
			}
		})
	}
	for s.accepted.Load() < 200 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if acc, ans := s.accepted.Load(), s.answered.Load(); int64(ok+other) != acc || acc != ans || other != 0 {
		t.Errorf("accepted %d, answered %d; the clients got %d OK and %d other answers", acc, ans, ok, other)
	}
	t.Logf("%d requests answered", ok)
}

// The JSON data decoder reads flat arrays and arrays nested as the
// shape, and refuses ragged or mixed nesting.
func TestParseNumbers(t *testing.T) {
	deep := make([]int64, 40)
	for i := range deep {
		deep[i] = 1
	}
	for _, c := range []struct {
		in    string
		shape []int64
		want  string // "" for an error
	}{
		{"[1,2,3]", []int64{3}, "[1 2 3]"},
		{"[1,2,3,4]", []int64{2, 2}, "[1 2 3 4]"},
		{" [[1, 2],\n[3e0,-4.5]] ", []int64{2, 2}, "[1 2 3 -4.5]"},
		{"[[[1],[2]],[[3],[4]]]", []int64{2, 2, 1}, "[1 2 3 4]"},
		{"[]", []int64{0}, "[]"},
		{"[[]]", []int64{1, 0}, "[]"},
		{"[[1,2,3],[4]]", []int64{2, 2}, ""},     // ragged, right count
		{"[[1],[2,3,4]]", []int64{2, 2}, ""},     // ragged the other way
		{"[[1,2],3,4]", []int64{2, 2}, ""},       // mixed depth
		{"[1,2,[3,4]]", []int64{2, 2}, ""},       // mixed, flat first
		{"[[[1,2]],[[3,4]]]", []int64{2, 2}, ""}, // deeper than the shape
		{"[[1,2,3,4]]", []int64{2, 2}, ""},       // too few rows
		{"[[1],[2],[3],[4]]", []int64{2, 2}, ""}, // transposed
		{"[[1,2]]", []int64{2}, ""},              // nested rank-1 data
		{"[1,2]", []int64{3}, ""},
		{"[1,2,3,4]", []int64{3}, ""},
		{"[1,,2]", []int64{2}, ""},
		{"[1 2]", []int64{2}, ""},
		{"[1,2,]", []int64{2}, ""},
		{"[1,2]]", []int64{2}, ""},
		{"[[1,2]", []int64{1, 2}, ""},
		{"[1,NaN]", []int64{2}, ""},
		{"[true]", []int64{1}, ""},
		{`["1"]`, []int64{1}, ""},
		{"1", []int64{1}, ""},
		{"[0x10]", []int64{1}, ""},
		{strings.Repeat("[", 40) + "1" + strings.Repeat("]", 40), deep, ""},
	} {
		n := int64(1)
		for _, d := range c.shape {
			n *= d
		}
		dst := make([]float32, n)
		err := parseNumbers(dst, []byte(c.in), c.shape)
		got := ""
		if err == nil {
			got = fmt.Sprint(dst)
		}
		if got != c.want {
			t.Errorf("parseNumbers(%q, %v) = %q, %v; want %q", c.in, c.shape, got, err, c.want)
		}
	}
}

func TestScan(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a/1/model.onnx", "a/3/model.keras", "a/10/model.h5", "a/x/model.onnx", "b/2/model.onnx"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), nil, 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "c"), 0o755) // no version: not served
	srcs, err := scan(dir, []string{"/m/other.model.keras"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 3 {
		t.Fatalf("scan: %v", srcs)
	}
	got := fmt.Sprintln(srcs[0].name, srcs[0].version, filepath.Base(srcs[0].path), srcs[1].name, srcs[1].version, srcs[2].name, srcs[2].version)
	if got != "a 10 model.h5 b 2 other.model 1\n" {
		t.Errorf("scan: %v", got)
	}
	if _, err := scan(dir, []string{"/x/a.onnx"}, ""); err == nil || !strings.Contains(err.Error(), `two models named "a"`) {
		t.Errorf("duplicate name: %v", err)
	}
	if srcs, err := scan("", []string{"/m/model.onnx"}, "ae"); err != nil || srcs[0].name != "ae" {
		t.Errorf("named model: %v %v", srcs, err)
	}
	if _, err := scan("", []string{"/m/a.onnx", "/m/b.onnx"}, "ae"); err == nil {
		t.Error("a name for two files: no error")
	}
	os.MkdirAll(filepath.Join(dir, "d", "1"), 0o755)
	if _, err := scan(dir, nil, ""); err == nil || !strings.Contains(err.Error(), "holds none of") {
		t.Errorf("empty version: %v", err)
	}
}

// Bodies compressed with gzip or deflate (zlib) are read, within the
// body limit after decompression; Echo answers the input without
// running the model.
func TestCompressedAndEcho(t *testing.T) {
	x, _, y, _ := reference(t)
	_, ts := newServer(t, Config{MaxBodyBytes: 1 << 14})
	url := ts.URL + "/v2/models/" + aeName + "/infer"
	body := jsonBody(aeIn, x[:16], 1, 16)
	for _, enc := range []string{"gzip", "deflate"} {
		var b bytes.Buffer
		var w io.WriteCloser = gzip.NewWriter(&b)
		if enc == "deflate" {
			w = zlib.NewWriter(&b)
		}
		w.Write([]byte(body))
		w.Close()
		code, out, _ := post(t, url, b.String(), map[string]string{"Content-Encoding": enc})
		var a jsonAnswer
		if err := json.Unmarshal(out, &a); err != nil || code != 200 {
			t.Fatalf("%s: %d %s", enc, code, out)
		}
		sameBits(t, enc+" output", f32(a.Outputs[0].Data), y[:16])
		// A bomb: small compressed, over the limit decompressed.
		b.Reset()
		w = gzip.NewWriter(&b)
		if enc == "deflate" {
			w = zlib.NewWriter(&b)
		}
		w.Write(make([]byte, 1<<15))
		w.Close()
		if code, out, _ := post(t, url, b.String(), map[string]string{"Content-Encoding": enc}); code != 400 || !strings.Contains(string(out), "larger than the limit") {
			t.Errorf("%s bomb: %d %s", enc, code, out)
		}
	}
	if code, out, _ := post(t, url, body, map[string]string{"Content-Encoding": "br"}); code != 400 || !strings.Contains(string(out), `Content-Encoding \"br\"`) {
		t.Errorf("br: %d %s", code, out)
	}

	s, ts := newServer(t, Config{Echo: true})
	code, out, _ := post(t, ts.URL+"/v2/models/"+aeName+"/infer", body, nil)
	var a jsonAnswer
	if err := json.Unmarshal(out, &a); err != nil || code != 200 {
		t.Fatalf("echo: %d %s", code, out)
	}
	sameBits(t, "echo output", f32(a.Outputs[0].Data), x[:16])
	if c, _ := batchStats(t, s); c != 0 {
		t.Errorf("echo ran %d batches", c)
	}
}

// With PollInterval, Run picks up a new version by itself.
func TestPoll(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(aeFile)
	if err != nil {
		t.Fatal(err)
	}
	put := func(ver string) {
		d := filepath.Join(dir, "ae", ver)
		os.MkdirAll(d, 0o755)
		if err := os.WriteFile(filepath.Join(d, "model.keras"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("1")
	s, err := New(Config{Repository: dir, Logger: quiet(), PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, nil, nil) }()
	put("2")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := s.lookup("ae", "2"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("version 2 not loaded by polling")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Bodies beyond MaxBodyBuffer bytes at once are refused with 429 before
// they are read.
func TestBodyBuffer(t *testing.T) {
	x, _, _, _ := reference(t)
	body := jsonBody(aeIn, x[:16], 1, 16)
	s, ts := newServer(t, Config{MaxBodyBytes: int64(len(body)), MaxBodyBuffer: int64(len(body))})
	url := ts.URL + "/v2/models/" + aeName + "/infer"
	if c, b, _ := post(t, url, body, nil); c != 200 {
		t.Fatalf("%d %s", c, b)
	}
	s.body.tryTake(1) // as if another body were being read
	if c, b, _ := post(t, url, body, nil); c != 429 || !strings.Contains(string(b), "bytes of request bodies in flight") {
		t.Errorf("over the buffer: %d %s", c, b)
	}
	s.body.give(1)
	if c, b, _ := post(t, url, body, nil); c != 200 || s.body.load() != 0 {
		t.Errorf("after: %d %s, %d bytes reserved", c, b, s.body.load())
	}
}

// Requests racing a reload that replaces their model are answered by the
// new version: none fails.
func TestReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(aeFile)
	if err != nil {
		t.Fatal(err)
	}
	put := func(ver string) {
		d := filepath.Join(dir, "ae", ver)
		os.MkdirAll(d, 0o755)
		if err := os.WriteFile(filepath.Join(d, "model.keras"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("1")
	s, ts := newServer(t, Config{Repository: dir, MaxDelay: 100 * time.Microsecond})
	x, _, _, _ := reference(t)
	body := jsonBody(aeIn, x[:16], 1, 16)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, _, _ := post(t, ts.URL+"/v2/models/ae/infer", body, nil)
				mu.Lock()
				codes[c]++
				mu.Unlock()
			}
		})
	}
	for v := 2; v <= 21; v++ {
		put(strconv.Itoa(v))
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if len(codes) != 1 || codes[200] == 0 {
		t.Errorf("answers by status across 20 reloads: %v", codes)
	}
	if _, err := s.lookup("ae", "21"); err != nil {
		t.Error(err)
	}
	t.Logf("answers by status across 20 reloads: %v", codes)
}

// A gRPC message over MaxBodyBytes is refused by the gRPC library with
// RESOURCE_EXHAUSTED before it is decoded.
func TestGRPCMessageLimit(t *testing.T) {
	s, _ := newServer(t, Config{MaxBodyBytes: 1024})
	c := grpcClient(t, s)
	in := []*oip.ModelInferRequest_InferInputTensor{{Name: aeIn, Datatype: "FP32", Shape: []int64{32, 16}}}
	_, err := c.ModelInfer(context.Background(), &oip.ModelInferRequest{ModelName: aeName, Inputs: in, RawInputContents: [][]byte{make([]byte, 2048)}})
	if st, _ := status.FromError(err); st.Code() != codes.ResourceExhausted {
		t.Errorf("oversized message: %v, want RESOURCE_EXHAUSTED", err)
	}
}

// With MaxInflight requests in progress, ModelInfer is refused with
// RESOURCE_EXHAUSTED before its message is read.
func TestGRPCInflight(t *testing.T) {
	x, _, _, _ := reference(t)
	s, _ := newServer(t, Config{MaxInflight: 1})
	c := grpcClient(t, s)
	req := &oip.ModelInferRequest{ModelName: aeName, Inputs: []*oip.ModelInferRequest_InferInputTensor{{Name: aeIn, Datatype: "FP32", Shape: []int64{1, 16},
		Contents: &oip.InferTensorContents{Fp32Contents: x[:16]}}}}
	if _, err := c.ModelInfer(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	s.sem <- struct{}{} // one request in flight
	_, err := c.ModelInfer(context.Background(), req)
	if st, _ := status.FromError(err); st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "1 requests in flight") {
		t.Errorf("full: %v, want RESOURCE_EXHAUSTED", err)
	}
	if _, err := c.ServerLive(context.Background(), &oip.ServerLiveRequest{}); err != nil {
		t.Errorf("ServerLive while full: %v", err)
	}
	<-s.sem
	if _, err := c.ModelInfer(context.Background(), req); err != nil {
		t.Error(err)
	}
}

// A message many flow-control windows long is read whole and answered.
func TestGRPCLargeMessage(t *testing.T) {
	const rows = 16384 // 1 MiB of FP32 at 16 values a row: 16 windows
	s, _ := newServer(t, Config{MaxRows: rows, MaxQueue: rows})
	c := grpcClient(t, s)
	x := make([]float32, rows*16)
	for i := range x {
		x[i] = float32(i%97) / 97
	}
	r, err := c.ModelInfer(context.Background(), &oip.ModelInferRequest{ModelName: aeName,
		Inputs:           []*oip.ModelInferRequest_InferInputTensor{{Name: aeIn, Datatype: "FP32", Shape: []int64{rows, 16}}},
		RawInputContents: [][]byte{appendRaw(nil, &outTensor{datatype: "FP32", f32: x})}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.RawOutputContents) != 1 || len(r.RawOutputContents[0]) != 4*len(x) {
		t.Errorf("answer: %d raw outputs, want 1 of %d bytes", len(r.RawOutputContents), 4*len(x))
	}
	// The share is given back after the answer is sent.
	for end := time.Now().Add(5 * time.Second); s.body.load() != 0 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	if s.body.load() != 0 {
		t.Errorf("%d bytes of the body buffer still held", s.body.load())
	}
}
