package onnx

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/internal/interop"
	"github.com/aekit/aekit/runtime"
)

// kindCases are models with the normalisation kinds (runtime.Kind):
// BatchNormalization after a linear Dense layer (foldable) and after an
// activation, with center and scale off; LayerNormalization with and
// without gamma; Normalization at the input and inverted at the output;
// Rescaling (scalar and per feature) and UnitNormalization. Every
// parameter is random, away from Keras's defaults.
func kindCases(t testing.TB) []conformance.Case {
	r := rand.New(rand.NewPCG(11, 12))
	vec := func(n int, lo, hi float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(lo + (hi-lo)*r.Float64())
		}
		return v
	}
	dense := func(name string, in, units int, act runtime.Activation) *runtime.Layer {
		return &runtime.Layer{Name: name, Type: runtime.Dense, Class: "Dense", In: in, Units: units, Act: act,
			Kernel: vec(in*units, -0.6, 0.6), Bias: vec(units, -0.2, 0.2)}
	}
	kind := func(name string, k runtime.Kind) *runtime.Layer {
		return &runtime.Layer{Name: name, Type: runtime.Other, Class: k.Class(), Kind: k}
	}
	newKind := func(class string, attrs map[string]any) runtime.Kind {
		k, err := runtime.NewKind(class, attrs)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	list := func(v []float32) []any {
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	relu, linear := runtime.Act(runtime.ReLU), runtime.Activation{}
	models := []*runtime.Model{
		{Name: "k_bn", Input: []int{6}, Layers: []*runtime.Layer{
			dense("dense", 6, 5, linear),
			kind("bn", runtime.NewBatchNormalization(vec(5, 0.5, 1.5), vec(5, -0.3, 0.3), vec(5, -0.5, 0.5), vec(5, 0.5, 2), 1e-3)),
			{Name: "relu", Type: runtime.ActivationLayer, Class: "Activation", Act: relu},
			dense("dense_1", 5, 6, relu),
			kind("bn_1", runtime.NewBatchNormalization(nil, nil, vec(6, -0.5, 0.5), vec(6, 0.5, 2), 0.01)),
			dense("dense_2", 6, 4, linear),
		}},
		{Name: "k_ln", Input: []int{6}, Layers: []*runtime.Layer{
			dense("dense", 6, 5, relu),
			kind("ln", runtime.NewLayerNormalization(vec(5, 0.5, 1.5), vec(5, -0.3, 0.3), 1e-3)),
			dense("dense_1", 5, 6, linear),
			kind("ln_1", runtime.NewLayerNormalization(nil, vec(6, -0.3, 0.3), 1e-5)),
		}},
		{Name: "k_norm", Input: []int{6}, Layers: []*runtime.Layer{
			kind("norm", newKind("Normalization", map[string]any{"mean": list(vec(6, -1, 1)), "variance": list(vec(6, 0.5, 4))})),
			dense("dense", 6, 5, relu),
			dense("dense_1", 5, 6, linear),
			kind("norm_1", newKind("Normalization", map[string]any{"mean": list(vec(6, -1, 1)), "variance": list(vec(6, 0.5, 4)), "invert": true})),
		}},
		{Name: "k_unit", Input: []int{6}, Layers: []*runtime.Layer{
			kind("rescaling", newKind("Rescaling", map[string]any{"scale": 0.25, "offset": -0.5})),
			dense("dense", 6, 5, runtime.Act(runtime.Tanh)),
			kind("unit", newKind("UnitNormalization", nil)),
			dense("dense_1", 5, 6, linear),
			kind("rescaling_1", newKind("Rescaling", map[string]any{"scale": list(vec(6, 0.5, 2)), "offset": 0.1})),
		}},
		// tf-keras's UnitNormalization (tf.math.l2_normalize: Σx² bounded
		// by 1e-12, as tf2onnx_tk2_unit imports); its first input rows are
		// scaled so that Σx² falls below the bound.
		{Name: "k_unit_tf", Input: []int{6}, Layers: []*runtime.Layer{
			kind("unit", &runtime.UnitNormalization{Axis: -1, Epsilon: 1e-12}),
			dense("dense", 6, 5, runtime.Act(runtime.Tanh)),
		}},
	}
	var cs []conformance.Case
	for _, m := range models {
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		const n = 6
		x := vec(n*m.InputWidth(), -2, 2)
		if m.Name == "k_unit_tf" {
			for i := range 2 * m.InputWidth() {
				x[i] *= []float32{1e-7, 1e-8}[i/m.InputWidth()]
			}
		}
		cs = append(cs, conformance.Case{Name: m.Name, Model: m, X: x, N: n, Want: conformance.Reference(m, x, n)})
	}
	return cs
}

// TestKindsReference compares aekit's forward pass of the kinds with the
// float64 reference (conformance.Reference, which computes each kind from
// its behaviour: Affine or RowNorm).
func TestKindsReference(t *testing.T) {
	for _, c := range kindCases(t) {
		got, err := c.Model.Predict(nil, c.X)
		if err != nil {
			t.Fatal(err)
		}
		if err := conformance.Compare(got, c.Want, interopATol, interopRTol); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
		t.Logf("%s: normwise %.3g vs the float64 reference", c.Name, conformance.Normwise(got, c.Want))
	}
}

// TestKindsONNXRuntime exports the kind models at every opset Write
// targets (LayerNormalization as the op from opset 17, as its expansion
// below; BatchNormalization as its op; the other affine kinds as Mul and
// Add) and, with FoldAffine, at opsets
// 13 and 17, and runs them all in ONNX Runtime (Python), which must agree
// with aekit within 1e-6 + 1e-5·|want| (and 1e-6 normwise). The onnx
// checker (full_check) must accept every file.
func TestKindsONNXRuntime(t *testing.T) {
	interop.Python(t, "onnxruntime")
	dir := t.TempDir()
	cs := kindCases(t)
	cases := ortCasesOf(t, dir, allOpsets(), cs, nil)
	plain := len(cases)
	fdir := filepath.Join(dir, "fold")
	cases = append(cases, ortCasesOf(t, mkdir(t, fdir), []int{13, 17}, cs, &ExportOptions{FoldAffine: true})...)
	jobs := make([]interop.ORTJob, len(cases))
	files := make([]string, len(cases))
	for i, c := range cases {
		jobs[i], files[i] = c.job, c.job.Model
	}
	res := interop.ORT(t, dir, jobs)
	checkORT(t, "onnxruntime (Python), kinds", cases[:plain], res)
	checkORT(t, "onnxruntime (Python), kinds with FoldAffine", cases[plain:], res)
	for _, f := range interop.CheckONNX(t, files) {
		t.Error(f)
	}
	// Folded against not folded, both in ONNX Runtime.
	for _, c := range cases[plain:] {
		name := c.name
		var twin *ortCase
		for _, p := range cases[:plain] {
			if p.name == name {
				twin = p
			}
		}
		_, got, err := readNpy(c.job.Output)
		if err != nil {
			t.Fatal(err)
		}
		_, ref, err := readNpy(twin.job.Output)
		if err != nil {
			t.Fatal(err)
		}
		var maxAbs, maxRel float64
		for i := range got {
			d := math.Abs(float64(got[i]) - float64(ref[i]))
			maxAbs = max(maxAbs, d)
			if math.Abs(float64(ref[i])) >= 1e-3 {
				maxRel = max(maxRel, d/math.Abs(float64(ref[i])))
			}
		}
		t.Logf("%s: FoldAffine vs not folded (BatchNormalization op, Mul/Add), both in ONNX Runtime: max |Δ| %.3g, max rel %.3g", name, maxAbs, maxRel)
	}
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// kindReadSkips lists the kind exports Read does not read back, by case
// and opset range, with the reason.
var kindReadSkips = map[string]string{}

// TestKindsReadBack reads the kind exports back (Read) at every opset and
// compares the imported model's outputs with aekit's (1e-6 + 1e-5·|want|).
func TestKindsReadBack(t *testing.T) {
	for _, c := range kindCases(t) {
		if why := kindReadSkips[c.Name]; why != "" {
			t.Logf("%s: skipped: %s", c.Name, why)
			continue
		}
		want, err := c.Model.Predict(nil, c.X)
		if err != nil {
			t.Fatal(err)
		}
		for _, opset := range allOpsets() {
			for _, fold := range []bool{false, true} {
				b, err := Marshal(c.Model, &ExportOptions{Opset: opset, FoldAffine: fold})
				if err != nil {
					t.Fatal(err)
				}
				m, _, err := Unmarshal(b)
				if err != nil {
					t.Errorf("%s opset %d fold %v: %v", c.Name, opset, fold, err)
					continue
				}
				got, err := m.Predict(nil, c.X)
				if err != nil {
					t.Fatal(err)
				}
				if err := conformance.Compare(got, want, interopATol, interopRTol); err != nil {
					t.Errorf("%s opset %d fold %v: %v", c.Name, opset, fold, err)
				}
				// BatchNormalization is written as the op of that name,
				// so aekit's file restores the layers.
				if c.Name == "k_bn" && !fold {
					if err := sameStructure(m, c.Model); err != nil {
						t.Errorf("%s opset %d: %v", c.Name, opset, err)
					}
				}
				// UnitNormalization (ReduceSumSquare, Max, Sqrt, Div)
				// comes back as one layer.
				if c.Name == "k_unit" && !strings.Contains(layerSummary(m), "Dense:tanh UnitNormalization Dense") {
					t.Errorf("%s opset %d fold %v: layers %q, want a UnitNormalization after the tanh Dense", c.Name, opset, fold, layerSummary(m))
				}
			}
		}
	}
}
