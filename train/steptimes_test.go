package train

import (
	"context"
	"testing"
	"time"

	"github.com/aekit/aekit/runtime"
)

// TestStepTimes checks what Config.Times receives: one step per training
// batch, the products' FLOPs exactly (forward x·W of every Dense layer,
// δ·Wᵀ of all but the first, xᵀ·δ of the trainable ones, over each
// batch's rows, the last batch short), a product time within the threads'
// share of the steps, phases within the steps' time — and that timing
// changes no weight.
func TestStepTimes(t *testing.T) {
	const width, rows, batch, epochs = 40, 150, 32, 2
	x := randData(7, rows*width)
	for _, threads := range []int{1, 2} {
		fit := func(times *StepTimes) *runtime.Model {
			m, err := buildSpec(width, "24:relu,8:relu|24:relu,40:sigmoid", "", 3)
			if err != nil {
				t.Fatal(err)
			}
			m.Layers[1].Frozen = true // the decoder: no xᵀ·δ for its two layers
			cfg := Config{Epochs: epochs, BatchSize: batch, Threads: threads, Seed: 5, ValidationSplit: 0.2, Times: times}
			if _, err := Fit(context.Background(), m, XY(x, width, nil, 0), Set{}, cfg); err != nil {
				t.Fatal(err)
			}
			return m
		}
		var st StepTimes
		timed, plain := fit(&st), fit(nil)
		for i := range plain.Layers {
			for j, w := range plain.Layers[i].Kernel {
				if timed.Layers[i].Kernel[j] != w {
					t.Fatalf("threads=%d: layer %d weight %d differs with Times set", threads, i, j)
				}
			}
		}
		nTrain, _, err := SplitRows(rows, 0.2) // 120: batches of 32, 32, 32, 24
		if err != nil {
			t.Fatal(err)
		}
		steps := epochs * ((nTrain + batch - 1) / batch)
		if st.Steps != steps {
			t.Errorf("threads=%d: %d steps timed, want %d", threads, st.Steps, steps)
		}
		widths := []int{40, 24, 8, 24, 40}
		var perRow float64 // FLOPs per row of a step
		for i := 0; i+1 < len(widths); i++ {
			macs := float64(widths[i] * widths[i+1])
			perRow += 2 * macs // x·W
			if i > 0 {
				perRow += 2 * macs // δ·Wᵀ
			}
			if i < 2 {
				perRow += 2 * macs // xᵀ·δ of the encoder's layers
			}
		}
		if want := perRow * float64(epochs*nTrain); st.ProductFLOPs != want {
			t.Errorf("threads=%d: ProductFLOPs %v, want %v", threads, st.ProductFLOPs, want)
		}
		if st.Products <= 0 || st.Products > time.Duration(threads)*st.Total {
			t.Errorf("threads=%d: Products %v, Total %v", threads, st.Products, st.Total)
		}
		phases := st.Data + st.Forward + st.Loss + st.Backward + st.Weights
		if st.Forward <= 0 || st.Loss <= 0 || st.Backward <= 0 || st.Weights <= 0 || phases > st.Total {
			t.Errorf("threads=%d: phases %+v exceed or miss the steps' %v", threads, st, st.Total)
		}
		if g := st.ProductGFLOPS(); g <= 0 {
			t.Errorf("threads=%d: ProductGFLOPS %v", threads, g)
		}
		// Product by product: each layer's forward product, δ·Wᵀ past
		// the first layer, xᵀ·δ for the encoder's (not frozen) layers,
		// in the step's order, each with its shape's FLOPs over the
		// rows trained, together the totals.
		type want struct {
			kind    string
			m, n, k int
		}
		var wants []want
		for i := 0; i+1 < len(widths); i++ {
			in, out := widths[i], widths[i+1]
			wants = append(wants, want{"forward", batch, out, in})
			if i > 0 {
				wants = append(wants, want{"backward", batch, in, out})
			}
			if i < 2 {
				wants = append(wants, want{"weights", in, out, batch})
			}
		}
		if len(st.ByProduct) != len(wants) {
			t.Fatalf("threads=%d: %d products, want %d: %+v", threads, len(st.ByProduct), len(wants), st.ByProduct)
		}
		var sumT time.Duration
		var sumF float64
		for i, w := range wants {
			p := st.ByProduct[i]
			if p.Kind != w.kind || p.M != w.m || p.N != w.n || p.K != w.k || p.Layer == "" {
				t.Errorf("threads=%d: product %d is %+v, want %+v", threads, i, p, w)
			}
			// The batch's rows are m, or k for a weight gradient.
			f := 2 * float64(w.m*w.n*w.k) / batch * float64(epochs*nTrain)
			if p.FLOPs != f || p.Time <= 0 || p.GFLOPS() <= 0 {
				t.Errorf("threads=%d: product %d (%s %s): %v FLOPs in %v, want %v", threads, i, p.Layer, p.Kind, p.FLOPs, p.Time, f)
			}
			sumT += p.Time
			sumF += p.FLOPs
		}
		if sumT != st.Products || sumF != st.ProductFLOPs {
			t.Errorf("threads=%d: products add up to %v and %v FLOPs, want %v and %v", threads, sumT, sumF, st.Products, st.ProductFLOPs)
		}
	}
}
