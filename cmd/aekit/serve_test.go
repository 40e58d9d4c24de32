package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/internal/oip"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/score"
)

const serveModel = "../../fixtures/keras/gen/k3_autoencoder.keras" // 16 → 16

// served is an `aekit serve` child process.
type served struct {
	cmd        *exec.Cmd
	http, grpc string // addresses
	mu         sync.Mutex
	log        bytes.Buffer
	exited     chan struct{}
	err        error // the exit status, after exited
}

var addrLine = regexp.MustCompile(`msg="serving (HTTP|gRPC)" addr=(\S+)`)

// startServe starts the test binary as `aekit serve args...` on
// loopback ports of the system's choosing and waits for both addresses.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, exited: make(chan struct{})}
	addrs := make(chan [2]string, 2)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := addrLine.FindStringSubmatch(sc.Text()); m != nil {
				addrs <- [2]string{m[1], m[2]}
			}
		}
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			cmd.Process.Kill()
			<-s.exited
		}
	})
	for s.http == "" || s.grpc == "" {
		select {
		case a := <-addrs:
			if a[0] == "HTTP" {
				s.http = a[1]
			} else {
				s.grpc = a[1]
			}
		case <-s.exited:
			t.Fatalf("aekit serve exited: %v\n%s", s.err, s.logs())
		case <-time.After(60 * time.Second):
			t.Fatalf("aekit serve did not start\n%s", s.logs())
		}
	}
	return s
}

func (s *served) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// stop sends SIGTERM and waits for a clean exit.
func (s *served) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("aekit serve did not stop on SIGTERM\n%s", s.logs())
	}
	if s.err != nil {
		t.Fatalf("aekit serve after SIGTERM: %v, want exit 0\n%s", s.err, s.logs())
	}
}

// stopped returns the accepted and answered counts of the "stopped" log
// line.
func (s *served) stopped(t *testing.T) (acc, ans int64) {
	t.Helper()
	m := regexp.MustCompile(`msg=stopped accepted=(\d+) answered=(\d+)`).FindStringSubmatch(s.logs())
	if m == nil {
		t.Fatalf("no stopped line in\n%s", s.logs())
	}
	acc, _ = strconv.ParseInt(m[1], 10, 64)
	ans, _ = strconv.ParseInt(m[2], 10, 64)
	return acc, ans
}

