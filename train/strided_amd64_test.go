//go:build amd64 && !purego

package train

import (
	"context"
	"math"
	"testing"

	"github.com/aekit/aekit/internal/kernel"
)

// TestThreadsIdenticalStridedGradient checks that training a model whose
// output layer's weight gradient runs through kernel.GemmAT (a 96-wide x
// against a 784-wide g, read in place) gives the same bits at 1, 2 and 3
// threads, the gradient's 128-column blocks split among them.
func TestThreadsIdenticalStridedGradient(t *testing.T) {
	if !kernel.StridedAsm() {
		t.Skip("no AVX-512 or AVX2 here: the strided kernel is not used")
	}
	x := randData(12, 600*784)
	var ref []float32
	var refLoss []float64
	for _, threads := range []int{1, 2, 3} {
		m, err := buildSpec(784, "96:relu|784:sigmoid", "", 1)
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

// TestStridedGradientMatchesFloat64 checks the weight gradient of deep's
// 128×784 output layer, computed by kernel.GemmAT, against the float64
// product xᵀ·g of the same batch: every element within 1e-5 of Σ|x·g|.
func TestStridedGradientMatchesFloat64(t *testing.T) {
	if !kernel.StridedAsm() {
		t.Skip("no AVX-512 or AVX2 here: the strided kernel is not used")
	}
	const rows = 256
	x := randData(13, rows*784)
	m, err := buildSpec(784, "128:relu,64:relu|128:relu,784:sigmoid", "", 1)
	if err != nil {
		t.Fatal(err)
	}
	nt, err := newNet(m, BinaryCrossentropy, rows, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer nt.close()
	last := nt.ops[len(nt.ops)-1]
	if !last.strideG {
		t.Fatalf("the 128×784 layer does not use the strided kernel")
	}
	xd := Slice(x, 784)
	if _, err := nt.batch(xd, xd, nil, 0, rows, true); err != nil {
		t.Fatal(err)
	}
	// last.g holds the loss gradient (the logits' buffer), last.x the
	// 128-wide input rows, after the batch.
	in, out := last.in, last.out
	for i := range in {
		for j := range out {
			var s, mag float64
			for r := range rows {
				p := float64(last.x[r*in+i]) * float64(last.g[r*out+j])
				s += p
				mag += math.Abs(p)
			}
			if d := math.Abs(float64(last.dw[i*out+j]) - s); d > 1e-5*mag {
				t.Fatalf("dw[%d][%d] = %g, float64 %g (|Σ| %g)", i, j, last.dw[i*out+j], s, mag)
			}
		}
	}
}

// TestStridedMatchesPacked checks that the ways packRule chooses between
// for the weight gradients of layers 32 wide or more — kernel.GemmAT
// reading x and g in place where the CPU runs it; elsewhere g packed
// (GemmPackedAT), or for a g wider than 128 on an x of 32–64 x packed and
// (δᵀ·x)ᵀ transposed into the gradient — train to the same bits over a
// few batches, at 1 and 2 threads, for models whose every layer takes one
// of them.
func TestStridedMatchesPacked(t *testing.T) {
	if !kernel.StridedAsm() {
		t.Skip("no AVX-512 or AVX2 here: the strided kernel is not used")
	}
	const rows, batch = 300, 100
	x := randData(17, rows*784)
	for _, spec := range []string{"32:relu|784:sigmoid", "48:relu|784:sigmoid", "64:relu,32:relu|64:relu,784:sigmoid"} {
		for _, threads := range []int{1, 2} {
			var ref []float32
			for _, strided := range []bool{true, false} {
				m, err := buildSpec(784, spec, "", 1)
				if err != nil {
					t.Fatal(err)
				}
				nt, err := newNetStrided(m, BinaryCrossentropy, batch, threads, strided)
				if err != nil {
					t.Fatal(err)
				}
				for i, o := range nt.ops {
					if o.dense && (o.strideG != strided || (o.packG || o.packXT) == strided) {
						t.Fatalf("%s strided=%v: layer %d has strideG %v, packG %v, packXT %v", spec, strided, i, o.strideG, o.packG, o.packXT)
					}
				}
				opt := &Adam{}
				slots := nt.newSlots(opt)
				xd := Slice(x, 784)
				idx := permutations(3, rows, 1)[0]
				for it := range rows / batch {
					nt.arm(opt, opt.consts(int64(it)), slots)
					if _, err := nt.batch(xd, xd, idx, it*batch, batch, true); err != nil {
						t.Fatal(err)
					}
				}
				w := append([]float32(nil), nt.params...)
				nt.close()
				if ref == nil {
					ref = w
					continue
				}
				sameBits(t, spec+" weights, packed x against strided", ref, w)
			}
		}
	}
}
