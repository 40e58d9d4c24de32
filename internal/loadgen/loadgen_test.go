package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const width = 784

func echoServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(Echo(EchoConfig{Model: "ae", Input: "in", Output: "out", Width: width}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRunAgainstEcho(t *testing.T) {
	srv := echoServer(t)
	for _, p := range []Protocol{JSON, Binary} {
		t.Run(string(p), func(t *testing.T) {
			res, err := Run(context.Background(), Config{
				BaseURL: srv.URL, Model: "ae", Input: "in", Width: width,
				Protocol: p, Clients: 4, Requests: 200,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Sent != 200 || res.OK != 200 || res.Errors != 0 || res.Cut {
				t.Fatalf("sent %d ok %d errors %d cut %v (first error %q), want 200 answered", res.Sent, res.OK, res.Errors, res.Cut, res.FirstError)
			}
			if res.Statuses["200"] != 200 {
				t.Errorf("statuses %v, want 200×200", res.Statuses)
			}
			if !(res.P50 > 0 && res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.Max) {
				t.Errorf("percentiles not ordered: p50 %v p90 %v p99 %v max %v", res.P50, res.P90, res.P99, res.Max)
			}
			if res.Throughput <= 0 || !math.IsNaN(res.MeanBatch) {
				t.Errorf("throughput %v mean batch %v, want > 0 and NaN (no metrics)", res.Throughput, res.MeanBatch)
			}
		})
	}
}

// TestEchoRoundTrip checks the transport-limit server returns the input's
// values, bit for bit, in both encodings, and what each encoding asks for.
func TestEchoRoundTrip(t *testing.T) {
	srv := echoServer(t)
	row := make([]float32, width)
	for i := range row {
		row[i] = float32(i)/7 - 3
	}
	row[5] = float32(math.Inf(-1))
	row[6] = math.SmallestNonzeroFloat32
	for _, p := range []Protocol{JSON, Binary} {
		if p == JSON {
			row[5] = 0 // JSON has no infinities
		}
		body, headerLen := inferOnce(t, srv.URL+"/v2/models/ae/versions/1/infer", p, "in", row)
		got := decodeValues(t, body, headerLen)
		if (p == Binary) != (headerLen != "") {
			t.Errorf("%s: response %s %q", p, HeaderLength, headerLen)
		}
		if len(got) != width {
			t.Fatalf("%s: %d values, want %d", p, len(got), width)
		}
		for i := range row {
			if math.Float32bits(got[i]) != math.Float32bits(row[i]) {
				t.Fatalf("%s: value %d = %v, want %v", p, i, got[i], row[i])
			}
		}
		if out, err := DecodeResponse(body, headerLen); err != nil || len(out) != width || out[7] != row[7] {
			t.Errorf("%s: DecodeResponse = %d values, %v; want the %d sent", p, len(out), err, width)
		}
	}
}

// inferOnce posts one row to an infer URL and returns the answer's body
// and Inference-Header-Content-Length, failing t unless it is HTTP 200.
func inferOnce(t *testing.T, url string, p Protocol, input string, row []float32) ([]byte, string) {
	t.Helper()
	body, hl, err := EncodeRequest(p, input, row)
	if err != nil {
		t.Fatal(err)
	}
	req, err := NewInferRequest(context.Background(), url, body, hl)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("%s: HTTP %d: %s", p, resp.StatusCode, buf.Bytes())
	}
	return buf.Bytes(), resp.Header.Get(HeaderLength)
}

// decodeValues reads the first output's values of a JSON or binary response.
func decodeValues(t *testing.T, body []byte, headerLen string) []float32 {
	t.Helper()
	head, rest := body, []byte(nil)
	if headerLen != "" {
		n, err := strconv.Atoi(headerLen)
		if err != nil {
			t.Fatal(err)
		}
		head, rest = body[:n], body[n:]
	}
	var resp InferResponse
	if err := json.Unmarshal(head, &resp); err != nil {
		t.Fatal(err)
	}
	if headerLen == "" {
		return resp.Outputs[0].Data
	}
	return DecodeFP32(rest)
}

func TestEchoRejectsBadRequests(t *testing.T) {
	srv := echoServer(t)
	good, hl, _ := EncodeRequest(Binary, "in", make([]float32, width))
	cases := []struct {
		name, path, headerLen string
		body                  []byte
		status                int
	}{
		{"unknown model", "/v2/models/nope/infer", "", []byte(`{}`), 404},
		{"not JSON", "/v2/models/ae/infer", "", []byte(`{`), 400},
		{"wrong input name", "/v2/models/ae/infer", "", []byte(`{"inputs":[{"name":"x","shape":[1,784],"datatype":"FP32","data":[]}]}`), 400},
		{"wrong width", "/v2/models/ae/infer", "", []byte(`{"inputs":[{"name":"in","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`), 400},
		{"too few values", "/v2/models/ae/infer", "", []byte(`{"inputs":[{"name":"in","shape":[1,784],"datatype":"FP32","data":[1]}]}`), 400},
		{"header past body", "/v2/models/ae/infer", strconv.Itoa(len(good) + 1), good, 400},
		{"binary cut short", "/v2/models/ae/infer", strconv.Itoa(hl), good[:len(good)-4], 400},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+c.path, bytes.NewReader(c.body))
		if c.headerLen != "" {
			req.Header.Set(HeaderLength, c.headerLen)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s: HTTP %d, want %d", c.name, resp.StatusCode, c.status)
		}
	}
}

// TestRunCountsErrors: failed statuses and wrong-size outputs are errors,
// not throughput.
func TestRunCountsErrors(t *testing.T) {
	echo := Echo(EchoConfig{Model: "ae", Input: "in", Output: "out", Width: width})
	var n atomic.Int64
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && n.Add(1)%4 == 0 {
			http.Error(w, "overloaded", http.StatusTooManyRequests)
			return
		}
		echo.ServeHTTP(w, r)
	}))
	defer flaky.Close()
	res, err := Run(context.Background(), Config{BaseURL: flaky.URL, Model: "ae", Input: "in", Width: width, Protocol: JSON, Clients: 2, Requests: 100, Warmup: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 100 || res.Errors == 0 || res.OK+res.Errors != 100 || res.Statuses["429"] != res.Errors {
		t.Fatalf("sent %d ok %d errors %d statuses %v, want 100 sent with the 429s counted as errors", res.Sent, res.OK, res.Errors, res.Statuses)
	}
	if !strings.Contains(res.FirstError, "HTTP 429") {
		t.Errorf("first error %q does not name HTTP 429", res.FirstError)
	}

	short := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(InferResponse{ModelName: "ae", Outputs: []Tensor{{Name: "out", Shape: []int64{1, 3}, Datatype: "FP32", Data: []float32{1, 2, 3}}}})
	}))
	defer short.Close()
	res, err = Run(context.Background(), Config{BaseURL: short.URL, Model: "ae", Input: "in", Width: width, Protocol: JSON, Clients: 1, Requests: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 0 || res.Errors != 10 || !strings.Contains(res.FirstError, "3 output values, want 784") {
		t.Fatalf("ok %d errors %d first %q, want every wrong-size answer an error", res.OK, res.Errors, res.FirstError)
	}
}

// TestRunVerify: Verify sees each checked answer with its request's row,
// so a server that answers one request with another's row is caught.
func TestRunVerify(t *testing.T) {
	rows := InputRows(3, width)
	verify := func(row int, out []float32) error {
		for j, v := range out {
			if v != rows[row][j] {
				return fmt.Errorf("value %d = %v, sent %v", j, v, rows[row][j])
			}
		}
		return nil
	}
	srv := echoServer(t)
	for _, p := range []Protocol{JSON, Binary} {
		res, err := Run(context.Background(), Config{BaseURL: srv.URL, Model: "ae", Input: "in", Width: width, Protocol: p, Clients: 8, Requests: 300, Seed: 3, Verify: verify})
		if err != nil {
			t.Fatal(err)
		}
		if res.OK != 300 {
			t.Errorf("%s: %d ok, %d errors (%s): the echo answers each request with its own row", p, res.OK, res.Errors, res.FirstError)
		}
	}
	// A server that answers with a fixed row: right size, wrong values.
	fixed, _, _ := EncodeRequest(JSON, "in", rows[5])
	echo := Echo(EchoConfig{Model: "ae", Input: "in", Output: "out", Width: width})
	wrong := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			r.Body = io.NopCloser(bytes.NewReader(fixed))
			r.Header.Del(HeaderLength)
		}
		echo.ServeHTTP(w, r)
	}))
	defer wrong.Close()
	res, err := Run(context.Background(), Config{BaseURL: wrong.URL, Model: "ae", Input: "in", Width: width, Protocol: JSON, Clients: 2, Requests: 32, Seed: 3, Verify: verify})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 2 || res.Errors != 30 || !strings.Contains(res.FirstError, "row ") {
		t.Errorf("%d ok, %d errors (%s); want only the 2 requests carrying row 5 to pass", res.OK, res.Errors, res.FirstError)
	}
}

