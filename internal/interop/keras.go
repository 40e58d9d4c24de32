package interop

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/runtime"
)

// Keras loaders of KerasLoad.
const (
	// Keras3 is keras.saving.load_model of Keras 3.
	Keras3 = "keras"
	// TFKeras is tf_keras.models.load_model (the Keras 2 API).
	TFKeras = "tf_keras"
)

// KerasCase asks real Keras to load one model file.
type KerasCase struct {
	File   string `json:"file"`
	Loader string `json:"loader"` // Keras3 or TFKeras
	Input  string `json:"input"`  // a float32 .npy of input rows
	// Fit asks for compile(optimizer='adam', loss='binary_crossentropy')
	// and one epoch of fit on the input rows.
	Fit bool `json:"fit"`
}

// KerasLayer is a layer, or a nested model, as Keras loaded it.
type KerasLayer struct {
	Name       string         `json:"name"`
	Class      string         `json:"class"`
	Activation any            `json:"activation"` // serialized: a name, an object, or nil
	Params     map[string]any `json:"params"`     // activation layers' parameters
	// Regularizers are the layer's kernel_regularizer, bias_regularizer
	// and activity_regularizer as Keras holds them (nil: none).
	Regularizers map[string]*KerasRegularizer `json:"regularizers"`
	Layers       []*KerasLayer                `json:"layers"` // set for nested models
	// Trainable is layer.trainable after loading (nil in an old result).
	Trainable *bool `json:"trainable"`
}

// KerasRegularizer is an L1/L2 regulariser as Keras reports it.
type KerasRegularizer struct {
	Class string  `json:"class"`
	L1    float64 `json:"l1"`
	L2    float64 `json:"l2"`
}

// KerasResult is what Keras reported for one KerasCase (see
// tools/python/keras_load_check.py).
type KerasResult struct {
	File        string      `json:"file"`
	Loader      string      `json:"loader"`
	Error       *string     `json:"error"`
	Trace       string      `json:"trace"`
	Output      any         `json:"output"` // nested lists of numbers, one per input row
	Tree        *KerasLayer `json:"tree"`
	CountParams int         `json:"count_params"`
	// TrainableParams is the number of values in model.trainable_weights
	// (nil in an old result).
	TrainableParams *int     `json:"trainable_params"`
	Summary         *string  `json:"summary"`
	FitError        *string  `json:"fit_error"`
	FitLoss         *float64 `json:"fit_loss"`
}

