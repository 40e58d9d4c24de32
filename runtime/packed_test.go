package runtime_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aekit/aekit/internal/conformance"
	"github.com/aekit/aekit/internal/kernel"
	"github.com/aekit/aekit/runtime"
)

// TestParallelBitIdentical checks that, with the packed micro-kernels,
// splitting a batch over 1–4 goroutines gives exactly Predict's bits:
// every element of a product is one chain of multiply-adds whatever rows
// share its tile. Without an assembly micro-kernel (Gemm runs)
// TestParallelMatchesPredict's tolerance applies instead.
func TestParallelBitIdentical(t *testing.T) {
	if !kernel.PackedAsm() {
		t.Skip("no assembly micro-kernel here: Predict runs Gemm (see TestParallelMatchesPredict)")
	}
	r := rand.New(rand.NewPCG(6, 6))
	for _, bm := range benchModels {
		m := autoencoder(bm, 4)
		for _, n := range []int{runtime.PackedMinRows, 100, 256, 1000} {
			x := randRows(r, n, m.InputWidth())
			want, err := m.Predict(nil, x)
			if err != nil {
				t.Fatal(err)
			}
			for threads := 1; threads <= 4; threads++ {
				p := runtime.NewParallel(m, threads)
				got, err := p.Predict(nil, x)
				p.Close()
				if err != nil {
					t.Fatal(err)
				}
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s batch %d threads %d: value %d: %v, Predict %v", bm.name, n, threads, i, got[i], want[i])
					}
				}
			}
			// Nor on the batch, from PackedMinRows rows on.
			k := runtime.PackedMinRows
			last, _ := m.Predict(nil, x[(n-k)*m.InputWidth():])
			ow := m.OutputWidth()
			for j := range last {
				if math.Float32bits(last[j]) != math.Float32bits(want[(n-k)*ow+j]) {
					t.Fatalf("%s: last %d rows alone differ from their batch of %d at output %d", bm.name, k, n, j)
				}
			}
		}
	}
}

// TestPredictSeesWeightChanges checks that the packed weights follow the
// model: a Kernel slice replaced by another, values changed in place (even
// one) and biases changed in place are all seen by the next Predict, whose
// outputs match the float64 reference of the new weights.
func TestPredictSeesWeightChanges(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	m := autoencoder(benchModels[1], 5)
	x := randRows(r, runtime.PackedMinRows+8, m.InputWidth())
	check := func(what string) {
		t.Helper()
		got, err := m.Predict(nil, x)
		if err != nil {
			t.Fatal(err)
		}
		if err := conformance.Compare(got, conformance.Reference(m, x, runtime.PackedMinRows+8), 0, 0); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	check("first pass")
	l := m.Layers[0].Sub.Layers[0]
	w := append([]float32(nil), l.Kernel...)
	for i := range w {
		w[i] = -w[i]
	}
	l.Kernel = w
	check("after replacing a Kernel slice")
	for i := range l.Kernel {
		l.Kernel[i] *= 0.5
	}
	check("after changing a Kernel in place")
	m.Layers[1].Sub.Layers[0].Kernel[77] += 10
	check("after changing one weight in place")
	m.Layers[1].Sub.Layers[0].Bias[3] += 1
	check("after changing a bias in place (biases are read, not packed)")
}

// TestParallelKeepsItsPacks checks Parallel's documented contract: it
// packs on its first large batch and keeps those weights (a Parallel made
// after an in-place change sees the change), while replaced layers are
// noticed.
func TestParallelKeepsItsPacks(t *testing.T) {
	if !kernel.PackedAsm() {
		t.Skip("no assembly micro-kernel here: Parallel runs Gemm on the live weights")
	}
	r := rand.New(rand.NewPCG(10, 10))
	m := autoencoder(benchModels[1], 7)
	n := runtime.PackedMinRows
	x := randRows(r, n, m.InputWidth())
	p := runtime.NewParallel(m, 2)
	defer p.Close()
	before, _ := p.Predict(nil, x)
	l := m.Layers[0].Sub.Layers[0]
	for i := range l.Kernel {
		l.Kernel[i] *= 0.5
	}
	again, _ := p.Predict(nil, x)
	for i := range before {
		if math.Float32bits(again[i]) != math.Float32bits(before[i]) {
			t.Fatalf("value %d changed: %v then %v; the Parallel should keep its packed weights", i, before[i], again[i])
		}
	}
	q := runtime.NewParallel(m, 2)
	defer q.Close()
	got, _ := q.Predict(nil, x)
	if err := conformance.Compare(got, conformance.Reference(m, x, n), 0, 0); err != nil {
		t.Fatalf("new Parallel after the change: %v", err)
	}
	// A replaced layer (same place, new *Layer) is noticed by p.
	nl := *l
	nl.Kernel = append([]float32(nil), l.Kernel...)
	m.Layers[0].Sub.Layers[0] = &nl
	got, _ = p.Predict(nil, x)
	if err := conformance.Compare(got, conformance.Reference(m, x, n), 0, 0); err != nil {
		t.Fatalf("after replacing a layer: %v", err)
	}
}

// TestCheckWeightsOff checks the rule of CheckWeights(false): in-place
// Kernel changes are not looked at until WeightsChanged (the packed
// weights stay those of the first pass, bit for bit), WeightsChanged makes
// the next Predict, and a Parallel's next batch, use the new values, a
// replaced Kernel slice is noticed without it, and CheckWeights(true)
// compares again.
func TestCheckWeightsOff(t *testing.T) {
	if !kernel.PackedAsm() {
		t.Skip("no assembly micro-kernel here: Predict runs Gemm on the live weights")
	}
	r := rand.New(rand.NewPCG(14, 14))
	m := autoencoder(benchModels[1], 9)
	n := runtime.PackedMinRows
	x := randRows(r, n, m.InputWidth())
	m.CheckWeights(false)
	before, err := m.Predict(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		got, err := m.Predict(nil, x)
		if err != nil {
			t.Fatal(err)
		}
		if err := conformance.Compare(got, conformance.Reference(m, x, n), 0, 0); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	l := m.Layers[0].Sub.Layers[0]
	for i := range l.Kernel {
		l.Kernel[i] *= 0.5
	}
	stale, _ := m.Predict(nil, x)
	for i := range before {
		if math.Float32bits(stale[i]) != math.Float32bits(before[i]) {
			t.Fatalf("value %d changed before WeightsChanged: %v then %v", i, before[i], stale[i])
		}
	}
	par := runtime.NewParallel(m, 2)
	defer par.Close()
	_, _ = par.Predict(nil, x) // takes m's packed weights, still the first pass's
	for i := range l.Kernel {
		l.Kernel[i] *= 0.5
	}
	m.WeightsChanged()
	check("after WeightsChanged")
	got, _ := par.Predict(nil, x)
	if err := conformance.Compare(got, conformance.Reference(m, x, n), 0, 0); err != nil {
		t.Fatalf("Parallel after WeightsChanged: %v", err)
	}
	l.Kernel = append([]float32(nil), l.Kernel...)
	for i := range l.Kernel {
		l.Kernel[i] = -l.Kernel[i]
	}
	check("after replacing a Kernel slice")
	m.CheckWeights(true)
	l.Kernel[5] += 3
	check("after CheckWeights(true) and an in-place change")
}
