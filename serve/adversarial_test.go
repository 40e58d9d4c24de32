package serve

// Adversarial tests: requests and repositories from strangers. Each
// asserts the behaviour a hostile input must get (a 4xx naming the
// problem, no crash, no hang beyond a timeout, bounded allocation).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/aekit/aekit/internal/oip"
)

// rawRow returns 16 float32 values as little-endian bytes.
func rawRows(x []float32) []byte {
	b := make([]byte, 0, 4*len(x))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// Lying lengths, bad shapes, datatypes and inputs: 400 with a message
// naming the problem, never a 5xx.
func TestAdvHTTPHostileRequests(t *testing.T) {
	x, _, _, _ := reference(t)
	_, ts := newServer(t, Config{MaxRows: 8, MaxBodyBytes: 1 << 16})
	url := ts.URL + "/v2/models/" + aeName + "/infer"
	row := x[:16]
	raw := string(rawRows(row))
	bin := func(shape, dt string, size int64, extra string) (string, map[string]string) {
		h := fmt.Sprintf(`{"inputs":[{"name":%q,"shape":%s,"datatype":%q,"parameters":{"binary_data_size":%d}}%s]}`, aeIn, shape, dt, size, extra)
		return h + raw, map[string]string{HeaderLength: fmt.Sprint(len(h))}
	}
	type tc struct {
		name, body string
		hdr        map[string]string
		want       string
	}
	var cases []tc
	add := func(name, body string, hdr map[string]string, want string) {
		cases = append(cases, tc{name, body, hdr, want})
	}
	b, h := bin("[1,16]", "FP32", -1, "")
	add("negative binary_data_size", b, h, "binary_data_size -1")
	b, h = bin("[1,16]", "FP32", 1<<62, "")
	add("huge binary_data_size", b, h, "binary_data_size")
	b, h = bin("[1,16]", "FP32", 60, "")
	add("binary_data_size short of the data", b, h, "4 bytes of binary data after")
	b, h = bin("[2147483648,2147483648]", "FP32", 64, "")
	add("shape product overflow", b, h, "rows")
	b, h = bin("[1,2147483648,2147483648]", "FP32", 64, "")
	add("dimension overflow", b, h, "bad dimension")
	b, h = bin("[1,65536,65536,0]", "FP32", 64, "")
	add("dimension product over int32", b, h, "too large")
	b, h = bin("[1,-16]", "FP32", 64, "")
	add("negative dimension", b, h, "bad dimension")
	b, h = bin("[-1,16]", "FP32", 64, "")
	add("negative rows", b, h, "rows")
	b, h = bin("[]", "FP32", 64, "")
	add("empty shape", b, h, "no batch dimension")
	b, h = bin("[2,16]", "FP32", 64, "")
	add("shape larger than the data", b, h, "64 bytes of data, shape [2 16] takes 128")
	for _, dt := range []string{"FP64", "BYTES", "BOOL", "FP16", ""} {
		b, h = bin("[1,16]", dt, 64, "")
		add("datatype "+dt, b, h, "the model takes FP32")
	}
	b, h = bin("[1,16]", "FP32", 64, fmt.Sprintf(`,{"name":%q,"shape":[1,16],"datatype":"FP32","data":[%s]}`, aeIn, strings.TrimSuffix(strings.Repeat("0,", 16), ",")))
	add("duplicate input", b, h, "2 inputs")
	add("no inputs", `{"inputs":[]}`, nil, "0 inputs")
	add("missing data", fmt.Sprintf(`{"inputs":[{"name":%q,"shape":[1,16],"datatype":"FP32"}]}`, aeIn), nil, "no data")
	add("negative header length", jsonBody(aeIn, row, 1, 16), map[string]string{HeaderLength: "-1"}, "is not a length")
	add("overflowing header length", jsonBody(aeIn, row, 1, 16), map[string]string{HeaderLength: "99999999999999999999999"}, "is not a length")
	add("header length 0", jsonBody(aeIn, row, 1, 16), map[string]string{HeaderLength: "0"}, "request JSON")
	add("float binary_data_size", strings.Replace(b, `"binary_data_size":64`, `"binary_data_size":1e30`, 1), h, "request JSON")
	add("deep JSON", strings.Repeat("[", 20000)+strings.Repeat("]", 20000), nil, "request JSON")
	add("deep data", fmt.Sprintf(`{"inputs":[{"name":%q,"shape":[1,16],"datatype":"FP32","data":%s1%s}]}`, aeIn, strings.Repeat("[", 5000), strings.Repeat("]", 5000)), nil, "nested deeper")
	add("string in data", strings.Replace(jsonBody(aeIn, row, 1, 16), `"data":[`, `"data":["NaN",`, 1), nil, "data: unexpected")
	add("object data", fmt.Sprintf(`{"inputs":[{"name":%q,"shape":[1,16],"datatype":"FP32","data":{"a":1}}]}`, aeIn), nil, "not a JSON array")
	add("gzip header on a plain body", jsonBody(aeIn, row, 1, 16), map[string]string{"Content-Encoding": "gzip"}, "gzip body")
	add("classification", strings.TrimSuffix(jsonBody(aeIn, row, 1, 16), "}")+`,"outputs":[{"name":"decoder","parameters":{"classification":3}}]}`, nil, "classification")
	add("output twice", jsonBody(aeIn, row, 1, 16, aeOut, aeOut), nil, "asked for twice")
	for _, c := range cases {
		code, body, _ := post(t, url, c.body, c.hdr)
		if code != 400 || !strings.Contains(string(body), c.want) || !strings.HasPrefix(string(body), `{"error":`) {
			t.Errorf("%s: %d %.300s, want 400 and %q", c.name, code, body, c.want)
		}
	}
}

// A nested (row-major) JSON array must have the shape's structure: a
// ragged array whose total count happens to match is not the tensor the
// shape names.
func TestAdvHTTPRaggedData(t *testing.T) {
	_, ts := newServer(t, Config{})
	url := ts.URL + "/v2/models/" + aeName + "/infer"
	vals := func(n int) string { return strings.TrimSuffix(strings.Repeat("0.5,", n), ",") }
	for _, c := range []struct{ name, data string }{
		{"ragged rows", fmt.Sprintf("[[%s],[%s]]", vals(17), vals(15))},
		{"mixed depth", fmt.Sprintf("[[%s],%s]", vals(16), vals(16))},
		{"too deep", fmt.Sprintf("[[[%s]],[[%s]]]", vals(16), vals(16))},
	} {
		body := fmt.Sprintf(`{"inputs":[{"name":%q,"shape":[2,16],"datatype":"FP32","data":%s}]}`, aeIn, c.data)
		code, b, _ := post(t, url, body, nil)
		if code != 400 {
			t.Errorf("%s: %d %.200s, want 400 (the data's nesting does not match shape [2,16])", c.name, code, b)
		}
	}
	// The shape's own nesting and the flat form are fine.
	for _, d := range []string{fmt.Sprintf("[[%s],[%s]]", vals(16), vals(16)), fmt.Sprintf("[%s]", vals(32))} {
		body := fmt.Sprintf(`{"inputs":[{"name":%q,"shape":[2,16],"datatype":"FP32","data":%s}]}`, aeIn, d)
		if code, b, _ := post(t, url, body, nil); code != 200 {
			t.Errorf("well-formed data: %d %.200s", code, b)
		}
	}
}

// Numbers beyond float32's range are not FP32 values.
func TestAdvHTTPOutOfRangeNumber(t *testing.T) {
	_, ts := newServer(t, Config{})
	url := ts.URL + "/v2/models/" + aeName + "/infer"
	body := fmt.Sprintf(`{"inputs":[{"name":%q,"shape":[1,16],"datatype":"FP32","data":[1e999%s]}]}`, aeIn, strings.Repeat(",0", 15))
	code, b, _ := post(t, url, body, nil)
	if code != 400 || !strings.Contains(string(b), "1e999") || !strings.Contains(string(b), "float32 range") {
		t.Errorf("1e999: %d %.200s, want 400 naming the value as beyond the float32 range", code, b)
	}
}

// Unknown models and path tricks: 404 (or the mux's redirect/405), never
// a 5xx or a model outside the served names.
func TestAdvHTTPPathTricks(t *testing.T) {
	_, ts := newServer(t, Config{})
	body := jsonBody(aeIn, make([]float32, 16), 1, 16)
	for _, p := range []string{
		"/v2/models/..%2f..%2fetc%2fpasswd/infer",
		"/v2/models/%2e%2e/infer",
		"/v2/models/" + aeName + "%2f..%2f" + aeName + "/infer",
		"/v2/models/" + aeName + "/versions/..%2f1/infer",
		"/v2/models/" + aeName + "/versions/01/infer",
		"/v2/models/" + aeName + "/versions/%00/infer",
		"/v2/models/" + strings.Repeat("a", 8000) + "/infer",
	} {
		req, err := http.NewRequest("POST", ts.URL+p, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%.80s: %v", p, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == 200 || resp.StatusCode >= 500 {
			t.Errorf("%.80s: %d, want a 4xx (or a redirect)", p, resp.StatusCode)
		}
	}
}

// gRPC: lying raw_input_contents, datatypes, messages over the limit.
func TestAdvGRPCHostile(t *testing.T) {
	x, _, _, _ := reference(t)
	s, _ := newServer(t, Config{MaxRows: 8, MaxBodyBytes: 1 << 16})
	c := grpcClient(t, s)
	raw := rawRows(x[:16])
	in := func(dt string, shape ...int64) []*oip.ModelInferRequest_InferInputTensor {
		return []*oip.ModelInferRequest_InferInputTensor{{Name: aeIn, Datatype: dt, Shape: shape}}
	}
	two := append(in("FP32", 1, 16), in("FP32", 1, 16)...)
	for _, e := range []struct {
		name string
		req  *oip.ModelInferRequest
		code codes.Code
		want string
	}{
		{"more raw than inputs", &oip.ModelInferRequest{ModelName: aeName, Inputs: in("FP32", 1, 16), RawInputContents: [][]byte{raw, raw}}, codes.InvalidArgument, "2 raw_input_contents for 1 inputs"},
		{"overflowing shape", &oip.ModelInferRequest{ModelName: aeName, Inputs: in("FP32", 1<<31, 1<<31), RawInputContents: [][]byte{raw}}, codes.InvalidArgument, "rows"},
		{"int64 min shape", &oip.ModelInferRequest{ModelName: aeName, Inputs: in("FP32", 1, math.MinInt64), RawInputContents: [][]byte{raw}}, codes.InvalidArgument, "bad dimension"},
		{"FP64", &oip.ModelInferRequest{ModelName: aeName, Inputs: in("FP64", 1, 8), RawInputContents: [][]byte{raw}}, codes.InvalidArgument, "FP32"},
		{"BYTES", &oip.ModelInferRequest{ModelName: aeName, Inputs: in("BYTES", 1, 16), RawInputContents: [][]byte{raw}}, codes.InvalidArgument, "FP32"},
		{"duplicate input", &oip.ModelInferRequest{ModelName: aeName, Inputs: two, RawInputContents: [][]byte{raw, raw}}, codes.InvalidArgument, "2 inputs"},
		{"empty raw", &oip.ModelInferRequest{ModelName: aeName, Inputs: in("FP32", 1, 16), RawInputContents: [][]byte{{}}}, codes.InvalidArgument, "0 bytes"},
		{"no data", &oip.ModelInferRequest{ModelName: aeName, Inputs: in("FP32", 1, 16)}, codes.InvalidArgument, "no data"},
		{"fp32 count", &oip.ModelInferRequest{ModelName: aeName, Inputs: []*oip.ModelInferRequest_InferInputTensor{{Name: aeIn, Datatype: "FP32", Shape: []int64{2, 16},
			Contents: &oip.InferTensorContents{Fp32Contents: x[:16]}}}}, codes.InvalidArgument, "16 values"},
		{"over the size limit", &oip.ModelInferRequest{ModelName: aeName, Inputs: in("FP32", 1, 16), RawInputContents: [][]byte{make([]byte, 1<<17)}}, codes.ResourceExhausted, "larger than max"},
		{"path name", &oip.ModelInferRequest{ModelName: "../" + aeName, Inputs: in("FP32", 1, 16), RawInputContents: [][]byte{raw}}, codes.NotFound, "unknown model"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.ModelInfer(ctx, e.req)
		cancel()
		if st, _ := status.FromError(err); st.Code() != e.code || !strings.Contains(st.Message(), e.want) {
			t.Errorf("%s: got %v, want %v %q", e.name, err, e.code, e.want)
		}
	}
	// The server still answers.
	if _, err := c.ModelInfer(context.Background(), &oip.ModelInferRequest{ModelName: aeName, Inputs: in("FP32", 1, 16), RawInputContents: [][]byte{raw}}); err != nil {
		t.Fatal(err)
	}
}

// A request whose headers arrive before a reload replaces its model (a
// new version, or the same file changed) and whose body arrives after
// must be served by the model now served, not refused with 503: a reload
// is meant to be invisible to clients.
func TestAdvReloadDuringRequest(t *testing.T) {
	dir := t.TempDir()
	put := func(ver string) {
		d := filepath.Join(dir, "ae", ver)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(aeFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "model.keras"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("1")
	s, ts := newServer(t, Config{Repository: dir})
	body := jsonBody(aeIn, make([]float32, 16), 1, 16)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(conn, "POST /v2/models/ae/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	// The handler has looked the model up once it reads the body; wait
	// until it is admitted.
	for deadline := time.Now().Add(5 * time.Second); s.accepted.Load() < 1; {
		if time.Now().After(deadline) {
			t.Fatal("the request was not admitted")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	put("2")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the old batcher closes
	fmt.Fprint(conn, body[10:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("request spanning a reload: %d, want 200 (the model is served throughout)", resp.StatusCode)
	}
}

// A client that declares a large Content-Length and sends nothing must
// not make the server allocate the declared size before the bytes
// arrive: otherwise MaxInflight idle connections pin MaxInflight ×
// MaxBodyBytes of memory at the cost of a few header bytes each.
func TestAdvDeclaredLengthNotPreallocated(t *testing.T) {
	const limit = 16 << 20
	const conns = 8
	s, ts := newServer(t, Config{MaxBodyBytes: limit})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var cs []net.Conn
	for range conns {
		c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
		fmt.Fprintf(c, "POST /v2/models/%s/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n{", aeName, limit)
	}
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	for deadline := time.Now().Add(5 * time.Second); s.accepted.Load() < conns; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests admitted", s.accepted.Load(), conns)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > conns*limit/4 {
		t.Errorf("%d idle connections declaring %d-byte bodies made the server allocate %d MiB before any data", conns, limit, d>>20)
	}
}

// A trickled body is cut off by the server's read timeout (Run's
// ReadTimeout) and the request's place among the in-flight ones is given
// back; here with a short timeout on the handler's server.
func TestAdvSlowBodyReleasesSlot(t *testing.T) {
	s, err := New(Config{Models: []string{aeFile}, Logger: quiet(), MaxInflight: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s.Handler(), ReadTimeout: 500 * time.Millisecond}
	go hs.Serve(ln)
	defer hs.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v2/models/%s/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{", aeName)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("trickled body: %d, want 400", resp.StatusCode)
		}
	}
	// The slot is free again.
	body := jsonBody(aeIn, make([]float32, 16), 1, 16)
	for deadline := time.Now().Add(5 * time.Second); ; {
		r, err := http.Post("http://"+ln.Addr().String()+"/v2/models/"+aeName+"/infer", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the slow client: %d", r.StatusCode)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A repository whose model file or sidecar threshold is a FIFO must not
// hang New or Reload (a reload that hangs holds the lock Close needs, so
// that SIGTERM would hang too).
func TestAdvRepositoryFIFO(t *testing.T) {
	for _, which := range []string{"model.keras", "model.keras.anomaly.json"} {
		t.Run(which, func(t *testing.T) {
			dir := t.TempDir()
			d := filepath.Join(dir, "ae", "1")
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			if which != "model.keras" {
				b, _ := os.ReadFile(aeFile)
				if err := os.WriteFile(filepath.Join(d, "model.keras"), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := syscall.Mkfifo(filepath.Join(d, which), 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
			done := make(chan error, 1)
			go func() {
				s, err := New(Config{Repository: dir, Logger: quiet()})
				if err == nil {
					s.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), which) {
					t.Errorf("New with %s a FIFO: %v, want an error naming it", which, err)
				}
			case <-time.After(5 * time.Second):
				// Unblock the open so the goroutine ends.
				if f, err := os.OpenFile(filepath.Join(d, which), os.O_WRONLY, 0); err == nil {
					f.Close()
				}
				<-done
				t.Errorf("New with %s a FIFO hung (opened it for reading)", which)
			}
		})
	}
}

// Symlinks in the repository: a version directory or model directory that
// is a symlink is not served (scan lists directories only); a model file
// that is a symlink to a device is refused.
func TestAdvRepositorySymlinks(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "dev", "1")
	os.MkdirAll(d, 0o755)
	if err := os.Symlink("/dev/zero", filepath.Join(d, "model.onnx")); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() {
		s, err := New(Config{Repository: dir, Logger: quiet()})
		if err == nil {
			s.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("model.onnx -> /dev/zero: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("model.onnx -> /dev/zero: New hung")
	}
}

// A version directory whose name is a number but not in its plain form
// ("01", "+2") is not a version: it must not make scan look for a
// directory of another name ("1") and refuse the whole repository.
func TestAdvRepositoryVersionNames(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(aeFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"ae/3/model.keras", "odd/01/model.keras", "odd/+2/model.keras"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srcs, err := scan(dir, nil, "")
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if len(srcs) != 1 || srcs[0].name != "ae" || srcs[0].version != "3" {
		t.Errorf("scan: %+v, want ae version 3 alone", srcs)
	}
}

// A request of more rows than MaxQueue can never be queued: it must get a
// 400 (not a 429 that a client retries forever).
func TestAdvRowsBeyondQueue(t *testing.T) {
	_, ts := newServer(t, Config{MaxQueue: 2})
	url := ts.URL + "/v2/models/" + aeName + "/infer"
	code, b, _ := post(t, url, jsonBody(aeIn, make([]float32, 4*16), 4, 16), nil)
	if code != 400 {
		t.Errorf("4 rows with MaxQueue 2: %d %s, want 400", code, b)
	}
}

// Reloads of a changed model under load: every request is answered 200
// (none sees the swap), and the replaced batchers' goroutines end.
func TestAdvReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "ae", "1")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(aeFile)
	if err != nil {
		t.Fatal(err)
	}
	mf := filepath.Join(d, "model.keras")
	if err := os.WriteFile(mf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, ts := newServer(t, Config{Repository: dir, Workers: 1})
	url := ts.URL + "/v2/models/ae/infer"
	body := jsonBody(aeIn, make([]float32, 16), 1, 16)
	base := runtime.NumGoroutine()
	stop := make(chan struct{})
	codes := make(chan int, 1<<16)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(url, "application/json", strings.NewReader(body))
				if err != nil {
					codes <- -1
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes <- resp.StatusCode
			}
		})
	}
	for i := range 20 {
		mt := time.Now().Add(time.Duration(i+1) * time.Second)
		if err := os.Chtimes(mf, mt, mt); err != nil {
			t.Fatal(err)
		}
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if len(count) != 1 || count[200] == 0 {
		t.Errorf("answers by status across 20 reloads: %v, want 200s only", count)
	}
	http.DefaultClient.CloseIdleConnections()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > base+4; {
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines after the reloads, %d before", runtime.NumGoroutine(), base)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// slowGRPC opens a gRPC call over a raw HTTP/2 connection and sends the
// first bytes of a ModelInfer message declaring size bytes, then stalls
// (a slow sender). It returns the connection; closing it ends the call.
func slowGRPC(t *testing.T, addr string, size uint32) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":authority", addr},
		{":path", oip.GRPCInferenceService_ModelInfer_FullMethodName}, {"content-type", "application/grpc"}, {"te", "trailers"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 5+1000) // uncompressed flag, length, the first 1000 bytes
	binary.BigEndian.PutUint32(msg[1:], size)
	if err := fr.WriteData(1, false, msg); err != nil {
		t.Fatal(err)
	}
	// Answer the server's SETTINGS and pings in the background, as a live
	// client would.
	go func() {
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					fr.WriteSettingsAck()
				}
			case *http2.PingFrame:
				if !f.IsAck() {
					fr.WritePing(true, f.Data)
				}
			}
		}
	}()
	return c
}

// Slow gRPC senders hold at most their share of MaxBodyBuffer: others wait
// for it instead of the server allocating more; a call is bounded in time
// and in number; the share comes back when the call ends, however it ends.
func TestAdvGRPCSlowSender(t *testing.T) {
	x, _, _, _ := reference(t)
	s, _ := newServer(t, Config{MaxBodyBytes: 1 << 20, MaxBodyBuffer: 1 << 20, MaxInflight: 3})
	s.callTime = 2 * time.Second
	c, addr := grpcServe(t, s)
	req := &oip.ModelInferRequest{ModelName: aeName, Inputs: []*oip.ModelInferRequest_InferInputTensor{{Name: aeIn, Datatype: "FP32", Shape: []int64{1, 16},
		Contents: &oip.InferTensorContents{Fp32Contents: x[:16]}}}}
	if _, err := c.ModelInfer(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("timed out waiting for %s (budget %d bytes, %d calls open)", what, s.body.load(), s.streams.Load())
			}
		}
	}
	// One slow sender takes the whole buffer while it sends.
	slow := slowGRPC(t, addr, 900<<10)
	waitFor("the slow call's share", func() bool { return s.body.load() == 1<<20 })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := c.ModelInfer(ctx, req)
	cancel()
	if st, _ := status.FromError(err); st.Code() != codes.DeadlineExceeded {
		t.Errorf("a call while the slow one holds the buffer: %v, want it to wait (DEADLINE_EXCEEDED at its deadline)", err)
	}
	// Two more slow calls fill MaxInflight; the next is refused at once.
	slowGRPC(t, addr, 900<<10)
	slowGRPC(t, addr, 900<<10)
	waitFor("three open calls", func() bool { return s.streams.Load() == 3 })
	_, err = c.ServerLive(context.Background(), &oip.ServerLiveRequest{})
	if st, _ := status.FromError(err); st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "3 gRPC calls open") {
		t.Errorf("a call past MaxInflight open calls: %v, want RESOURCE_EXHAUSTED", err)
	}
	// Closing the first connection gives its share back; the calls left
	// end at the server's deadline; then everything is served again.
	slow.Close()
	waitFor("the calls to end", func() bool { return s.streams.Load() == 0 && s.body.load() == 0 })
	if _, err := c.ModelInfer(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	waitFor("the last call's share", func() bool { return s.body.load() == 0 })
}
