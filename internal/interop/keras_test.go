package interop

import (
	"strings"
	"testing"

	"github.com/aekit/aekit/runtime"
)

// TestKerasProblems: the judge of Keras's report finds each kind of
// difference, and none in a faithful report.
func TestKerasProblems(t *testing.T) {
	m := &runtime.Model{Name: "ae", Class: "Sequential", Input: []int{2}, Layers: []*runtime.Layer{
		{Name: "d", Type: runtime.Dense, In: 2, Units: 2, Kernel: []float32{1, 0, 0, 1}, Bias: []float32{0, 0}, Act: runtime.Act(runtime.Sigmoid)},
		{Name: "r", Type: runtime.ActivationLayer, Class: "ReLU", Act: runtime.Activation{Func: runtime.ReLU, Capped: true, MaxValue: 0.5}},
	}}
	want := []float32{0.5, 0.25}
	summary := "Total params: 6"
	good := func() *KerasResult {
		loss := 0.5
		return &KerasResult{Loader: Keras3, Output: []any{[]any{0.5, 0.25}}, CountParams: 6, Summary: &summary, FitLoss: &loss,
			Tree: &KerasLayer{Name: "ae", Class: "Sequential", Layers: []*KerasLayer{
				{Name: "d", Class: "Dense", Activation: "sigmoid"},
				{Name: "r", Class: "ReLU", Params: map[string]any{"max_value": 0.5, "negative_slope": 0.0, "threshold": 0.0}},
			}}}
	}
	if p := good().Problems(m, want, 1e-6, true); len(p) != 0 {
		t.Fatalf("faithful report: %q", p)
	}
	errMsg := "ValueError: no"
	for _, c := range []struct {
		what  string
		spoil func(r *KerasResult)
	}{
		{"cannot load", func(r *KerasResult) { r.Error = &errMsg }},
		{"predict differs", func(r *KerasResult) { r.Output = []any{[]any{0.5, 0.250001}} }},
		{"count_params", func(r *KerasResult) { r.CountParams = 4 }},
		{"summary", func(r *KerasResult) { r.Summary = nil }},
		{"fit failed", func(r *KerasResult) { r.FitError = &errMsg }},
		{"model name", func(r *KerasResult) { r.Tree.Name = "other" }},
		{"layer 0", func(r *KerasResult) { r.Tree.Layers[0].Name = "dense" }},
		{"activation", func(r *KerasResult) { r.Tree.Layers[0].Activation = "tanh" }},
		{"activation ReLU", func(r *KerasResult) { r.Tree.Layers[1].Params["max_value"] = 0.6 }},
		{"Keras has 1 layers", func(r *KerasResult) { r.Tree.Layers = r.Tree.Layers[:1] }},
	} {
		r := good()
		c.spoil(r)
		p := r.Problems(m, want, 1e-6, true)
		if len(p) == 0 || !strings.Contains(strings.Join(p, "\n"), c.what) {
			t.Errorf("%s: problems %q", c.what, p)
		}
	}
}
