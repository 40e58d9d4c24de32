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
	}
}
