package onnx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/runtime"
)

// Interop tests run independent ONNX consumers on what Write produces.
// When a tool is missing they skip with the reason, unless AEKIT_INTEROP=1,
// which turns a missing tool into a failure (CI sets it).

func needTool(t *testing.T, what string, err error) {
	t.Helper()
	interop.Need(t, what, err)
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

// ortOpsets are the opsets the onnxruntime-node test exports at.
var ortOpsets = []int{MinOpset, 13, 17, 18, 20, MaxOpset}

// allOpsets are MinOpset to MaxOpset: every opset Write targets.
func allOpsets() []int {
	var s []int
	for o := MinOpset; o <= MaxOpset; o++ {
		s = append(s, o)
	}
	return s
}

// ortCase is one exported model with its input and aekit's outputs, run
// by an ONNX Runtime.
type ortCase struct {
	job  interop.ORTJob
	name string
	want []float32
	dims []int
}

// ortCases exports every case (allCases) at each opset into dir and writes
// its inputs (interopInputs) and aekit's outputs.
func ortCases(t *testing.T, dir string, opsets []int) []*ortCase {
	t.Helper()
	return ortCasesOf(t, dir, opsets, allCases(), nil)
}

// ortCasesOf is ortCases for the given cases and export options (nil: the
// defaults), Opset set per export.
func ortCasesOf(t *testing.T, dir string, opsets []int, all []conformance.Case, opt *ExportOptions) []*ortCase {
	t.Helper()
	var cases []*ortCase
	for _, opset := range opsets {
		for k, c := range all {
			name := fmt.Sprintf("%s_opset%d", c.Name, opset)
			j := &ortCase{job: interop.ORTJob{Model: filepath.Join(dir, name+".onnx"), Input: filepath.Join(dir, name+".in.npy"),
				Output: filepath.Join(dir, name+".out.npy")}, name: name}
			o := ExportOptions{}
			if opt != nil {
				o = *opt
			}
			o.Opset = opset
			if err := WriteFile(j.job.Model, c.Model, &o); err != nil {
				t.Fatal(err)
			}
			x, n := interopInputs(c, 8, uint64(k))
			var err error
			if j.want, err = c.Model.Predict(nil, x); err != nil {
				t.Fatal(err)
			}
			j.dims = append([]int{n}, c.Model.OutputShape()...)
			if err := writeNpy(j.job.Input, append([]int{n}, c.Model.Input...), x); err != nil {
				t.Fatal(err)
			}
			cases = append(cases, j)
		}
	}
	return cases
}

// checkORT compares what an ONNX Runtime computed (results: error by
// output path, from interop.ORTResults) with aekit's outputs: element-wise
// within interopATol + interopRTol·|want|, and normwise (max|Δ|/max|want|
// per model) within 1e-6. It returns the largest normwise error.
func checkORT(t *testing.T, who string, cases []*ortCase, results map[string]string) float64 {
	t.Helper()
	var st errStats
	var norm float64
	var normAt string
	for _, j := range cases {
		if e, ok := results[j.job.Output]; !ok || e != "" {
			t.Errorf("%s: %s: %q", j.name, who, e)
			continue
		}
		dims, got, err := readNpy(j.job.Output)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(dims) != fmt.Sprint(j.dims) {
			t.Errorf("%s: %s output shape %v, want %v", j.name, who, dims, j.dims)
			continue
		}
		if bad := st.add(j.name, got, j.want); bad > 0 {
			t.Errorf("%s: %d of %d outputs of %s differ from aekit's beyond %g + %g·|want|", j.name, bad, len(got), who, interopATol, interopRTol)
		}
		if e := conformance.Normwise(got, j.want); e > 1e-6 {
			t.Errorf("%s: %s vs aekit: normwise error %.3g > 1e-6", j.name, who, e)
		} else if e > norm {
			norm, normAt = e, j.name
		}
	}
	t.Logf("%d models; %s vs aekit: max |Δ| %.3g (%s), max rel %.3g (%s), max normwise %.3g (%s)",
		len(cases), who, st.maxAbs, st.where, st.maxRel, st.whereRel, norm, normAt)
	return norm
}

// TestONNXRuntime runs the exports in onnxruntime-node (tools/node).
func TestONNXRuntime(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	cases := ortCases(t, dir, ortOpsets)
	jobs := make([]interop.ORTJob, len(cases))
	for i, c := range cases {
		jobs[i] = c.job
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
	results := interop.ORTResults(out)
	if err != nil && len(results) == 0 {
		t.Fatalf("ort_run.mjs: %v\n%s", err, stderr.String())
	}
	checkORT(t, "onnxruntime-node", cases, results)
}

// TestONNXRuntimePython runs the exports at every opset Write targets in
// the reference environment's onnxruntime (Python), in one process.
func TestONNXRuntimePython(t *testing.T) {
	interop.Python(t, "onnxruntime")
	dir := t.TempDir()
	cases := ortCases(t, dir, allOpsets())
	jobs := make([]interop.ORTJob, len(cases))
	for i, c := range cases {
		jobs[i] = c.job
	}
	checkORT(t, "onnxruntime (Python)", cases, interop.ORT(t, dir, jobs))
}

// TestONNXChecker runs the reference environment's onnx checker
// (check_model with full_check) on every case exported at every opset
// Write targets, and on sub-models and prefixes as `aekit convert
// --layer`/`--model` writes them.
func TestONNXChecker(t *testing.T) {
	interop.Python(t, "onnx")
	dir := t.TempDir()
	var files []string
	deep := caseModel(t, "deep_nested")
	for _, opset := range allOpsets() {
		for _, c := range allCases() {
			name := filepath.Join(dir, fmt.Sprintf("%s_opset%d.onnx", c.Name, opset))
			if err := WriteFile(name, c.Model, &ExportOptions{Opset: opset}); err != nil {
				t.Fatal(err)
			}
			files = append(files, name)
		}
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
			name := filepath.Join(dir, fmt.Sprintf("deep_%s_opset%d.onnx", part, opset))
			if err := WriteFile(name, m, &ExportOptions{Opset: opset}); err != nil {
				t.Fatal(err)
			}
			files = append(files, name)
		}
	}
	for _, f := range interop.CheckONNX(t, files) {
		t.Error(f)
	}
	t.Logf("onnx.checker.check_model(full_check=True) ran on %d models (opsets %d to %d)", len(files), MinOpset, MaxOpset)
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