func TestRunStopsAtMaxDuration(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		Echo(EchoConfig{Model: "ae", Input: "in", Output: "out", Width: width}).ServeHTTP(w, r)
	}))
	defer slow.Close()
	start := time.Now()
	res, err := Run(context.Background(), Config{BaseURL: slow.URL, Model: "ae", Input: "in", Width: width, Protocol: Binary, Clients: 2, Requests: 100000, Warmup: 1, MaxDuration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Cut || res.Sent >= 100000 || res.Sent == 0 || time.Since(start) > 10*time.Second {
		t.Fatalf("cut %v sent %d after %v, want a run cut short by MaxDuration", res.Cut, res.Sent, time.Since(start))
	}
	if res.Errors != 0 {
		t.Errorf("%d errors (%s): requests cut by the deadline must not count as server errors", res.Errors, res.FirstError)
	}
}

func TestRunMeanBatchFromMetrics(t *testing.T) {
	echo := Echo(EchoConfig{Model: "ae", Input: "in", Output: "out", Width: width})
	var infers atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		n := infers.Load()
		// Two label sets: batches of 4 for half the requests, 1 for the rest.
		fmt.Fprintf(w, "# HELP aekit_batch_size batch sizes\n# TYPE aekit_batch_size histogram\n")
		fmt.Fprintf(w, "aekit_batch_size_bucket{model=\"a\",le=\"+Inf\"} %d\n", n)
		fmt.Fprintf(w, "aekit_batch_size_sum{model=\"a\"} %d\naekit_batch_size_count{model=\"a\"} %d\n", 4*n, n)
		fmt.Fprintf(w, "aekit_batch_size_sum{model=\"b}\"} %d\naekit_batch_size_count{model=\"b}\"} %d\n", n, n)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			infers.Add(1)
		}
		echo.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, err := Run(context.Background(), Config{BaseURL: srv.URL, Model: "ae", Input: "in", Width: width, Protocol: Binary, Clients: 3, Requests: 50,
		MetricsURL: srv.URL + "/metrics", BatchMetric: "aekit_batch_size"})
	if err != nil {
		t.Fatal(err)
	}
	if res.MeanBatch != 2.5 {
		t.Fatalf("mean batch %v, want 2.5 (sums 4n+n over counts 2n)", res.MeanBatch)
	}
	_, err = Run(context.Background(), Config{BaseURL: srv.URL, Model: "ae", Input: "in", Width: width, Protocol: Binary, Clients: 1, Requests: 1,
		MetricsURL: srv.URL + "/metrics", BatchMetric: "nope"})
	if err == nil || !strings.Contains(err.Error(), `no histogram "nope"`) {
		t.Errorf("missing histogram: err %v, want one naming it", err)
	}
}

