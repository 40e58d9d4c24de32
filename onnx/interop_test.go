package onnx

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/runtime"
)

// Interop tests run independent ONNX consumers on what Write produces.
// When a tool is missing they skip with the reason, unless AEKIT_INTEROP=1,
// which turns a missing tool into a failure (CI sets it).

const python = "/usr/bin/python3"

func needTool(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("AEKIT_INTEROP") == "1" {
		t.Fatalf("%s is required with AEKIT_INTEROP=1: %v", what, err)
	}
	t.Skipf("%s not available (%v); set AEKIT_INTEROP=1 to make this a failure", what, err)
}

func needPythonONNX(t *testing.T) {
	t.Helper()
	err := exec.Command(python, "-c", "import onnx, onnx.checker").Run()
	needTool(t, python+" with the onnx module (Debian python3-onnx)", err)
}

// nodeDir is tools/node, where onnxruntime-node is installed.
var nodeDir = filepath.Join("..", "tools", "node")

func needORT(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(nodeDir, "node_modules", "onnxruntime-node", "package.json"))
	}
	needTool(t, "node with onnxruntime-node in tools/node (npm install there)", err)
}

// Tolerance of the interop comparisons: |got−want| ≤ interopATol +
// interopRTol·|want|.
const (
	interopATol = 1e-6
	interopRTol = 1e-5
)

// errStats accumulates the largest errors of a comparison: the largest
// |got−want|, and the largest |got−want|/|want| over |want| ≥ 1e-3 (below,
// the absolute tolerance governs).
type errStats struct {
	maxAbs, maxRel  float64
	where, whereRel string
}

func (s *errStats) add(name string, got, want []float32) (bad int) {
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if g == w || (math.IsNaN(g) && math.IsNaN(w)) {
			continue
		}
		d := math.Abs(g - w)
		if d > s.maxAbs {
			s.maxAbs, s.where = d, name
		}
		if math.Abs(w) >= 1e-3 && d/math.Abs(w) > s.maxRel {
			s.maxRel, s.whereRel = d/math.Abs(w), name
		}
		if !(d <= interopATol+interopRTol*math.Abs(w)) {
			bad++
		}
	}
	return bad
}

// interopInputs returns the case's inputs followed by n rows uniform in
// [-3, 3), which reach the negative branches of the activations.
func interopInputs(c conformance.Case, n int, seed uint64) ([]float32, int) {
	r := rand.New(rand.NewPCG(seed, 7))
	x := append([]float32(nil), c.X...)
	for range n * c.Model.InputWidth() {
		x = append(x, float32(6*r.Float64()-3))
	}
	return x, c.N + n
}

// ortOpsets are the opsets the ONNX Runtime test exports at.
var ortOpsets = []int{MinOpset, 13, 17, 18, 20, MaxOpset}

func TestONNXRuntime(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	type job struct {
		Model  string `json:"model"`
		Input  string `json:"input"`
		Output string `json:"output"`
		name   string
		want   []float32
		dims   []int
	}
	var jobs []*job
	for _, opset := range ortOpsets {
		for k, c := range allCases() {
			name := fmt.Sprintf("%s_opset%d", c.Name, opset)
			j := &job{Model: filepath.Join(dir, name+".onnx"), Input: filepath.Join(dir, name+".in.npy"),
				Output: filepath.Join(dir, name+".out.npy"), name: name}
			if err := WriteFile(j.Model, c.Model, &ExportOptions{Opset: opset}); err != nil {
				t.Fatal(err)
			}
			x, n := interopInputs(c, 8, uint64(k))
			var err error
			if j.want, err = c.Model.Predict(nil, x); err != nil {
				t.Fatal(err)
			}
			j.dims = append([]int{n}, c.Model.OutputShape()...)
			if err := writeNpy(j.Input, append([]int{n}, c.Model.Input...), x); err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, j)
		}
	}
	jf := filepath.Join(dir, "jobs.json")
	b, _ := json.Marshal(jobs)
	if err := os.WriteFile(jf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs(filepath.Join(nodeDir, "ort_run.mjs"))
	cmd := exec.Command("node", script, "--jobs", jf)
	cmd.Dir = nodeDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	results := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r struct{ Output, Error string }
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			results[r.Output] = r.Error
		}
	}
	if err != nil && len(results) == 0 {
		t.Fatalf("ort_run.mjs: %v\n%s", err, stderr.String())
	}
	var st errStats
	for _, j := range jobs {
		if e, ok := results[j.Output]; !ok || e != "" {
			t.Errorf("%s: ONNX Runtime: %q", j.name, e)
			continue
		}
		dims, got, err := readNpy(j.Output)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(dims) != fmt.Sprint(j.dims) {
			t.Errorf("%s: ONNX Runtime output shape %v, want %v", j.name, dims, j.dims)
			continue
		}
		if bad := st.add(j.name, got, j.want); bad > 0 {
			t.Errorf("%s: %d of %d outputs differ from aekit's beyond %g + %g·|want|", j.name, bad, len(got), interopATol, interopRTol)
		}
	}
	t.Logf("%d models; ONNX Runtime vs aekit: max |Δ| %.3g (%s), max rel %.3g (%s)", len(jobs), st.maxAbs, st.where, st.maxRel, st.whereRel)
}

// checkerOpsets are the opsets the onnx checker test exports at; Debian's
// onnx 1.12 accepts IR versions up to 8, so opsets 19–21 (IR 9, 10) are
// checked by ONNX Runtime only.
var checkerOpsets = []int{MinOpset, 13, 17, 18}

func TestONNXChecker(t *testing.T) {
	needPythonONNX(t)
	dir := t.TempDir()
	var files []string
	for _, opset := range checkerOpsets {
		for _, c := range allCases() {
			if opset >= 18 && strings.Contains(c.Name, "mish") {
				continue // onnx 1.12 predates the Mish op of opset 18; ONNX Runtime checks it
			}
			name := filepath.Join(dir, fmt.Sprintf("%s_opset%d.onnx", c.Name, opset))
			if err := WriteFile(name, c.Model, &ExportOptions{Opset: opset}); err != nil {
				t.Fatal(err)
			}
			files = append(files, name)
		}
	}
	// Sub-models and prefixes, as `aekit convert --layer` writes them.
	deep := caseModel(t, "deep_nested")
	for _, part := range []string{"encoder", "decoder", "enc_2"} {
		var m *runtime.Model
		var err error
		if part == "enc_2" {
			m, err = deep.Until(part)
		} else {
			m, err = deep.Submodel(part)
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, "deep_"+part+".onnx")
		if err := WriteFile(name, m, nil); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	const script = `
import sys, onnx
bad = 0
for f in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(f), full_check=True)
    except Exception as e:
        bad += 1
        print("FAIL", f, str(e).replace("\n", " "))
print("checked", len(sys.argv) - 1)
sys.exit(1 if bad else 0)
`
	out, err := exec.Command(python, append([]string{"-c", script}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx checker: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("checked %d", len(files))) {
		t.Fatalf("onnx checker output: %s", out)
	}
	t.Logf("onnx.checker.check_model(full_check=True) passed %d models", len(files))
}

func caseModel(t testing.TB, name string) *runtime.Model {
	for _, c := range conformance.Cases() {
		if c.Name == name {
			return c.Model
		}
	}
	t.Fatalf("no conformance case %q", name)
	return nil
}
