package interop

import (
	"testing"

	"github.com/aekit/aekit/runtime"
)

// TestSameRegularizers: the live judge's comparison of Keras's
// regularisers with aekit's tells a difference in any factor, a missing
// one and an extra one, and accepts float32 rounding (tf-keras reports
// its factors as float32 values).
func TestSameRegularizers(t *testing.T) {
	r := &runtime.Regularizers{Kernel: runtime.Regularizer{L1: 1e-5}, Activity: runtime.Regularizer{L2: 1e-3}}
	k := map[string]*KerasRegularizer{
		"kernel_regularizer":   {Class: "L1L2", L1: float64(float32(1e-5))},
		"bias_regularizer":     nil,
		"activity_regularizer": {Class: "L1L2", L2: 1e-3},
	}
	if d := sameRegularizers(k, r); d != "" {
		t.Errorf("same regularisers: %s", d)
	}
	for name, bad := range map[string]map[string]*KerasRegularizer{
		"factor":  {"kernel_regularizer": {L1: 2e-5}, "activity_regularizer": {L2: 1e-3}},
		"missing": {"kernel_regularizer": {L1: 1e-5}},
		"extra":   {"kernel_regularizer": {L1: 1e-5}, "bias_regularizer": {L2: 1}, "activity_regularizer": {L2: 1e-3}},
	} {
		if d := sameRegularizers(bad, r); d == "" {
			t.Errorf("%s: no difference reported", name)
		}
	}
	if d := sameRegularizers(map[string]*KerasRegularizer{"kernel_regularizer": {L1: 1}}, nil); d == "" {
		t.Error("a regulariser aekit has not: no difference reported")
	}
}