func TestParseHistogram(t *testing.T) {
	text := `# TYPE x histogram
x_bucket{le="1"} 3
x_sum{a="q\"}"} 1.5 1700000000
x_count{a="q\"}"} 3
x_sum 2
x_count 1
xy_sum 100
`
	h, found, err := ParseHistogram(strings.NewReader(text), "x")
	if err != nil || !found || h.Sum != 3.5 || h.Count != 4 {
		t.Fatalf("got %+v found %v err %v, want sum 3.5 count 4", h, found, err)
	}
	if _, found, _ := ParseHistogram(strings.NewReader(text), "y"); found {
		t.Error("found histogram y in a page without it")
	}
	if _, _, err := ParseHistogram(strings.NewReader("x_sum{} abc\n"), "x"); err == nil {
		t.Error("a non-number sample was accepted")
	}
	if m := (Histogram{}).Mean(); !math.IsNaN(m) {
		t.Errorf("mean of an empty histogram = %v, want NaN", m)
	}
}

func TestDecodeResponseRejects(t *testing.T) {
	head := `{"model_name":"ae","outputs":[{"name":"o","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}`
	good := append([]byte(head), make([]byte, 8)...)
	hl := strconv.Itoa(len(head))
	if out, err := DecodeResponse(good, hl); err != nil || len(out) != 2 {
		t.Fatalf("good response: %v, %v", out, err)
	}
	cases := map[string]struct {
		body []byte
		hl   string
	}{
		"header length past body": {good, strconv.Itoa(len(good) + 1)},
		"negative header length":  {good, "-1"},
		"binary cut short":        {good[:len(good)-1], hl},
		"trailing bytes":          {append(good, 0), hl},
		"no outputs":              {[]byte(`{"outputs":[]}`), ""},
		"shape and data disagree": {[]byte(`{"outputs":[{"name":"o","shape":[1,3],"datatype":"FP32","data":[1,2]}]}`), ""},
		"not JSON":                {[]byte(`<html>`), ""},
	}
	for name, c := range cases {
		if _, err := DecodeResponse(c.body, c.hl); !errors.Is(err, ErrBadResponse) {
			t.Errorf("%s: err %v, want ErrBadResponse", name, err)
		}
	}
}

