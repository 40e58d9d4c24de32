package train

import (
	"testing"
	"unsafe"
)

// TestNetArena checks that a net too large for the TLB's 4 KiB entries
// takes its step buffers from its arena (the batch, every Dense layer's z
// and gradient, Adam's moments) and keeps the parameters, which the model
// holds after Fit, out of it; and that a small net has no arena.
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
		if s.Name == "seed" {
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
		hi := lo + uintptr(nt.arenaSize(len(nt.params)))*4
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
