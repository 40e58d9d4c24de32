package train

import (
	"testing"
	"unsafe"
)

// TestNetArena checks that a net whose step buffers pass bigmem's
// threshold (deep's, 7 MB at 256 rows) takes them from its arena (the
// batch, every Dense layer's z and gradient, Adam's moments) and keeps
// the parameters, which the model holds after Fit, out of it; and that a
// smaller one (seed's, 784-32-784's 3.4 MB) has no arena.
func TestNetArena(t *testing.T) {
	for _, s := range benchModels {
		m, err := buildSpec(s.Width, s.Layers, "", 1)
		if err != nil {
			t.Fatal(err)
		}
		nt, err := newNet(m, BinaryCrossentropy, 256, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer nt.close()
		if s.Name != "deep" {
			if nt.arena != nil {
				t.Errorf("%s: %d parameters, an arena", s.Name, len(nt.params))
			}
			continue
		}
		if nt.arena == nil {
			t.Fatalf("%s: no arena", s.Name)
		}
		left := nt.arena.Left()
		slots := nt.newSlots(&Adam{})
		want := 0
		for _, v := range slots {
			want += len(v)
		}
		if got := left - nt.arena.Left(); got < want {
			t.Errorf("%s: Adam's moments took %d values of the arena, want %d", s.Name, got, want)
		}
		// Every buffer from the arena lies between two of its
		// addresses: after the block's start (the gradients, first)
		// and before what is left.
		lo := uintptr(unsafe.Pointer(&nt.grads[0]))
		hi := lo + uintptr(nt.arenaSize(len(nt.params), arenaSlots))*4
		in := func(what string, v []float32) {
			t.Helper()
			p := uintptr(unsafe.Pointer(&v[0]))
			if p < lo || p >= hi {
				t.Errorf("%s: %s at %#x, outside the arena [%#x, %#x)", s.Name, what, p, lo, hi)
			}
		}
		in("the batch", nt.xb)
		for _, v := range slots {
			in("a moment", v)
		}
		for _, o := range nt.ops {
			if o.dense {
				in("z of "+o.layer.Name, o.z)
				in("g of "+o.layer.Name, o.g)
			}
		}
		if p := uintptr(unsafe.Pointer(&nt.params[0])); p >= lo && p < hi {
			t.Errorf("%s: the parameters are in the arena", s.Name)
		}
	}
}

// TestArenaSize checks that arenaSize is what a net takes from its arena
// (with Adam's two moments), to the value, on nets whose buffers differ:
// logits or not, activations in place or not, noise and normalisation
// ops, frozen layers, narrow and wide layers (packRule's cases); 4096-row
// batches put even small models past the arena's threshold.
func TestArenaSize(t *testing.T) {
	for _, c := range []struct {
		width  int
		spec   string
		loss   Loss
		frozen int // 0: the encoder's first layer frozen, 1: the decoder, -1 none
	}{
		{784, "128:relu,64:relu,32:relu|64:relu,128:relu,784:sigmoid", BinaryCrossentropy, -1},
		{784, "32:relu|784:sigmoid", BinaryCrossentropy, -1},
		{100, "10:relu,10:relu|100:sigmoid,100:sigmoid", BinaryCrossentropy, -1},
		{64, "48:elu,16:tanh|48:elu,64:sigmoid", MeanSquaredError, -1},
		{64, "gaussian=0.1,48:relu:dropout=0.2,bn,16:relu|ln,48:relu,64:sigmoid", BinaryCrossentropy, -1},
		{200, "64:relu,32:relu|64:relu,200:linear", MeanAbsoluteError, 1},
		// The first layer frozen: the first op that trains is a
		// BatchNormalization, known as such before its parameters are
		// bound.
		{64, "48:relu,bn,16:relu|48:relu,64:sigmoid", BinaryCrossentropy, 0},
	} {
		m, err := buildSpec(c.width, c.spec, "", 1)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		switch c.frozen {
		case 0: // the encoder's first layer
			m.Layers[0].Sub.Layers[0].Frozen = true
		case 1: // the decoder
			m.Layers[1].Frozen = true
		}
		nt, err := newNet(m, c.loss, 4096, 1)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if c.frozen == 0 && nt.ops[nt.firstParams].norm == nil {
			t.Errorf("%s: the first op that trains is %d, not the BatchNormalization", c.spec, nt.firstParams)
		}
		nt.newSlots(&Adam{})
		size := nt.arenaSize(len(nt.params), arenaSlots)
		if nt.arena == nil {
			t.Fatalf("%s: no arena for %d values", c.spec, size)
		}
		if left := nt.arena.Left(); left != 0 {
			t.Errorf("%s: the net took %d values from its arena, arenaSize says %d", c.spec, size-left, size)
		}
		nt.close()
	}
}
