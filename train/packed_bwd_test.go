package train

import (
	"context"
	"testing"
)

// TestThreadsIdenticalPackedBackward checks that training through the
// packed backward products (δ·Wᵀ against the transposed re-pack, xᵀ·δ
// against g packed by each thread's rows) gives the same bits at 1, 2 and
// 3 threads when the batch's rows are split among the threads (batch 300:
// row blocks of 128 on every thread) and the weight gradients are split
// by rows (784×64, 64×48) and by columns (48×64, and 64×784 as (gᵀ·x)ᵀ).
func TestThreadsIdenticalPackedBackward(t *testing.T) {
	x := randData(11, 600*784)
	var ref []float32
	var refLoss []float64
	for _, threads := range []int{1, 2, 3} {
		m, err := buildSpec(784, "64:relu,48:relu|64:tanh,784:sigmoid", "", 1)
		if err != nil {
			t.Fatal(err)
		}
		h, err := Fit(context.Background(), m, set(x, nil, 600), Set{}, Config{Epochs: 2, BatchSize: 300, Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref, refLoss = flatWeights(m), h.Loss
			continue
		}
		sameBits(t, "weights", ref, flatWeights(m))
		sameFloats(t, "loss", refLoss, h.Loss)
	}
}
