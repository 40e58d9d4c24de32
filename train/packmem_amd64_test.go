//go:build amd64 && !purego

package train

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aekit/aekit/internal/kernel"
	"github.com/aekit/aekit/runtime"
)

// packedHeld returns the float32 values p holds.
func packedHeld(p *kernel.Packed) int {
	if p.K() == 0 && p.N() == 0 {
		return 0
	}
	nr := p.Panel()
	return p.K() * ((p.N() + nr - 1) / nr) * nr
}

// TestCheckSizeCountsPackedCopies checks that the memory bound checkSize
// applies counts what newNet packs: for the benchmark models and a model
// with narrow layers, the packed kernels, their transposes and the packed
// rows of g or x (and packXT's transposed gradient) that newNet allocates
// are at most packedValues' count, which is what checkSize adds.
func TestCheckSizeCountsPackedCopies(t *testing.T) {
	if !kernel.PackedAsm() {
		t.Skip("no packed kernels here: training packs nothing")
	}
	const maxB = 256
	for _, c := range []struct {
		in   int
		spec string
	}{
		{784, "128:relu,64:relu,32:relu|64:relu,128:relu,784:sigmoid"},
		{784, "32:relu|784:sigmoid"},
		{784, "48:relu|784:sigmoid"},
		{100, "10:relu,10:relu|100:sigmoid,100:sigmoid"},
	} {
		m, err := buildSpec(c.in, c.spec, "", 1)
		if err != nil {
			t.Fatal(err)
		}
		nt, err := newNet(m, BinaryCrossentropy, maxB, 1)
		if err != nil {
			t.Fatal(err)
		}
		held, counted := 0, 0
		for _, o := range nt.ops {
			if !o.dense {
				continue
			}
			held += packedHeld(&o.pw) + packedHeld(&o.pwT) + packedHeld(&o.pg) + packedHeld(&o.px) + len(o.dwT)
			fixed, perRow := packedValues(o.in, o.out)
			counted += fixed + perRow*maxB
		}
		nt.close()
		if held == 0 || held > counted {
			t.Errorf("%d-%s: newNet packs %d values, checkSize counts %d", c.in, c.spec, held, counted)
		}
	}
}

// TestCheckSizePackedLimit checks that a model whose parameters and
// batches fit but whose packed copies do not (1 → 2²² → 1: the transposed
// kernel of the hidden layer and the packed kernel of the output layer
// pad a 1-wide side to a 32-wide panel, 2²⁷ values each) is refused with
// an error naming the layer, before anything is allocated.
func TestCheckSizePackedLimit(t *testing.T) {
	const units = 1 << 22
	m := &runtime.Model{Name: "narrow", Class: "Sequential", Input: []int{1}, Layers: []*runtime.Layer{
		{Name: "hidden", Type: runtime.Dense, Class: "Dense", In: 1, Units: units,
			Kernel: make([]float32, units), Bias: make([]float32, units), Act: runtime.Act(runtime.ReLU)},
		{Name: "out", Type: runtime.Dense, Class: "Dense", In: units, Units: 1,
			Kernel: make([]float32, units), Bias: make([]float32, 1), Act: runtime.Act(runtime.Sigmoid)},
	}}
	x := randData(5, 4)
	_, err := Fit(context.Background(), m, set(x, nil, 4), Set{}, Config{Epochs: 1, BatchSize: 4})
	if !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), `layer "out"`) || !strings.Contains(err.Error(), "packed copies") {
		t.Fatalf("got %v, want ErrModel naming layer \"out\" and its packed copies", err)
	}
}
