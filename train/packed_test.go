package train_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

// TestPredictDuringAndAfterFit checks that Predict follows the weights
// training changes in place: called from OnBatch (after each update) and
// after Fit, its outputs match the float64 reference of the current
// weights (Predict multiplies with weights it packed earlier and must
// notice they changed).
func TestPredictDuringAndAfterFit(t *testing.T) {
	m, err := train.Build(20, train.MustParseArch("8:relu|20:sigmoid"), "glorot_uniform", 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2, 2))
	const n = 64
	x := make([]float32, n*20)
	for i := range x {
		x[i] = r.Float32()
	}
	probe := x[:runtime.PackedMinRows*20] // large enough for packed weights
	check := func(when string) {
		got, err := m.Predict(nil, probe)
		if err != nil {
			t.Fatal(err)
		}
		if err := conformance.Compare(got, conformance.Reference(m, probe, runtime.PackedMinRows), 0, 0); err != nil {
			t.Fatalf("%s: Predict does not match the current weights: %v", when, err)
		}
	}
	check("before Fit")
	batches := 0
	_, err = train.Fit(context.Background(), m, train.XY(x, m.InputWidth(), nil, 0), train.Set{}, train.Config{
		Optimizer: &train.Adam{LR: 0.05}, Loss: train.BinaryCrossentropy, Epochs: 2, BatchSize: 16, NoShuffle: true, Seed: 1,
		OnBatch: func(train.BatchLog) { batches++; check("in OnBatch") },
	})
	if err != nil {
		t.Fatal(err)
	}
	if batches != 8 {
		t.Fatalf("%d batches, want 8", batches)
	}
	check("after Fit")
}
