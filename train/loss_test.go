package train

import (
	"math"
	"testing"

	"github.com/aekit/aekit/runtime"
)

// TestBCEForms checks binary cross-entropy on probabilities in Keras 3's
// and Keras 2's forms against the formulas evaluated in float64, on a
// hard_sigmoid output with values saturated at exactly 0 and 1, where the
// forms differ, and checks that a sigmoid output gives the same loss in
// both forms (from the logits).
func TestBCEForms(t *testing.T) {
	const in, out, n = 3, 4, 2
	// Output j's bias pushes it into saturation: −4 → 0, +4 → 1.
	m := &runtime.Model{Name: "m", Input: []int{in}, Layers: []*runtime.Layer{
		{Name: "d", Type: runtime.Dense, In: in, Units: out, Act: runtime.Act(runtime.HardSigmoid),
			Kernel: []float32{0.1, -0.2, 0.3, 0.05, 0.2, 0.1, -0.1, 0.2, -0.3, 0.1, 0.2, -0.1},
			Bias:   []float32{-4, 4, 0.1, -0.2}},
	}}
	x := []float32{0.5, 0.2, 0.9, 0.1, 0.7, 0.3}
	y := []float32{0.3, 0.6, 0.5, 0, 1, 0, 0.25, 0.75}
	p, err := m.Predict(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	if p[0] != 0 || p[1] != 1 {
		t.Fatalf("outputs %v: want the first two saturated at 0 and 1", p[:2])
	}
	eps := float64(float32(bceEpsilon))
	want := func(keras2 bool) float64 {
		var s float64
		e := 0.0
		if keras2 {
			e = eps
		}
		for i, v := range p {
			c := min(max(float64(v), eps), float64(float32(1-bceEpsilon)))
			ti := float64(y[i])
			s -= ti*math.Log(c+e) + (1-ti)*math.Log(1-c+e)
		}
		return s / float64(len(p))
	}
	for _, c := range []struct {
		loss   Loss
		keras2 bool
	}{{BinaryCrossentropy, false}, {BinaryCrossentropyKeras2, true}} {
		got, err := Evaluate(m, x, y, n, c.loss, n)
		if err != nil {
			t.Fatal(err)
		}
		if w := want(c.keras2); math.Abs(got-w) > 1e-6*w {
			t.Errorf("%v: loss %.9g, want %.9g", c.loss, got, w)
		}
	}
	k3, _ := Evaluate(m, x, y, n, BinaryCrossentropy, n)
	k2, _ := Evaluate(m, x, y, n, BinaryCrossentropyKeras2, n)
	if !(math.Abs(k3-k2) > 0.01*k3) {
		t.Errorf("Keras 3 form %g and Keras 2 form %g should differ on saturated outputs", k3, k2)
	}
	m.Layers[0].Act = runtime.Act(runtime.Sigmoid)
	s3, _ := Evaluate(m, x, y, n, BinaryCrossentropy, n)
	s2, _ := Evaluate(m, x, y, n, BinaryCrossentropyKeras2, n)
	if s3 != s2 {
		t.Errorf("sigmoid output: Keras 3 form %g, Keras 2 form %g; both compute from the logits", s3, s2)
	}
	if BinaryCrossentropy.Keras2() != BinaryCrossentropyKeras2 || MeanSquaredError.Keras2() != MeanSquaredError {
		t.Error("Loss.Keras2 maps wrongly")
	}
}
