package kernel

import "github.com/aekit/aekit/internal/kernel/tile"

// RowAsm reports whether GemmRow runs an assembly kernel here (AVX2 with
// FMA, without the purego tag); without one it runs a pure-Go loop, slower
// than Gemm's sgemv.
func RowAsm() bool { return tile.Has256 }

// GemmRow computes columns j0 … j1−1 of the one-row product c = x·B, for x
// of k values and B k×n stored row-major with row stride ldb, into
// c[0:j1−j0], never reading c: a Dense layer's product for a single
// sample, its kernel read where it is (no packing), in blocks of 64
// columns.
//
// With the assembly kernel every element is one chain of float32 fused
// multiply-adds over l = 0 … k−1 starting from 0 (the pure-Go loop
// multiplies and adds, in the same order), whatever j0 and j1, so
// splitting the columns among threads does not change a bit. It does not
// allocate, and panics when a slice is too short for its shape.
func GemmRow(k int, x []float32, b []float32, ldb int, j0, j1 int, c []float32) {
	if k < 0 || j0 < 0 || j1 < j0 {
		panic("kernel: bad GemmRow dimension")
	}
	if j1 == j0 {
		return
	}
	if ldb < j1 {
		panic("kernel: bad leading dimension")
	}
	if len(c) < j1-j0 {
		panic("kernel: short C")
	}
	if k == 0 {
		clear(c[:j1-j0])
		return
	}
	if len(x) < k {
		panic("kernel: short A")
	}
	if len(b) < (k-1)*ldb+j1 {
		panic("kernel: short B")
	}
	if !tile.Has256 {
		for j := j0; j < j1; j++ {
			var s float32
			for l, v := range x[:k] {
				s += float32(v * b[l*ldb+j])
			}
			c[j-j0] = s
		}
		return
	}
	j := j0
	for ; j+64 <= j1; j += 64 {
		tile.RowS256(&x[0], &b[j], ldb, k, &c[j-j0], 64, nil)
	}
	for ; j < j1; j += 32 {
		cols := min(32, j1-j)
		tile.RowS256(&x[0], &b[j], ldb, k, &c[j-j0], cols, lanes(cols))
	}
}