// KerasLoad loads every case's file in real Keras, in one Python process
// of the reference environment (TensorFlow takes seconds to import), and
// returns Keras's report of each, in order. A missing environment skips
// t, or fails it under AEKIT_INTEROP=1.
func KerasLoad(t testing.TB, cases []KerasCase) []KerasResult {
	t.Helper()
	py := Python(t, "keras", "tf_keras", "numpy")
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	req := filepath.Join(t.TempDir(), "request.json")
	if err := os.WriteFile(req, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := Run(t, py, filepath.Join(root, "tools", "python", "keras_load_check.py"), req)
	var res struct {
		Versions map[string]string `json:"versions"`
		Results  []KerasResult     `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("keras_load_check.py output: %v", err)
	}
	if len(res.Results) != len(cases) {
		t.Fatalf("keras_load_check.py answered %d of %d cases", len(res.Results), len(cases))
	}
	t.Logf("judged by keras %s, tf_keras %s, tensorflow %s", res.Versions["keras"], res.Versions["tf_keras"], res.Versions["tensorflow"])
	return res.Results
}

// Problems lists how the model Keras loaded differs from m, which wrote
// the file: Keras's predict on the case's input rows x against want (m's
// output, normwise within tol: max|Δ| / max|want|), the layer names,
// classes and activations, nested model names, count_params, whether
// summary ran, and, when the case asked for it, whether fit ran; also
// which layers are trainable (Keras's layer.trainable against m's frozen
// layers, runtime.Model.FrozenLayers) and the number of trainable values
// (len of model.trainable_weights' values against m.TrainableParams()).
// Empty means Keras loaded m exactly.
func (r *KerasResult) Problems(m *runtime.Model, want []float32, tol float64, fit bool) []string {
	if r.Error != nil {
		return []string{fmt.Sprintf("%s cannot load it: %s", r.Loader, firstLines(*r.Error, 3))}
	}
	var p []string
	if nw := r.Normwise(want); !(nw <= tol) {
		p = append(p, fmt.Sprintf("predict differs from aekit: normwise %.3g > %g (%d values, %d wanted)", nw, tol, len(flatten(r.Output, nil)), len(want)))
	}
	if r.CountParams != m.Params() {
		p = append(p, fmt.Sprintf("count_params() = %d, aekit has %d", r.CountParams, m.Params()))
	}
	if r.TrainableParams != nil && *r.TrainableParams != m.TrainableParams() {
		p = append(p, fmt.Sprintf("trainable weights hold %d values, aekit trains %d", *r.TrainableParams, m.TrainableParams()))
	}
	if r.Summary == nil || !strings.Contains(*r.Summary, "Total params") {
		p = append(p, "model.summary() printed no total")
	}
	if fit {
		switch {
		case r.FitError != nil:
			p = append(p, "fit failed: "+*r.FitError)
		case r.FitLoss == nil || math.IsNaN(*r.FitLoss) || math.IsInf(*r.FitLoss, 0):
			p = append(p, fmt.Sprintf("fit gave loss %v", r.FitLoss))
		}
	}
	if r.Tree == nil {
		return append(p, "no layer tree")
	}
	if m.Name != "" && r.Tree.Name != m.Name {
		p = append(p, fmt.Sprintf("model name %q, aekit wrote %q", r.Tree.Name, m.Name))
	}
	return append(p, sameLayers(r.Tree.Name, r.Tree.Layers, m, m.FrozenLayers())...)
}

// Normwise returns max|Δ| / max|want| between Keras's predict and want
// (+Inf when Keras gave no output or another number of values).
func (r *KerasResult) Normwise(want []float32) float64 {
	return conformance.Normwise(flatten(r.Output, nil), want)
}

// flatten appends the numbers of nested lists v to dst in order.
func flatten(v any, dst []float32) []float32 {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			dst = flatten(e, dst)
		}
	case float64:
		dst = append(dst, float32(x))
	}
	return dst
}

// firstLines returns the first n lines of s, each cut at 600 bytes.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	for i, l := range lines {
		if len(l) > 600 {
			lines[i] = l[:600] + "…"
		}
	}
	return strings.Join(lines, "\n\t\t")
}

// sameLayers compares Keras's layers of the model called path with m's;
// frozen holds the layers of the whole model that are frozen.
func sameLayers(path string, kl []*KerasLayer, m *runtime.Model, frozen map[*runtime.Layer]bool) []string {
	if len(kl) != len(m.Layers) {
		var names []string
		for _, l := range kl {
			names = append(names, l.Name+":"+l.Class)
		}
		return []string{fmt.Sprintf("%s: Keras has %d layers (%s), aekit %d (%s)", path, len(kl), strings.Join(names, ", "), len(m.Layers), strings.Join(layerNames(m), ", "))}
	}
	var p []string
	for i, l := range m.Layers {
		k := kl[i]
		where := path + "/" + k.Name
		if l.Name != "" && k.Name != l.Name {
			p = append(p, fmt.Sprintf("%s: layer %d is %q in Keras, %q in aekit", path, i, k.Name, l.Name))
		}
		if l.Type == runtime.SubModel {
			if k.Layers == nil {
				p = append(p, fmt.Sprintf("%s: a %s in Keras, a nested model in aekit", where, k.Class))
				continue
			}
			// Not the nested model's own flag: Keras 3 builds a
			// Sequential as trainable whatever its config says; its
			// layers say it.
			p = append(p, sameLayers(where, k.Layers, l.Sub, frozen)...)
			continue
		}
		if err := sameLayer(k, l); err != "" {
			p = append(p, where+": "+err)
		}
		if k.Trainable != nil && *k.Trainable == frozen[l] {
			p = append(p, fmt.Sprintf("%s: trainable %v in Keras, frozen %v in aekit", where, *k.Trainable, frozen[l]))
		}
	}
	return p
}

func layerNames(m *runtime.Model) []string {
	var s []string
	for _, l := range m.Layers {
		s = append(s, l.Name)
	}
	return s
}

// sameLayer compares one layer's class and activation.
func sameLayer(k *KerasLayer, l *runtime.Layer) string {
	switch l.Type {
	case runtime.Dense:
		if k.Class != "Dense" {
			return "class " + k.Class + ", want Dense"
		}
		if d := sameRegularizers(k.Regularizers, l.Reg); d != "" {
			return d
		}
		return sameActivation(k.Activation, l.Act)
	case runtime.ActivationLayer:
		switch k.Class {
		case "Activation":
			return sameActivation(k.Activation, l.Act)
		case "ReLU", "LeakyReLU", "ELU", "ThresholdedReLU", "Softmax":
			return sameActivation(map[string]any{"class_name": k.Class, "config": k.Params}, l.Act)
		}
		return "class " + k.Class + " is not an activation layer"
	case runtime.Identity:
		if l.Class != "" && k.Class != l.Class {
			return "class " + k.Class + ", aekit has " + l.Class
		}
	case runtime.Reshape:
		if k.Class != "Flatten" && k.Class != "Reshape" {
			return "class " + k.Class + ", want Flatten or Reshape"
		}
	case runtime.Other:
		if l.Kind != nil && k.Class != l.Kind.Class() {
			return "class " + k.Class + ", want " + l.Kind.Class()
		}
	}
	return ""
}

// sameRegularizers compares Keras's regularisers of a Dense layer with
// r's: each factor within float32 rounding (Keras keeps them as float32
// in some versions), a missing one equal to a zero one.
func sameRegularizers(k map[string]*KerasRegularizer, r *runtime.Regularizers) string {
	if k == nil {
		return "" // an old result without regularisers
	}
	var want runtime.Regularizers
	if r != nil {
		want = *r
	}
	for _, c := range []struct {
		key string
		reg runtime.Regularizer
	}{{"kernel_regularizer", want.Kernel}, {"bias_regularizer", want.Bias}, {"activity_regularizer", want.Activity}} {
		var got runtime.Regularizer
		if kr := k[c.key]; kr != nil {
			got = runtime.Regularizer{L1: kr.L1, L2: kr.L2}
		}
		near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-7*math.Abs(b) }
		if !near(got.L1, c.reg.L1) || !near(got.L2, c.reg.L2) {
			return fmt.Sprintf("%s: Keras has l1=%g l2=%g, aekit l1=%g l2=%g", c.key, got.L1, got.L2, c.reg.L1, c.reg.L2)
		}
	}
	return ""
}

// aliases maps Keras activation names to aekit's.
var aliases = map[string]string{"silu": "swish", "softmax_v2": "softmax", "log_softmax_v2": "log_softmax"}

// sameActivation compares a serialized Keras activation with a.
func sameActivation(v any, a runtime.Activation) string {
	switch x := v.(type) {
	case string:
		name := x
		if n, ok := aliases[name]; ok {
			name = n
		}
		want := a.Func.String()
		if n, ok := aliases[want]; ok {
			want = n
		}
		parametrized := (a.Func == runtime.ReLU && (a.Alpha != 0 || a.Threshold != 0 || a.Capped)) ||
			(a.Func == runtime.ELU && a.Alpha != 1)
		if name != want || parametrized {
			return fmt.Sprintf("activation %q, aekit has %v", x, a)
		}
		return ""
	case map[string]any:
		class, _ := x["class_name"].(string)
		if name, ok := x["config"].(string); ok && (class == "function" || class == "Function") {
			// tf-keras serializes a function it found outside its
			// activations module (log_softmax) this way.
			return sameActivation(name, a)
		}
		c, _ := x["config"].(map[string]any)
		num := func(keys ...string) (float32, bool) {
			for _, k := range keys {
				if f, ok := c[k].(float64); ok {
					return float32(f), true
				}
			}
			return 0, false
		}
		bad := fmt.Sprintf("activation %s %v, aekit has %v", class, c, a)
		switch class {
		case "ReLU":
			slope, _ := num("negative_slope")
			th, _ := num("threshold")
			mv, capped := num("max_value")
			want := a
			if a.Func == runtime.ReLU6 {
				want = runtime.Activation{Func: runtime.ReLU, Capped: true, MaxValue: 6}
			}
			if want.Func != runtime.ReLU || slope != want.Alpha || th != want.Threshold || capped != want.Capped || capped && mv != want.MaxValue {
				return bad
			}
		case "ThresholdedReLU":
			th, _ := num("theta")
			if a.Func != runtime.ReLU || a.Alpha != 0 || a.Capped || th != a.Threshold {
				return bad
			}
		case "LeakyReLU":
			s, ok := num("negative_slope", "alpha")
			if a.Func != runtime.LeakyReLU || !ok || s != a.Alpha {
				return bad
			}
		case "ELU":
			al, ok := num("alpha")
			if a.Func != runtime.ELU || !ok || al != a.Alpha {
				return bad
			}
		case "Softmax":
			if a.Func != runtime.Softmax {
				return bad
			}
		default:
			return bad
		}
		return ""
	case nil:
		if a.Func != runtime.Linear {
			return fmt.Sprintf("no activation, aekit has %v", a)
		}
		return ""
	}
	return fmt.Sprintf("activation %v, aekit has %v", v, a)
}

// AsKeras3ReadsH5 changes m in place into the model Keras 3 sees when it
// loads m from a Keras 2-layout .h5: Keras 3 reads the name "hard_sigmoid"
// there as its own relu6(x+3)/6, not as the Keras 2 clip(0.2x+0.5, 0, 1)
// the layout means (it does the same with a .h5 that tf-keras wrote). It
// reports whether anything changed.
func AsKeras3ReadsH5(m *runtime.Model) bool {
	changed := false
	k2 := runtime.Act(runtime.HardSigmoid)
	m.Walk(func(_ []string, l *runtime.Layer) {
		if l.Act.Func == runtime.HardSigmoid && l.Act.Alpha == k2.Alpha && l.Act.Beta == k2.Beta {
			l.Act = runtime.HardSigmoidKeras3
			changed = true
		}
	})
	return changed
}

// Tally counts, per loader and file kind ("keras .h5"), the files Keras
// loaded exactly and the worst normwise agreement of their predict, for a
// test's log.
type Tally map[string]*TallyEntry

// TallyEntry is one row of a Tally.
type TallyEntry struct {
	Files    int
	Normwise float64 // the largest
}

// Add counts one file under key with its normwise agreement.
func (ty Tally) Add(key string, normwise float64) {
	e := ty[key]
	if e == nil {
		e = &TallyEntry{}
		ty[key] = e
	}
	e.Files++
	e.Normwise = math.Max(e.Normwise, normwise)
}

// Log writes the tally to tb's log, one line per key in order.
func (ty Tally) Log(tb testing.TB, what string) {
	tb.Helper()
	keys := make([]string, 0, len(ty))
	for k := range ty {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		tb.Logf("%s: %d %s load exactly; predict within %.3g normwise of aekit", k, ty[k].Files, what, ty[k].Normwise)
	}
}
