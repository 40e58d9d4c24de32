package conformance

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aekit/aekit/internal/tolerance"
	"github.com/aekit/aekit/runtime"
)

// Case is a model, a batch of inputs, and the outputs a float64 reference
// computes for them.
type Case struct {
	Name  string
	Model *runtime.Model
	X     []float32 // N rows of Model.InputWidth() values
	N     int
	Want  []float32 // N rows of Model.OutputWidth() values
}

// Options tunes RoundTrip.
type Options struct {
	// Skip maps a case name to the reason the implementation cannot run it.
	// Every entry must name an existing case.
	Skip map[string]string
	// ATol and RTol bound |got-want| ≤ ATol + RTol·|want|. Zero means the
	// defaults 1e-6 and 1e-5.
	ATol, RTol float64
}

// dense returns a Dense layer with weights drawn from r, scaled like
// glorot_uniform so activations stay in a useful range.
func dense(r *rand.Rand, name string, in, units int, act runtime.Activation, bias bool) *runtime.Layer {
	l := &runtime.Layer{Name: name, Type: runtime.Dense, Class: "Dense", In: in, Units: units, Act: act,
		Kernel: make([]float32, in*units)}
	lim := math.Sqrt(6 / float64(in+units))
	for i := range l.Kernel {
		l.Kernel[i] = float32((2*r.Float64() - 1) * lim)
	}
	if bias {
		l.Bias = make([]float32, units)
		for i := range l.Bias {
			l.Bias[i] = float32(0.2 * (2*r.Float64() - 1))
		}
	}
	return l
}

func seq(name string, in int, layers ...*runtime.Layer) *runtime.Model {
	return &runtime.Model{Name: name, Class: "Sequential", Input: []int{in}, Layers: layers}
}

func sub(m *runtime.Model) *runtime.Layer {
	return &runtime.Layer{Name: m.Name, Type: runtime.SubModel, Class: m.Class, Sub: m}
}

// Activations returns every activation the runtime supports, with
// non-default parameters where the function has them.
func Activations() map[string]runtime.Activation {
	acts := map[string]runtime.Activation{}
	for _, n := range runtime.FuncNames() {
		f, err := runtime.ParseFunc(n)
		if err != nil || n == "silu" || n == "None" {
			continue
		}
		acts[n] = runtime.Act(f)
	}
	acts["relu_capped"] = runtime.Activation{Func: runtime.ReLU, Capped: true, MaxValue: 0.5}
	acts["relu_leaky_threshold"] = runtime.Activation{Func: runtime.ReLU, Alpha: 0.1, Threshold: 0.1}
	acts["relu_all_params"] = runtime.Activation{Func: runtime.ReLU, Alpha: 0.1, Threshold: -0.1, Capped: true, MaxValue: 0.6}
	acts["leaky_relu_0.3"] = runtime.Activation{Func: runtime.LeakyReLU, Alpha: 0.3}
	acts["elu_0.5"] = runtime.Activation{Func: runtime.ELU, Alpha: 0.5}
	acts["hard_sigmoid_keras3"] = runtime.HardSigmoidKeras3
	acts["gelu_tanh"] = runtime.Activation{Func: runtime.GELU, Approximate: true}
	return acts
}

// Cases returns the suite's models. The same call always returns the same
// weights and inputs.
func Cases() []Case {
	r := rand.New(rand.NewPCG(1, 2))
	var cs []Case
	add := func(m *runtime.Model, n int) {
		x := make([]float32, n*m.InputWidth())
		for i := range x {
			x[i] = float32(r.Float64())
		}
		cs = append(cs, Case{Name: m.Name, Model: m, X: x, N: n, Want: Reference(m, x, n)})
	}
	acts := Activations()
	for _, name := range sortedKeys(acts) {
		// Inputs in [0,1) times a kernel in ±0.6 plus bias spread the
		// pre-activations over both signs.
		add(seq("act_"+name, 6, dense(r, "dense", 6, 5, acts[name], true)), 7)
	}
	add(seq("seed", 100,
		dense(r, "dense", 100, 10, runtime.Act(runtime.ReLU), true),
		dense(r, "dense_1", 10, 10, runtime.Act(runtime.ReLU), true),
		dense(r, "dense_2", 10, 100, runtime.Act(runtime.Sigmoid), true),
		dense(r, "dense_3", 100, 100, runtime.Act(runtime.Sigmoid), true)), 5)
	add(seq("ae784", 784,
		dense(r, "encoded", 784, 32, runtime.Act(runtime.ReLU), true),
		dense(r, "decoded", 32, 784, runtime.Act(runtime.Sigmoid), true)), 3)
	enc := seq("encoder", 784,
		dense(r, "enc_1", 784, 128, runtime.Act(runtime.ReLU), true),
		dense(r, "enc_2", 128, 64, runtime.Act(runtime.ReLU), true),
		dense(r, "enc_3", 64, 32, runtime.Act(runtime.ReLU), true))
	dec := seq("decoder", 32,
		dense(r, "dec_1", 32, 64, runtime.Act(runtime.ReLU), true),
		dense(r, "dec_2", 64, 128, runtime.Act(runtime.ReLU), true),
		dense(r, "dec_3", 128, 784, runtime.Act(runtime.Sigmoid), true))
	deep := &runtime.Model{Name: "deep_nested", Class: "Functional", Input: []int{784}, Layers: []*runtime.Layer{sub(enc), sub(dec)}}
	add(deep, 3)
	add(seq("no_bias", 8, dense(r, "dense", 8, 4, runtime.Act(runtime.Tanh), false)), 4)
	add(seq("layers", 12,
		dense(r, "dense", 12, 16, runtime.Activation{}, true),
		&runtime.Layer{Name: "re_lu", Type: runtime.ActivationLayer, Class: "ReLU", Act: runtime.Act(runtime.ReLU)},
		&runtime.Layer{Name: "dropout", Type: runtime.Identity, Class: "Dropout", Rate: 0.2},
		dense(r, "dense_1", 16, 8, runtime.Activation{}, true),
		&runtime.Layer{Name: "leaky_re_lu", Type: runtime.ActivationLayer, Class: "LeakyReLU", Act: runtime.Activation{Func: runtime.LeakyReLU, Alpha: 0.3}},
		dense(r, "dense_2", 8, 6, runtime.Activation{}, true),
		&runtime.Layer{Name: "activation", Type: runtime.ActivationLayer, Class: "Activation", Act: runtime.Act(runtime.Softmax)}), 4)
	return cs
}

