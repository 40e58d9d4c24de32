package runtime_test

import (
	"math"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/runtime"
)

// TestNaNPropagates checks that NaN inputs give NaN outputs through every
// activation (TensorFlow's behaviour; predict passes NaN through and check
// reports it) and that ±Inf follow IEEE arithmetic where the result is
// defined.
func TestNaNPropagates(t *testing.T) {
	nan := float32(math.NaN())
	for name, a := range conformance.Activations() {
		x := []float32{nan, 0.5, nan, -0.5}
		a.Apply(x, 2)
		if !math.IsNaN(float64(x[0])) {
			t.Errorf("%s(NaN) = %g, want NaN", name, x[0])
		}
	}
	relu := runtime.Act(runtime.ReLU)
	x := []float32{float32(math.Inf(-1)), float32(math.Inf(1)), -1}
	relu.Apply(x, 3)
	if x[0] != 0 || !math.IsInf(float64(x[1]), 1) || x[2] != 0 || math.Signbit(float64(x[2])) {
		t.Errorf("relu(-Inf, +Inf, -1) = %v, want [0 +Inf 0]", x)
	}
}
