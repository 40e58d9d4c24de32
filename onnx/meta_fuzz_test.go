package onnx

import (
	"errors"
	"testing"

	"github.com/aekit/aekit/runtime"
)

// FuzzCheckMeta checks the parser of the self-check metadata
// (aekit.check.shape, .input, .output) and SelfCheckDataFor: no panic,
// ErrFormat or ErrCheck on bad metadata, and data that fits the model
// otherwise.
func FuzzCheckMeta(f *testing.F) {
	f.Add("n=1;input=3;output=2", encodeF32([]float32{1, 2, 3}), encodeF32([]float32{1, 2}))
	f.Add("n=1;input=6;output=1", encodeF32(make([]float32, 6)), encodeF32([]float32{1}))
	f.Add("n=2;input=1x3;output=2", encodeF32(make([]float32, 6)), encodeF32(make([]float32, 4)))
	m := &runtime.Model{Input: []int{3}, Layers: []*runtime.Layer{{Name: "d", Type: runtime.Dense, In: 3, Units: 2,
		Kernel: make([]float32, 6), Bias: make([]float32, 2), Act: runtime.Act(runtime.Linear)}}}
	f.Fuzz(func(t *testing.T, shape, in, out string) {
		c, err := parseCheck(map[string]string{MetaCheckShape: shape, MetaCheckInput: in, MetaCheckOutput: out})
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error does not wrap ErrFormat: %v", err)
			}
			return
		}
		if c == nil {
			t.Fatal("no data and no error")
		}
		x, want, n, err := SelfCheckDataFor(m, &Info{Check: c})
		if err != nil {
			if !errors.Is(err, ErrCheck) {
				t.Fatalf("error does not wrap ErrCheck: %v", err)
			}
			return
		}
		if len(x) != 3*n || len(want) != 2*n {
			t.Fatalf("%d samples, %d inputs, %d outputs for a 3→2 model", n, len(x), len(want))
		}
		if _, err := SelfCheck(m, &Info{Check: c}); err != nil && !errors.Is(err, ErrCheck) {
			t.Fatalf("SelfCheck: %v", err)
		}
	})
}