// tensorNames asks the server for a model's input and output names.
func servedNames(t *testing.T, addr, model string) (in, out string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/v2/models/" + model)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md struct {
		Inputs, Outputs []struct{ Name string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil || len(md.Inputs) != 1 || len(md.Outputs) == 0 {
		t.Fatalf("metadata of %s: %v %+v", model, err, md)
	}
	return md.Inputs[0].Name, md.Outputs[0].Name
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func rawFP32(x []float32) []byte {
	b := make([]byte, 0, 4*len(x))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// The official tritonclient (HTTP binary and JSON, gRPC) and curl get from
// aekit serve the outputs of aekit predict — bit for bit when the request
// is predict's batch, to 1e-6 row by row — and the scores of aekit score,
// for a Keras and an ONNX model; health, metadata and errors parse.
func TestServeTritonClient(t *testing.T) {
	py := interop.Python(t, "numpy", "tritonclient.http", "tritonclient.grpc", "onnxruntime")
	curl, err := exec.LookPath("curl")
	interop.Need(t, "curl", err)
	dir := t.TempDir()
	keras := filepath.Join(dir, "ae_keras.keras")
	onnxF := filepath.Join(dir, "ae_onnx.onnx")
	copyFile(t, serveModel, keras)
	runOK(t, "convert", keras, onnxF)
	// 37 rows in [0, 1): one batch for predict and score (batch 256).
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 37*16)
	for i := range x {
		x[i] = rng.Float32()
	}
	xf := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(xf, &npy.Array{Shape: []int{37, 16}, Data: x}); err != nil {
		t.Fatal(err)
	}
	type modelSpec struct {
		Name      string   `json:"name"`
		Input     string   `json:"input"`
		Output    string   `json:"output"`
		X         string   `json:"x"`
		Y         string   `json:"y"`
		Scores    string   `json:"scores,omitempty"`
		Threshold *float32 `json:"threshold"`
		ORT       string   `json:"ort,omitempty"`
	}
	var models []*modelSpec
	for _, f := range []string{keras, onnxF} {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		m := &modelSpec{Name: name, X: xf, Y: filepath.Join(dir, name+".y.npy"), Scores: filepath.Join(dir, name+".s.npy")}
		runOK(t, "predict", f, "-i", xf, "-o", m.Y)
		if name == "ae_onnx" {
			// A stored threshold (the median of the rows' scores) adds is_anomaly.
			runOK(t, "score", f, "-i", xf, "-o", m.Scores, "--calibrate", xf, "--quantile", "0.5", "--save-threshold")
			th, err := score.ReadSidecar(f)
			if err != nil || th == nil {
				t.Fatal(th, err)
			}
			m.Threshold = &th.Value
		} else {
			runOK(t, "score", f, "-i", xf, "-o", m.Scores)
		}
		models = append(models, m)
	}
	// An ONNX file with its own reconstruction_error output (mae), served
	// with the metric its metadata names: ONNX Runtime agrees.
	scored := filepath.Join(dir, "ae_scored.onnx")
	runOK(t, "convert", keras, scored, "--score", "mae")
	sm := &modelSpec{Name: "ae_scored", X: xf, Y: filepath.Join(dir, "ae_scored.y.npy"), ORT: scored}
	runOK(t, "predict", scored, "-i", xf, "-o", sm.Y)
	models = append(models, sm)
	s := startServe(t, "--max-delay", "1ms", keras, onnxF, scored)
	for _, m := range models {
		m.Input, m.Output = servedNames(t, s.http, m.Name)
	}
	spec, _ := json.Marshal(map[string]any{"http": s.http, "grpc": s.grpc, "models": models})
	specF := filepath.Join(dir, "spec.json")
	os.WriteFile(specF, spec, 0o644)
	out := interop.Run(t, py, "testdata/serve_triton.py", specF)
	var res struct {
		HTTP, GRPC struct {
			Live, Ready bool
			Server      struct {
				Name       string
				Extensions []string
			}
		}
		Models map[string]map[string]struct {
			ModelReady bool `json:"model_ready"`
			Metadata   struct {
				Name     string
				Versions []string
				Inputs   []struct {
					Name     string
					Datatype string
					Shape    []int64
				}
				Outputs []struct {
					Name     string
					Datatype string
				}
			}
			Binary, JSON, Raw *clientResult
			BadShape          *struct{ Status, Message string } `json:"bad_shape"`
			UnknownModel      *struct{ Status, Message string } `json:"unknown_model"`
			UnknownReady      bool                              `json:"unknown_model_ready"`
			ORTOutput         *float64                          `json:"ort_output_max_rel"`
			ORTScores         *float64                          `json:"ort_scores_max_rel"`
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, p := range []struct {
		name  string
		live  bool
		ready bool
		sname string
	}{{"http", res.HTTP.Live, res.HTTP.Ready, res.HTTP.Server.Name}, {"grpc", res.GRPC.Live, res.GRPC.Ready, res.GRPC.Server.Name}} {
		if !p.live || !p.ready || p.sname != "aekit" {
			t.Errorf("%s: live %v ready %v server %q", p.name, p.live, p.ready, p.sname)
		}
	}
	for _, m := range models {
		for proto, r := range res.Models[m.Name] {
			where := m.Name + " " + proto
			md := r.Metadata
			if !r.ModelReady || r.UnknownReady || md.Name != m.Name || fmt.Sprint(md.Versions) != "[1]" || len(md.Inputs) != 1 ||
				md.Inputs[0].Name != m.Input || md.Inputs[0].Datatype != "FP32" || fmt.Sprint(md.Inputs[0].Shape) != "[-1 16]" ||
				md.Outputs[0].Name != m.Output {
				t.Errorf("%s: readiness or metadata %+v", where, r)
			}
			modes := map[string]*clientResult{"binary": r.Binary, "json": r.JSON}
			if proto == "grpc" {
				modes = map[string]*clientResult{"raw": r.Raw}
			}
			for mode, d := range modes {
				if d == nil {
					t.Errorf("%s %s: no result", where, mode)
					continue
				}
				if d.ID != "req-7" || fmt.Sprint(d.Shape) != "[37 16]" || d.Dtype != "float32" || !d.BatchBitIdentical || !d.GzipBitIdentical ||
					(m.Scores != "" && !d.ScoresBitIdentical) || d.RowsMaxRel > 1e-6 {
					t.Errorf("%s %s: %+v (want the request id, bit-identical outputs and scores, rows within 1e-6)", where, mode, *d)
				}
				if m.Threshold != nil && (d.AnomalyDtype != "bool" || !d.AnomalyMatches || d.Anomalous == 0 || d.Anomalous == 37) {
					t.Errorf("%s %s: is_anomaly %+v", where, mode, *d)
				}
				t.Logf("%s %s: whole batch bit-identical %v, rows max rel %.2g, %d anomalous", where, mode, d.BatchBitIdentical, d.RowsMaxRel, d.Anomalous)
			}
			if m.ORT != "" {
				if r.ORTOutput == nil || r.ORTScores == nil || *r.ORTOutput > 1e-5 || *r.ORTScores > 1e-5 {
					t.Errorf("%s: against ONNX Runtime: output %v, reconstruction_error %v (want within 1e-5)", where, r.ORTOutput, r.ORTScores)
				} else {
					t.Logf("%s: against ONNX Runtime: output max rel %.2g, reconstruction_error %.2g", where, *r.ORTOutput, *r.ORTScores)
				}
			}
			wantBad, wantUnknown := "400", "404"
			if proto == "grpc" {
				wantBad, wantUnknown = "StatusCode.INVALID_ARGUMENT", "StatusCode.NOT_FOUND"
			}
			if r.BadShape == nil || r.BadShape.Status != wantBad || !strings.Contains(r.BadShape.Message, `input "`+m.Input+`"`) {
				t.Errorf("%s: bad shape: %+v", where, r.BadShape)
			}
			if r.UnknownModel == nil || r.UnknownModel.Status != wantUnknown || !strings.Contains(r.UnknownModel.Message, "no_such_model") {
				t.Errorf("%s: unknown model: %+v", where, r.UnknownModel)
			}
		}
		if len(res.Models[m.Name]) != 2 {
			t.Errorf("%s: results %v", m.Name, res.Models[m.Name])
		}
	}

	// curl, JSON and binary, for each model.
	for _, m := range models {
		ya, err := npy.ReadFile(m.Y)
		if err != nil {
			t.Fatal(err)
		}
		url := "http://" + s.http + "/v2/models/" + m.Name + "/infer"
		var req strings.Builder
		fmt.Fprintf(&req, `{"inputs":[{"name":%q,"shape":[37,16],"datatype":"FP32","data":[`, m.Input)
		for i, v := range x {
			if i > 0 {
				req.WriteByte(',')
			}
			req.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		req.WriteString("]}]}")
		reqF := filepath.Join(dir, m.Name+".req.json")
		os.WriteFile(reqF, []byte(req.String()), 0o644)
		b, err := exec.Command(curl, "-sS", "--fail-with-body", "-H", "Content-Type: application/json", "--data-binary", "@"+reqF, url).Output()
		if err != nil {
			t.Fatalf("curl JSON %s: %v %s", m.Name, err, b)
		}
		var a struct {
			Outputs []struct {
				Name  string
				Shape []int
				Data  []float32
			}
		}
		if err := json.Unmarshal(b, &a); err != nil || len(a.Outputs) != 1 || a.Outputs[0].Name != m.Output || fmt.Sprint(a.Outputs[0].Shape) != "[37 16]" {
			t.Fatalf("curl JSON %s: %v %.300s", m.Name, err, b)
		}
		if !bitsEqual(a.Outputs[0].Data, ya.Data) {
			t.Errorf("curl JSON %s: outputs differ from aekit predict's", m.Name)
		}
		// Binary tensors: a JSON header then raw float32.
		head := fmt.Sprintf(`{"inputs":[{"name":%q,"shape":[37,16],"datatype":"FP32","parameters":{"binary_data_size":%d}}],"outputs":[{"name":%q,"parameters":{"binary_data":true}}]}`, m.Input, 4*len(x), m.Output)
		binF := filepath.Join(dir, m.Name+".req.bin")
		os.WriteFile(binF, append([]byte(head), rawFP32(x)...), 0o644)
		hdrF := filepath.Join(dir, m.Name+".hdr")
		b, err = exec.Command(curl, "-sS", "--fail-with-body", "-D", hdrF, "-H", "Content-Type: application/octet-stream",
			"-H", fmt.Sprintf("Inference-Header-Content-Length: %d", len(head)), "--data-binary", "@"+binF, url).Output()
		if err != nil {
			t.Fatalf("curl binary %s: %v %s", m.Name, err, b)
		}
		hdr, _ := os.ReadFile(hdrF)
		mh := regexp.MustCompile(`(?i)inference-header-content-length: (\d+)`).FindSubmatch(hdr)
		if mh == nil {
			t.Fatalf("curl binary %s: no header length in %s", m.Name, hdr)
		}
		hl, _ := strconv.Atoi(string(mh[1]))
		if hl > len(b) || len(b)-hl != 4*len(ya.Data) {
			t.Fatalf("curl binary %s: header %d, %d bytes", m.Name, hl, len(b))
		}
		got := make([]float32, len(ya.Data))
		for i := range got {
			got[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[hl+4*i:]))
		}
		if !bitsEqual(got, ya.Data) {
			t.Errorf("curl binary %s: outputs differ from aekit predict's", m.Name)
		}
		// An error curl shows: the status and the protocol's error object.
		b, _ = exec.Command(curl, "-sS", "-w", " %{http_code}", "--data-binary", "@"+reqF, "http://"+s.http+"/v2/models/no_such_model/infer").Output()
		if !strings.HasPrefix(string(b), `{"error":`) || !strings.HasSuffix(string(b), " 404") {
			t.Errorf("curl unknown model: %s", b)
		}
	}
	s.stop(t)
}

// clientResult is what serve_triton.py found for one model, client and
// tensor encoding.
type clientResult struct {
	ID                 string
	Shape              []int
	Dtype              string
	BatchBitIdentical  bool    `json:"batch_bit_identical"`
	GzipBitIdentical   bool    `json:"gzip_bit_identical"`
	ScoresBitIdentical bool    `json:"scores_bit_identical"`
	ScoresMaxRel       float64 `json:"scores_max_rel"`
	AnomalyDtype       string  `json:"anomaly_dtype"`
	AnomalyMatches     bool    `json:"anomaly_matches"`
	Anomalous          int
	RowsMaxRel         float64 `json:"rows_max_rel"`
}

// bitsEqual reports whether a and b hold the same float32 values bit for
// bit.
func bitsEqual(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// SIGTERM under load (HTTP and gRPC clients): aekit serve exits 0 and
// every request it accepted was answered: the clients got as many
// answers, all 200, as the server counted accepted requests.
func TestServeSIGTERMUnderLoad(t *testing.T) {
	s := startServe(t, "--max-delay", "1ms", serveModel)
	in, _ := servedNames(t, s.http, "k3_autoencoder")
	x := make([]float32, 16)
	head := fmt.Sprintf(`{"inputs":[{"name":%q,"shape":[1,16],"datatype":"FP32","parameters":{"binary_data_size":64}}]}`, in)
	body := append([]byte(head), rawFP32(x)...)
	url := "http://" + s.http + "/v2/models/k3_autoencoder/infer"
	conn, err := grpc.NewClient(s.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gc := oip.NewGRPCInferenceServiceClient(conn)
	greq := &oip.ModelInferRequest{ModelName: "k3_autoencoder", Inputs: []*oip.ModelInferRequest_InferInputTensor{{Name: in, Datatype: "FP32", Shape: []int64{1, 16}}},
		RawInputContents: [][]byte{rawFP32(x)}}
	var ok, bad, refused atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for c := range 40 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if c%4 == 3 {
					_, err := gc.ModelInfer(context.Background(), greq)
					switch {
					case err == nil:
						ok.Add(1)
					case strings.Contains(err.Error(), "Unavailable"), strings.Contains(err.Error(), "connection"):
						refused.Add(1)
						time.Sleep(time.Millisecond)
					default:
						bad.Add(1)
					}
					continue
				}
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Inference-Header-Content-Length", strconv.Itoa(len(head)))
				resp, err := client.Do(req)
				if err != nil {
					refused.Add(1) // not accepted: refused, or closed before the server read it
					time.Sleep(time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
		})
	}
	for ok.Load() < 2000 {
		select {
		case <-s.exited:
			t.Fatalf("exited early\n%s", s.logs())
		case <-time.After(5 * time.Millisecond):
		}
	}
	s.stop(t)
	close(stop)
	wg.Wait()
	acc, ans := s.stopped(t)
	if acc != ans || acc != ok.Load()+bad.Load() || bad.Load() != 0 {
		t.Errorf("server: %d accepted, %d answered; clients: %d OK, %d other answers, %d not accepted", acc, ans, ok.Load(), bad.Load(), refused.Load())
	}
	if !strings.Contains(s.logs(), `msg="shutting down: not ready"`) {
		t.Errorf("no readiness change in the log")
	}
	t.Logf("%d requests answered, %d refused after SIGTERM", ok.Load(), refused.Load())
}

// Overload: far more concurrent clients than the queue holds get 429s
// (never a failure), and the server's memory stays flat from one round
// of load to the next.
func TestServeOverload(t *testing.T) {
	s := startServe(t, "--max-delay", "2ms", "--max-queue", "16", "--max-inflight", "64", serveModel)
	in, _ := servedNames(t, s.http, "k3_autoencoder")
	x := make([]float32, 16)
	head := fmt.Sprintf(`{"inputs":[{"name":%q,"shape":[1,16],"datatype":"FP32","parameters":{"binary_data_size":64}}]}`, in)
	body := append([]byte(head), rawFP32(x)...)
	url := "http://" + s.http + "/v2/models/k3_autoencoder/infer"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	round := func() (codes map[int]int) {
		codes = map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 256 {
			wg.Go(func() {
				for range 20 {
					req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
					req.Header.Set("Inference-Header-Content-Length", strconv.Itoa(len(head)))
					resp, err := client.Do(req)
					c := -1
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						c = resp.StatusCode
					}
					mu.Lock()
					codes[c]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return codes
	}
	var rss []int64
	total := map[int]int{}
	for range 4 {
		for c, n := range round() {
			total[c] += n
		}
		rss = append(rss, processRSS(t, s.cmd.Process.Pid))
	}
	s.stop(t)
	if total[429] == 0 || total[200] == 0 || total[200]+total[429] != 4*256*20 {
		t.Errorf("answers by status: %v; want 200s and 429s only", total)
	}
	// Flat: the last round's resident memory within 25% (plus 8 MiB) of
	// the first's.
	if rss[3] > rss[0]+rss[0]/4+8<<20 {
		t.Errorf("resident memory after each round: %v bytes: growing", rss)
	}
	t.Logf("answers by status %v; resident memory after each round %v MiB", total, mib(rss))
}

func mib(v []int64) []int64 {
	r := make([]int64, len(v))
	for i, x := range v {
		r[i] = x >> 20
	}
	return r
}

// processRSS reads a process's resident set size from /proc.
func processRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatal(errors.New("no VmRSS"))
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// --echo (for the load benchmark's transport limit) answers the input
// without running the model, and is not listed in --help.
func TestServeEcho(t *testing.T) {
	s := startServe(t, "--echo", serveModel)
	in, _ := servedNames(t, s.http, "k3_autoencoder")
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	head := fmt.Sprintf(`{"inputs":[{"name":%q,"shape":[1,16],"datatype":"FP32","parameters":{"binary_data_size":64}}],"parameters":{"binary_data_output":true}}`, in)
	req, _ := http.NewRequest("POST", "http://"+s.http+"/v2/models/k3_autoencoder/infer", bytes.NewReader(append([]byte(head), rawFP32(x)...)))
	req.Header.Set("Inference-Header-Content-Length", strconv.Itoa(len(head)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	hl, _ := strconv.Atoi(resp.Header.Get("Inference-Header-Content-Length"))
	if resp.StatusCode != 200 || hl <= 0 || hl > len(b) || !bytes.Equal(b[hl:], rawFP32(x)) {
		t.Errorf("echo: %d %q", resp.StatusCode, b)
	}
	s.stop(t)
	if !strings.Contains(s.logs(), "echo mode") {
		t.Errorf("no echo warning in the log")
	}
	if help := runOK(t, "serve", "--help"); strings.Contains(help, "echo") || !strings.Contains(help, "--model-repository") && !strings.Contains(help, "-model-repository") {
		t.Errorf("serve --help:\n%s", help)
	}
}

// SIGHUP reloads the repository: a version that fails to load leaves the
// old one serving; a good new version replaces it.
func TestServeSIGHUPReload(t *testing.T) {
	repo := t.TempDir()
	put := func(ver string, b []byte) {
		d := filepath.Join(repo, "ae", ver)
		os.MkdirAll(d, 0o755)
		if err := os.WriteFile(filepath.Join(d, "model.keras"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good, err := os.ReadFile(serveModel)
	if err != nil {
		t.Fatal(err)
	}
	put("1", good)
	s := startServe(t, "--model-repository", repo)
	version := func() string {
		resp, err := http.Get("http://" + s.http + "/v2/models/ae")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var md struct{ Versions []string }
		json.NewDecoder(resp.Body).Decode(&md)
		return fmt.Sprint(md.Versions)
	}
	reloads := 0
	hup := func(wantLog string) {
		t.Helper()
		s.cmd.Process.Signal(syscall.SIGHUP)
		reloads++
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(s.logs(), wantLog) || strings.Count(s.logs(), "msg=reloaded") < reloads; {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in\n%s", wantLog, s.logs())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	put("2", []byte("not a model"))
	hup("the old version serves on")
	if v := version(); v != "[1]" {
		t.Errorf("after a broken version 2: versions %s, want [1]", v)
	}
	put("3", good)
	hup(`msg="model loaded" model=ae version=3`)
	if v := version(); v != "[3]" {
		t.Errorf("after version 3: versions %s, want [3]", v)
	}
	s.stop(t)
}