func sortedKeys(m map[string]runtime.Activation) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// RoundTrip passes every case's model through fn and checks that the model
// fn returns predicts the reference outputs within tolerance.
func RoundTrip(t *testing.T, fn func(*runtime.Model) (*runtime.Model, error), opt Options) {
	t.Helper()
	cases := Cases()
	names := map[string]bool{}
	for _, c := range cases {
		names[c.Name] = true
	}
	for name := range opt.Skip {
		if !names[name] {
			t.Errorf("skip list names unknown case %q", name)
		}
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if why, ok := opt.Skip[c.Name]; ok {
				t.Skip(why)
			}
			m, err := fn(c.Model)
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			got, err := m.Predict(nil, c.X)
			if err != nil {
				t.Fatalf("%s: Predict: %v", c.Name, err)
			}
			if err := Compare(got, c.Want, opt.ATol, opt.RTol); err != nil {
				t.Errorf("%s: %v", c.Name, err)
			}
		})
	}
}

// Compare returns an error describing the worst element if any |got-want|
// exceeds atol + rtol·|want|, or a NaN or infinity is not matched by the
// same: internal/tolerance's rule. Zero tolerances mean 1e-6 and 1e-5.
func Compare(got, want []float32, atol, rtol float64) error {
	atol, rtol = tolerances(atol, rtol)
	r := tolerance.Compare(got, want, atol, rtol)
	return r.Err(got, want)
}

// CompareRows is Compare with a normwise bound per sample: every
// |got-want| in a row of width values must be within atol + rtol·max|want|
// over that row. Use it where outputs come from sums that cancel (a small
// output of a layer whose terms are large), whose float32 error is
// relative to the terms, not to the result. Zero tolerances mean 1e-6 and
// 1e-5.
func CompareRows(got, want []float32, width int, atol, rtol float64) error {
	atol, rtol = tolerances(atol, rtol)
	if len(got) != len(want) || width <= 0 || len(got)%width != 0 {
		return fmt.Errorf("got %d values, want %d (width %d)", len(got), len(want), width)
	}
	bad, worst, worstErr := 0, -1, 0.0
	for r := 0; r < len(got); r += width {
		scale := 0.0
		for _, w := range want[r : r+width] {
			if v := math.Abs(float64(w)); !math.IsInf(v, 0) && !math.IsNaN(v) {
				scale = math.Max(scale, v)
			}
		}
		// The row's bound is absolute: atol + rtol·scale.
		rep := tolerance.Compare(got[r:r+width], want[r:r+width], atol+rtol*scale, 0)
		if rep.Bad > 0 {
			bad += rep.Bad
			if d := math.Abs(float64(got[r+rep.Worst]) - float64(want[r+rep.Worst])); worst < 0 || !(d <= worstErr) {
				worst, worstErr = r+rep.Worst, d
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d values differ beyond the per-sample bound; worst at %d: got %g, want %g (|Δ|=%.3g)", bad, len(got), worst, got[worst], want[worst], worstErr)
	}
	return nil
}

// Normwise returns the normwise relative error max|got−want| / max|want|
// (max|got−want| itself when want is all zero), over finite pairs. It is
// +Inf when the lengths differ or a NaN or infinity is not matched by the
// same (internal/tolerance's Report.Normwise).
func Normwise(got, want []float32) float64 {
	r := tolerance.Compare(got, want, 0, 0)
	return r.Normwise
}

// ElementRel returns the largest element-wise error in units of the bound
// atol + rtol·|want| that Compare applies: at most 1 when Compare passes.
// Zero tolerances mean 1e-6 and 1e-5.
func ElementRel(got, want []float32, atol, rtol float64) float64 {
	atol, rtol = tolerances(atol, rtol)
	r := tolerance.Compare(got, want, atol, rtol)
	if r.GotLen != r.WantLen || r.NonFiniteBad > 0 {
		return math.Inf(1)
	}
	return r.MaxTolUsed
}

// tolerances applies the defaults 1e-6 and 1e-5 to zero tolerances.
func tolerances(atol, rtol float64) (float64, float64) {
	if atol == 0 {
		atol = 1e-6
	}
	if rtol == 0 {
		rtol = 1e-5
	}
	return atol, rtol
}
