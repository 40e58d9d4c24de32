package bigmem

import "unsafe"

// hugePage is the size of a transparent huge page on the platforms aekit
// runs on (x86-64, arm64 with 4 KiB base pages), and the alignment of an
// Arena's block.
const hugePage = 2 << 20

// lineFloats is a cache line in float32 values: every slice an Arena
// returns starts on a 64-byte boundary.
const lineFloats = 64 / 4

// Arena hands out float32 slices carved from one block of memory, aligned
// on 2 MiB and advised, on Linux, to be backed by transparent huge pages:
// the buffers a training step reads and writes over and over (the
// batch, activations and gradients, packed weights, the optimizer's
// state), which in 4 KiB pages take a TLB miss for nearly every row a
// matrix product reads with a stride of a few KiB.
//
// A nil *Arena is valid and allocates every slice with make, as does an
// Arena whose block has no room left. An Arena is not safe for
// concurrent use; the slices it returns are, like any others.
type Arena struct {
	free []float32 // the block's values not handed out yet
}

// NewArena returns an arena whose block holds n float32 values, rounded
// up to whole 2 MiB pages, or nil (every slice from make) when n values
// are fewer than Threshold bytes: a smaller working set is covered by
// the TLB's entries for 4 KiB pages, and a 2 MiB page would make it
// resident in full. Memory of the block that is never written is never
// made resident.
func NewArena(n int) *Arena {
	if n < 0 || n > (1<<62)/4 {
		panic("bigmem: bad arena size")
	}
	if n*4 < Threshold {
		return nil
	}
	size := (n*4 + hugePage - 1) / hugePage * hugePage / 4
	raw := make([]float32, size+hugePage/4)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(raw)))
	lo := int((hugePage-start%hugePage)%hugePage) / 4
	block := raw[lo : lo+size : lo+size]
	advise(block)
	return &Arena{free: block}
}

// Float32s returns a zeroed slice of n values (n ≥ 0) with length and
// capacity n, from a's block, starting on a 64-byte boundary, when the
// block has room for them, else from make.
func (a *Arena) Float32s(n int) []float32 {
	if n < 0 {
		panic("bigmem: negative length")
	}
	step := (n + lineFloats - 1) / lineFloats * lineFloats
	if a == nil || n == 0 || step > len(a.free) {
		return make([]float32, n)
	}
	s := a.free[:n:n]
	a.free = a.free[step:]
	return s
}

// Left returns the number of values a's block still has room for (0 for
// a nil Arena).
func (a *Arena) Left() int {
	if a == nil {
		return 0
	}
	return len(a.free)
}