func TestConfigChecked(t *testing.T) {
	base := Config{BaseURL: "http://127.0.0.1:1", Model: "m", Input: "i", Width: 4, Protocol: JSON, Clients: 1, Requests: 1}
	for name, mod := range map[string]func(*Config){
		"no model":         func(c *Config) { c.Model = "" },
		"zero width":       func(c *Config) { c.Width = 0 },
		"too many clients": func(c *Config) { c.Clients = 5000 },
		"zero requests":    func(c *Config) { c.Requests = 0 },
		"unknown protocol": func(c *Config) { c.Protocol = "udp" },
	} {
		c := base
		mod(&c)
		if _, err := Run(context.Background(), c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err %v, want ErrConfig", name, err)
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 100}, {99, 198}, {100, 200}, {0, 1}} {
		if got := Percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

func TestDiscover(t *testing.T) {
	srv := echoServer(t)
	if err := WaitReady(context.Background(), http.DefaultClient, srv.URL, time.Second); err != nil {
		t.Fatal(err)
	}
	info, err := Discover(context.Background(), http.DefaultClient, srv.URL, "ae")
	if err != nil || info != (ModelInfo{Input: "in", Width: width}) {
		t.Fatalf("Discover = %+v, %v; want in/784", info, err)
	}
	if _, err := Discover(context.Background(), http.DefaultClient, srv.URL, "nope"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown model: err %v, want HTTP 404", err)
	}
}

func TestSummarize(t *testing.T) {
	mb := 7.5
	lines := []Line{
		{Target: "transport", Model: "ae32", Protocol: Binary, Clients: 64, OK: 10, Throughput: 10000},
		{Target: "aekit", Model: "ae32", Protocol: Binary, Clients: 64, OK: 10, Throughput: 8000, P99ms: 4, MeanBatch: &mb},
		{Target: "aekit-nobatch", Model: "ae32", Protocol: Binary, Clients: 64, OK: 10, Throughput: 4000, P99ms: 9},
		{Target: "kserve", Model: "ae32", Protocol: Binary, Clients: 64, OK: 10, Throughput: 1000, P99ms: 70, Errors: 2, FirstError: "boom"},
		{Target: "kserve-w2", Model: "ae32", Protocol: Binary, Clients: 64, OK: 10, Throughput: 1600, P99ms: 50},
		{Target: "aekit-b8-d1ms", Model: "ae32", Protocol: Binary, Clients: 64, OK: 10, Throughput: 1234, P99ms: 5.5, MeanBatch: &mb},
	}
	var buf bytes.Buffer
	raw := &bytes.Buffer{}
	for _, l := range lines {
		json.NewEncoder(raw).Encode(l)
		raw.WriteString("a heading line\n")
	}
	read, err := ReadLines(raw)
	if err != nil || len(read) != 6 {
		t.Fatalf("ReadLines: %d lines, %v", len(read), err)
	}
	if err := Summarize(&buf, read, Roles{Served: "aekit", Transport: "transport", Unbatched: "aekit-nobatch", Peers: []string{"kserve", "kserve-w2"}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"80%", "8.0×", "5.0×", "2.00×", "× kserve-w2", "7.50", "errors: kserve ae32 binary c=64: 2 errors boom", "aekit-b8-d1ms   ae32  binary       64   1234"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestMedian(t *testing.T) {
	b := func(v float64) *float64 { return &v }
	lines := []Line{
		{Target: "a", Model: "m", Protocol: JSON, Clients: 1, OK: 10, Throughput: 300, P99ms: 9, MeanBatch: b(1)},
		{Target: "b", Model: "m", Protocol: JSON, Clients: 1, OK: 10, Throughput: 50},
		{Target: "a", Model: "m", Protocol: JSON, Clients: 1, OK: 9, Errors: 1, FirstError: "x", Throughput: 100, P99ms: 1, MeanBatch: b(3)},
		{Target: "a", Model: "m", Protocol: JSON, Clients: 1, OK: 10, Throughput: 200, P99ms: 5, MeanBatch: b(2)},
	}
	got := Median(lines)
	if len(got) != 2 || got[0].Target != "a" || got[1].Target != "b" {
		t.Fatalf("got %+v, want a then b", got)
	}
	a := got[0]
	if a.Throughput != 200 || a.P99ms != 5 || *a.MeanBatch != 2 || a.OK != 29 || a.Errors != 1 || a.FirstError != "x" {
		t.Errorf("merged %+v, want medians 200 req/s, p99 5, batch 2 and summed counts", a)
	}
}

func FuzzDecodeResponse(f *testing.F) {
	head := `{"outputs":[{"name":"o","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}`
	f.Add(append([]byte(head), make([]byte, 8)...), strconv.Itoa(len(head)))
	f.Add([]byte(`{"outputs":[{"name":"o","shape":[1,1],"datatype":"FP32","data":[1]}]}`), "")
	f.Fuzz(func(t *testing.T, body []byte, hl string) {
		DecodeResponse(body, hl) // must not panic
	})
}

func FuzzEcho(f *testing.F) {
	h := Echo(EchoConfig{Model: "ae", Input: "in", Output: "out", Width: 2})
	good, hl, _ := EncodeRequest(Binary, "in", []float32{1, 2})
	f.Add(good, strconv.Itoa(hl))
	f.Add([]byte(`{"inputs":[{"name":"in","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`), "")
	f.Fuzz(func(t *testing.T, body []byte, hl string) {
		req := httptest.NewRequest(http.MethodPost, "/v2/models/ae/infer", bytes.NewReader(body))
		if hl != "" {
			req.Header.Set(HeaderLength, hl)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 && w.Code != 400 {
			t.Fatalf("HTTP %d: %s", w.Code, w.Body)
		}
	})
}
