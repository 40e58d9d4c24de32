package bigmem

// hugePage is the size of a transparent huge page on the platforms aekit
// runs on (x86-64, arm64 with 4 KiB base pages).
const hugePage = 2 << 20

// lineFloats is a cache line in float32 values: every slice an Arena
// returns starts on a 64-byte boundary.
const lineFloats = 64 / 4

// Arena hands out float32 slices carved from one block of memory whose
// whole 2 MiB pages are advised, on Linux, to be backed by transparent
// huge pages:
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

// NewArena returns an arena whose block holds exactly n float32 values,
// as Float32s(n) would allocate them, or nil (every slice from make) when
// they are fewer than Threshold bytes: a smaller working set is covered
// by the TLB's entries for 4 KiB pages. The block is not rounded or
// aligned to huge pages: its whole 2 MiB pages are huge, the parts before
// the first and after the last (under 2 MiB each) stay in 4 KiB pages,
// so that the block takes no more memory, resident or counted by the
// garbage collector, than the slices carved from it. (Aligning it took
// up to 4 MiB more, and 10 MB more peak RSS training the deep benchmark
// model on 6,000 rows, for about 2% more speed.)
func NewArena(n int) *Arena {
	if n < 0 || n > (1<<62)/4 {
		panic("bigmem: bad arena size")
	}
	if n*4 < Threshold {
		return nil
	}
	block := Float32s(n)
	return &Arena{free: block}
}

// Float32s returns a zeroed slice of n values (n ≥ 0) with length and
// capacity n, from a's block, starting on a 64-byte boundary, when the
// block has room for them, else from make.
func (a *Arena) Float32s(n int) []float32 {
	if n < 0 {
		panic("bigmem: negative length")
	}
	step := ArenaLen(n)
	if a == nil || n == 0 || step > len(a.free) {
		return make([]float32, n)
	}
	s := a.free[:n:n]
	a.free = a.free[step:]
	return s
}

// ArenaLen returns the values Float32s(n) takes from an arena's block:
// n rounded up to a whole number of cache lines, so that the next slice
// starts on one. A caller sizing an arena (NewArena) adds it up over the
// slices it will ask for.
func ArenaLen(n int) int {
	return (n + lineFloats - 1) / lineFloats * lineFloats
}

// Left returns the number of values a's block still has room for (0 for
// a nil Arena).
func (a *Arena) Left() int {
	if a == nil {
		return 0
	}
	return len(a.free)
}
